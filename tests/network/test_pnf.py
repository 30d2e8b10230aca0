"""PNF v1 reading and writing: folders, .pnfz bundles, byte-for-byte round trips."""

from __future__ import annotations

import csv
import io
import json
import shutil
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from parcelnet.errors import ValidationError
from parcelnet.network.pnf import load_network, read_bundle, read_tables, write_bundle, write_pnf
from parcelnet.network.schema import COLUMNS, FILES
from parcelnet.promise import PromiseEngine
from tests.conftest import FIXTURES

TINY = FIXTURES / "tiny"


# -- helpers -------------------------------------------------------------------------------
def read_rows(path: Path) -> list[list[str]]:
    """The file parsed by the csv module: an oracle independent of pandas."""
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.reader(fh))


def csv_line(row: list[str]) -> str:
    """Canonical PNF CSV, written by hand: a field is quoted when it holds a comma, a quote
    or a line break (\\r or \\n), quotes are doubled, every line ends with \\n."""
    return ",".join('"' + f.replace('"', '""') + '"' if any(c in f for c in ',"\r\n') else f
                    for f in row) + "\n"


def write_rows(path: Path, rows: list[list[str]]) -> None:
    path.write_bytes("".join(map(csv_line, rows)).encode("utf-8"))


def same_files(a: Path, b: Path, names) -> None:
    for name in names:
        assert (b / name).read_bytes() == (a / name).read_bytes(), name


def table_values(net, name: str) -> list[list[str]]:
    df = net.tables[name]
    return [list(map(str, df.columns))] + [list(map(str, r)) for r in df.itertuples(index=False)]


def make_rich(folder: Path) -> Path:
    """tiny, with the awkward bits a real file has: extra columns (first, middle and last),
    zero-padded ids ("007"), commas, quotes, line breaks and Chinese in names, numbers
    written in non-canonical ways, empty and 'NA'-like values, rows in a scrambled order,
    and meta files next to the tables."""
    folder.mkdir(parents=True)
    ren = {"A": "007", "H1": "0H1", "T4": "0004", "p2": "002"}

    def r(x: str) -> str:
        return ren.get(x, x)

    fac = read_rows(TINY / "facilities.csv")
    fac[0] = ["region"] + fac[0] + ["tier"]
    extra_fac = {"A": ("浙江", "last_mile"), "H1": ("Zhejiang, East", "hub"),
                 "H2": ('North "Capital"', "NA"), "B": ("北京", ""), "C": ("", "null")}
    names = {"A": "站 A, 杭州", "H1": 'Hub "One"', "H2": "Hub\nTwo", "B": "  Station B  ",
             "C": "拉萨站"}
    body = []
    for row in fac[1:]:
        fid = row[0]
        row = [r(fid)] + row[1:]
        row[2] = names[fid]
        if fid == "H2":
            row[3] = "39.900"  # trailing zeros must survive (values are strings)
        body.append([extra_fac[fid][0]] + row + [extra_fac[fid][1]])
    fac = [fac[0]] + body[::-1]  # reversed row order must be kept
    write_rows(folder / "facilities.csv", fac)

    lan = read_rows(TINY / "lanes.csv")
    lan[0] = lan[0][:4] + ["note"] + lan[0][4:]
    notes = ["", "overnight, slow", '"fast"', "夜班", "NULL", "1e3"]
    lan = [lan[0]] + [[row[0], r(row[1]), r(row[2]), row[3], n] + row[4:]
                      for row, n in zip(lan[1:], notes)]
    lan = [lan[0]] + lan[1:][2:] + lan[1:][:2]
    write_rows(folder / "lanes.csv", lan)

    tri = read_rows(TINY / "trips.csv")
    tri = [tri[0] + ["vehicle"]] + [[r(row[0])] + row[1:] + [f"V-{i:03d}"]
                                    for i, row in enumerate(tri[1:])]
    write_rows(folder / "trips.csv", tri)

    wav = read_rows(TINY / "waves.csv")
    wav = [wav[0] + ["label"]] + [[r(row[0])] + row[1:] + [lbl]
                                  for row, lbl in zip(wav[1:], ["早", "morning", "afternoon, late", ""])]
    write_rows(folder / "waves.csv", wav)

    pla = read_rows(TINY / "places.csv")
    pla = [pla[0] + ["pinyin"]] + [[r(row[0]), row[1] + (", 中国" if i else ""), *row[2:7], r(row[7]),
                                    f"town-{i}"] for i, row in enumerate(pla[1:])]
    pla[2][1] = 'Town "B"'
    write_rows(folder / "places.csv", pla)

    (folder / "build.json").write_text(json.dumps({"country": "XX", "seed": 7, "名字": "测试"},
                                                  ensure_ascii=False) + "\n", encoding="utf-8")
    (folder / "NOTES.md").write_text("# notes\nline two, with a comma\n", encoding="utf-8")
    return folder


@pytest.fixture
def rich(tmp_path) -> Path:
    return make_rich(tmp_path / "rich")


# -- loading -------------------------------------------------------------------------------
def test_tiny_summary(tiny):
    assert tiny.summary() == {"hubs": 2, "stations": 3, "lanes": 6, "trips": 7, "places": 3,
                              "population": 3_500_000}
    assert list(tiny.facility_index) == ["A", "H1", "H2", "B", "C"]
    assert list(tiny.lane_index) == ["L1", "L2", "L3", "L4", "L5", "L6"]
    assert tiny.meta == {}


def test_tables_are_the_files_as_strings(tiny):
    for name in FILES:
        assert table_values(tiny, name) == read_rows(TINY / name), name
        assert list(tiny.tables[name].columns[:len(COLUMNS[name])]) == list(COLUMNS[name])


def test_timetable_arrays(tiny):
    tt = tiny.timetable
    assert tt.process.tolist() == [10, 30, 30, 10, 10]
    assert tt.lane_duration.tolist() == [60, 900, 90, 60, 3000, 900]
    assert tt.trip_departure.tolist() == [1080, 1260, 1350, 300, 720, 1200, 60]
    assert tt.trip_capacity.tolist() == [500, 2000, 300, 800, 800, 100, 2000]
    assert tiny.place_population.tolist() == [1_000_000, 2_000_000, 500_000]
    # waves grouped per station, sorted by start
    b = tiny.facility("B")
    assert tt.wave_start[tt.wave_ptr[b]:tt.wave_ptr[b + 1]].tolist() == [480, 840]


# -- folder -> folder ---------------------------------------------------------------------
def test_write_pnf_reproduces_tiny_byte_for_byte(tiny, tmp_path):
    out = write_pnf(tiny, tmp_path / "out")
    assert sorted(p.name for p in out.iterdir()) == sorted(FILES)
    same_files(TINY, out, FILES)


def test_write_pnf_reproduces_a_rich_folder(rich, tmp_path):
    out = write_pnf(load_network(rich), tmp_path / "out")
    same_files(rich, out, [*FILES, "build.json", "NOTES.md"])


def test_rich_values_are_kept_as_written(rich):
    net = load_network(rich)
    for name in FILES:
        assert table_values(net, name) == read_rows(rich / name), name
    fac = net.facilities
    assert list(fac.columns) == ["region", *COLUMNS["facilities.csv"], "tier"]
    assert list(net.lanes.columns) == ["lane_id", "from_facility", "to_facility", "mode", "note",
                                       "duration_minutes", "distance_km", "cost_per_trip"]
    assert fac["facility_id"].tolist() == ["C", "B", "H2", "0H1", "007"]
    row = fac.set_index("facility_id").loc["H2"]
    assert (row["lat"], row["name"], row["region"], row["tier"]) == ("39.900", "Hub\nTwo",
                                                                     'North "Capital"', "NA")
    assert fac.set_index("facility_id").loc["B", "name"] == "  Station B  "
    assert fac.set_index("facility_id").loc["C", "tier"] == "null"
    assert net.lanes["note"].tolist()[-2:] == ["", "overnight, slow"]
    assert net.tables["trips.csv"]["trip_id"].tolist()[3] == "0004"
    assert "007" in net.facility_index and 7 not in list(net.facility_index)
    assert set(net.meta) == {"build.json", "NOTES.md"}


def test_rich_network_answers_like_tiny(rich, tiny):
    """Renaming, reordering and extra columns change nothing about the network itself."""
    a, b = PromiseEngine(load_network(rich)), PromiseEngine(tiny)
    p = a.query("007", "B", 1000)
    assert (p.promise_minute, p.path) == (2100, ("L1", "L3", "L4"))
    for o, o2 in (("007", "A"), ("0H1", "H1"), ("H2", "H2")):
        for d, d2 in (("007", "A"), ("B", "B"), ("C", "C")):
            for t in (0, 600, 1075, 2000):
                assert a.query(o, d, t).promise_minute == b.query(o2, d2, t).promise_minute


# -- bundles --------------------------------------------------------------------------------
def test_tiny_bundle_round_trip(tiny, tmp_path):
    path = write_bundle(tiny, tmp_path / "tiny.pnfz")
    assert path == tmp_path / "tiny.pnfz" and path.is_file()
    assert [p.name for p in tmp_path.iterdir()] == ["tiny.pnfz"]  # no temporary file left
    with zipfile.ZipFile(path) as z:
        manifest = json.loads(z.read("manifest.json"))
    assert manifest["format"] == "PNF v1"
    back = read_bundle(path)
    assert back.summary() == tiny.summary()
    same_files(TINY, write_pnf(back, tmp_path / "out"), FILES)


def test_rich_folder_bundle_folder_byte_for_byte(rich, tmp_path):
    net = load_network(rich)
    bundle = write_bundle(net, tmp_path / "b" / "rich.pnfz")  # parent folder is created
    back = read_bundle(bundle)
    for name in FILES:
        assert table_values(back, name) == table_values(net, name) == read_rows(rich / name), name
    assert back.meta == net.meta
    out = write_pnf(back, tmp_path / "out")
    same_files(rich, out, [*FILES, "build.json", "NOTES.md"])
    assert sorted(p.name for p in out.iterdir()) == sorted([*FILES, "build.json", "NOTES.md"])


def test_meta_files_travel_through_the_bundle(tmp_path):
    folder = tmp_path / "net"
    shutil.copytree(TINY, folder)
    text = '{"country": "CN", "params": {"hubs": 40}, "note": "中文"}\n'
    (folder / "build.json").write_text(text, encoding="utf-8")
    net = load_network(folder)
    assert net.meta == {"build.json": text}
    back = load_network(write_bundle(net, tmp_path / "net.pnfz"))
    assert back.meta == {"build.json": text}
    assert (write_pnf(back, tmp_path / "out") / "build.json").read_text(encoding="utf-8") == text


def test_load_network_accepts_folder_and_bundle(tiny, tmp_path):
    bundle = write_bundle(tiny, tmp_path / "t.pnfz")
    for src in (TINY, str(TINY), bundle, str(bundle)):
        net = load_network(src)
        assert net.summary() == tiny.summary()
        assert PromiseEngine(net).query("A", "B", 1000).promise_minute == 2100


def test_bundle_overwrites_an_older_bundle(tiny, rich, tmp_path):
    path = tmp_path / "x.pnfz"
    write_bundle(load_network(rich), path)
    write_bundle(tiny, path)
    assert table_values(read_bundle(path), "facilities.csv") == read_rows(TINY / "facilities.csv")
    assert read_bundle(path).meta == {}


def test_read_tables_returns_strings_only(rich):
    tables, meta = read_tables(rich)
    assert set(tables) == set(FILES) and set(meta) == {"build.json", "NOTES.md"}
    for df in tables.values():
        assert all(isinstance(x, str) for col in df.columns for x in df[col])


# -- bad bundles and paths -----------------------------------------------------------------
def test_missing_bundle(tmp_path):
    with pytest.raises(ValidationError, match="missing") as e:
        load_network(tmp_path / "nope.pnfz")
    assert "nope.pnfz" in str(e.value)


def test_not_a_bundle(tmp_path):
    (tmp_path / "junk.pnfz").write_text("not a zip")
    with pytest.raises(ValidationError, match="not a parcelnet bundle") as e:
        load_network(tmp_path / "junk.pnfz")
    assert "junk.pnfz" in str(e.value) and "\n" not in str(e.value)


def test_bundle_missing_a_table(tiny, tmp_path):
    good = write_bundle(tiny, tmp_path / "good.pnfz")
    bad = tmp_path / "bad.pnfz"
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(bad, "w") as zout:
        for item in zin.namelist():
            if item != "trips.parquet":
                zout.writestr(item, zin.read(item))
    with pytest.raises(ValidationError, match="not a parcelnet bundle"):
        read_bundle(bad)


def test_bundle_of_another_format_version(tiny, tmp_path):
    good = write_bundle(tiny, tmp_path / "good.pnfz")
    bad = tmp_path / "v9.pnfz"
    with zipfile.ZipFile(good) as zin, zipfile.ZipFile(bad, "w") as zout:
        for item in zin.namelist():
            data = zin.read(item)
            if item == "manifest.json":
                data = json.dumps({**json.loads(data), "format": "PNF v9"}).encode()
            zout.writestr(item, data)
    with pytest.raises(ValidationError, match="unsupported format 'PNF v9'"):
        read_bundle(bad)


def test_bundle_content_is_validated_like_a_folder(tiny, tmp_path):
    """A bundle is checked on load with the same line numbers as the folder it came from."""
    from types import SimpleNamespace
    tables = {k: v.copy() for k, v in tiny.tables.items()}
    tables["trips.csv"].loc[2, "departure_minute"] = "1440"
    path = write_bundle(SimpleNamespace(tables=tables, meta={}), tmp_path / "bad.pnfz")
    with pytest.raises(ValidationError) as e:
        read_bundle(path)
    assert (e.value.file, e.value.row, e.value.field) == ("trips.csv", 4, "departure_minute")


def test_missing_folder(tmp_path):
    with pytest.raises(ValidationError, match="not a PNF folder"):
        load_network(tmp_path / "nowhere")


# -- property: any text in names and extra columns survives both round trips ----------------
_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(names=st.lists(_text, min_size=5, max_size=5), extra=st.lists(_text, min_size=5, max_size=5),
       place=_text)
def test_any_text_round_trips(tmp_path_factory, names, extra, place):
    d = tmp_path_factory.mktemp("prop")
    folder = d / "net"
    shutil.copytree(TINY, folder)
    fac = read_rows(TINY / "facilities.csv")
    fac = [fac[0] + ["extra"]] + [row[:2] + [n] + row[3:] + [x] for row, n, x in zip(fac[1:], names, extra)]
    write_rows(folder / "facilities.csv", fac)
    pla = read_rows(TINY / "places.csv")
    pla[1][1] = place
    write_rows(folder / "places.csv", pla)

    net = load_network(folder)
    assert table_values(net, "facilities.csv") == fac
    assert table_values(net, "places.csv") == pla
    same_files(folder, write_pnf(net, d / "out1"), FILES)
    back = read_bundle(write_bundle(net, d / "n.pnfz"))
    same_files(folder, write_pnf(back, d / "out2"), FILES)


def test_csv_line_agrees_with_the_csv_module():
    """Sanity check of the test helper on values without a carriage return."""
    row = ["a,b", 'q"q', "", " s ", "x\ny", "中文", "007"]
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(row)
    assert csv_line(row) == buf.getvalue() == '"a,b","q""q",, s ,"x\ny",中文,007\n'


def test_carriage_return_in_a_value_survives_export(tmp_path):
    """A quoted value with a bare \\r must be written quoted, else it reads back as a line break."""
    folder = tmp_path / "net"
    shutil.copytree(TINY, folder)
    fac = read_rows(TINY / "facilities.csv")
    fac[3][2] = "Hub\rTwo"
    write_rows(folder / "facilities.csv", fac)
    assert b'"Hub\rTwo"' in (folder / "facilities.csv").read_bytes()
    net = load_network(folder)
    assert net.facilities["name"].tolist()[2] == "Hub\rTwo"
    out = write_pnf(net, tmp_path / "out")
    same_files(folder, out, FILES)
    assert load_network(out).facilities["name"].tolist()[2] == "Hub\rTwo"


def test_a_failed_write_keeps_the_old_network(tiny, tmp_path, monkeypatch):
    from parcelnet.network import pnf
    out = tmp_path / "net"
    pnf.write_pnf(tiny, out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    calls = []

    def boom(df, path):
        calls.append(path)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        df.to_csv(path, index=False)
    monkeypatch.setattr(pnf, "write_csv", boom)
    with pytest.raises(OSError):
        pnf.write_pnf(tiny, out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before   # no temp files, nothing changed

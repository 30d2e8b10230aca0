"""Invalid PNF input: one ValidationError naming file, line (header = 1), field and reason.

Every case copies tiny and changes ONE thing, then checks the message and the attributes.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from parcelnet.errors import ParcelnetError, ValidationError
from parcelnet.network.pnf import load_network
from tests.conftest import FIXTURES

TINY = FIXTURES / "tiny"


# -- edits ----------------------------------------------------------------------------------
def replace(file: str, old: str, new: str):
    def edit(folder: Path) -> None:
        p = folder / file
        text = p.read_text(encoding="utf-8")
        assert text.count(old) == 1, f"test edit {old!r} is ambiguous or missing in {file}"
        p.write_text(text.replace(old, new), encoding="utf-8")
    return edit


def delete(file: str):
    return lambda folder: (folder / file).unlink()


def content(file: str, data: bytes):
    return lambda folder: (folder / file).write_bytes(data)


def append(file: str, line: str):
    def edit(folder: Path) -> None:
        with (folder / file).open("a", encoding="utf-8") as fh:
            fh.write(line)
    return edit


def drop_column(file: str, col: str):
    def edit(folder: Path) -> None:
        p = folder / file
        lines = p.read_text(encoding="utf-8").splitlines()
        k = lines[0].split(",").index(col)
        p.write_text("".join(",".join(x for j, x in enumerate(line.split(",")) if j != k) + "\n"
                             for line in lines), encoding="utf-8")
    return edit


def bytes_replace(file: str, old: bytes, new: bytes):
    def edit(folder: Path) -> None:
        p = folder / file
        data = p.read_bytes()
        assert data.count(old) == 1
        p.write_bytes(data.replace(old, new))
    return edit


def add_to_every_row(file: str, suffix: str):
    def edit(folder: Path) -> None:
        p = folder / file
        lines = p.read_text(encoding="utf-8").splitlines()
        p.write_text("\n".join([lines[0]] + [x + suffix for x in lines[1:]]) + "\n", encoding="utf-8")
    return edit


# (id, edit, file, line, field, reason words)  -- line/field None: the message has none
CASES = [
    ("missing file", delete("trips.csv"), "trips.csv", None, None, "missing"),
    ("empty file", content("waves.csv", b""), "waves.csv", 1, None, "empty"),
    ("blank lines only", content("waves.csv", b"\n\n"), "waves.csv", 1, None, "empty"),
    ("missing column", drop_column("lanes.csv", "cost_per_trip"), "lanes.csv", 1, "cost_per_trip",
     "missing column"),
    ("missing places column", drop_column("places.csv", "station_id"), "places.csv", 1, "station_id",
     "missing column"),
    ("unknown from_facility", replace("lanes.csv", "L4,H2,B", "L4,HX,B"), "lanes.csv", 5,
     "from_facility", "unknown facility 'HX'"),
    ("unknown to_facility", replace("lanes.csv", "L5,H1,C", "L5,H1,c"), "lanes.csv", 6,
     "to_facility", "unknown facility 'c'"),
    ("duplicate facility_id", replace("facilities.csv", "C,station", "B,station"), "facilities.csv", 6,
     "facility_id", "duplicate id 'B' (first at line 5)"),
    ("duplicate lane_id", replace("lanes.csv", "L6,", "L2,"), "lanes.csv", 7, "lane_id",
     "duplicate id 'L2' (first at line 3)"),
    ("empty id", replace("places.csv", "p3,", ","), "places.csv", 4, "place_id", "empty id"),
    ("negative process_minutes", replace("facilities.csv", "0,30\nH2", "0,-30\nH2"), "facilities.csv", 3,
     "process_minutes", "negative"),
    ("negative sort_per_minute", replace("facilities.csv", "116.3,0,", "116.3,-1,"), "facilities.csv", 5,
     "sort_per_minute", "negative"),
    ("fractional duration", replace("lanes.csv", ",air,90,", ",air,12.5,"), "lanes.csv", 4,
     "duration_minutes", "'12.5' is not an integer"),
    ("text duration", replace("lanes.csv", ",air,90,", ",air,abc,"), "lanes.csv", 4,
     "duration_minutes", "'abc' is not an integer"),
    ("empty duration", replace("lanes.csv", ",air,90,", ",air,,"), "lanes.csv", 4,
     "duration_minutes", "not an integer"),
    ("zero duration", replace("lanes.csv", ",air,90,", ",air,0,"), "lanes.csv", 4,
     "duration_minutes", "minimum 1"),
    ("departure 1440", replace("trips.csv", "T4,L4,300", "T4,L4,1440"), "trips.csv", 5,
     "departure_minute", "maximum 1439"),
    ("departure negative", replace("trips.csv", "T4,L4,300", "T4,L4,-1"), "trips.csv", 5,
     "departure_minute", "negative"),
    ("capacity 0", replace("trips.csv", "T5,L4,720,800", "T5,L4,720,0"), "trips.csv", 6, "capacity",
     "minimum 1"),
    ("unknown lane in trips", replace("trips.csv", "T7,L6", "T7,L9"), "trips.csv", 8, "lane_id",
     "unknown lane 'L9'"),
    ("lane without trips", replace("trips.csv", "T6,L5,1200,100\n", ""), "lanes.csv", 6, "lane_id",
     "no trips"),
    ("station without waves", replace("waves.csv", "C,600,240\n", ""), "facilities.csv", 6,
     "facility_id", "no delivery waves"),
    ("wave on a hub", append("waves.csv", "H1,600,60\n"), "waves.csv", 6, "station_id",
     "'H1' is not a station"),
    ("wave at an unknown station", append("waves.csv", "Z,600,60\n"), "waves.csv", 6, "station_id",
     "unknown facility 'Z'"),
    ("wave start 1440", replace("waves.csv", "C,600", "C,1440"), "waves.csv", 5, "start_minute",
     "maximum 1439"),
    ("negative wave duration", replace("waves.csv", "B,840,120", "B,840,-120"), "waves.csv", 4,
     "duration_minutes", "negative"),
    ("place at a hub", replace("places.csv", "Beijing,Beijing,B", "Beijing,Beijing,H2"), "places.csv", 3, "station_id",
     "'H2' is not a station"),
    ("place at an unknown station", replace("places.csv", "Lhasa,C", "Lhasa,Q"), "places.csv", 4,
     "station_id", "unknown facility 'Q'"),
    ("population in scientific notation", replace("places.csv", "2000000", "2e6"), "places.csv", 3,
     "population", "not an integer"),
    ("bad kind", replace("facilities.csv", "H2,hub", "H2,Hub"), "facilities.csv", 4, "kind",
     "'Hub' is not one of warehouse, hub, station, store, pickup_point"),
    ("bad mode", replace("lanes.csv", ",air,", ",plane,"), "lanes.csv", 4, "mode",
     "'plane' is not one of truck, air, rail, van"),
    ("lat 91", replace("facilities.csv", "39.9,116.4", "91,116.4"), "facilities.csv", 4, "lat",
     "maximum 90"),
    ("lon -181", replace("places.csv", "29.6,91.1", "29.6,-181"), "places.csv", 4, "lon",
     "minimum -180"),
    ("lat text", replace("facilities.csv", "30.2,120.1", "north,120.1"), "facilities.csv", 3, "lat",
     "'north' is not a number"),
    ("lat nan", replace("facilities.csv", "30.2,120.1", "nan,120.1"), "facilities.csv", 3, "lat",
     "not a number"),
    ("negative distance", replace("lanes.csv", "3800.0", "-3800.0"), "lanes.csv", 6, "distance_km",
     "minimum 0"),
    ("duplicate column header", replace("trips.csv", "departure_minute,capacity\n",
                                        "departure_minute,capacity,lane_id\n"), "trips.csv", 1,
     "lane_id", "duplicate column 'lane_id'"),
    ("non-UTF-8 bytes", bytes_replace("places.csv", b"Town B", b"Town \xff\xfe B"),
     "places.csv", 3, "name", "UTF-8"),
    ("non-UTF-8 header", bytes_replace("trips.csv", b"capacity", b"capacit\xe9"), "trips.csv", 1, None,
     "not UTF-8 text (byte 0xe9)"),
    ("non-UTF-8 in the last column", bytes_replace("waves.csv", b"C,600,240", b"C,600,24\x80"),
     "waves.csv", 5, "duration_minutes", "UTF-8"),
    ("latin-1 text", bytes_replace("facilities.csv", b"Hub Two", "Hüb Two".encode("latin-1")),
     "facilities.csv", 4, "name", "UTF-8"),
    ("self-loop lane", replace("lanes.csv", "L4,H2,B", "L4,H2,H2"), "lanes.csv", 5, "to_facility",
     "two different facilities"),
    ("integer too large", replace("facilities.csv", "0,30\nH2", "0,99999999999999999999\nH2"),
     "facilities.csv", 3, "process_minutes", "too large"),
    ("row with an extra field", append("lanes.csv", "L7,A,H1,van,60,25.0,300,oops\n"), "lanes.csv", 8,
     None, "8 fields, but the header has 7"),
    ("every row with an extra field", add_to_every_row("waves.csv", ",x"), "waves.csv", 2, None,
     "4 fields, but the header has 3"),
    ("unclosed quote", replace("facilities.csv", "Hub One", '"Hub One'), "facilities.csv", 3, None,
     "never closed"),
]


@pytest.fixture
def broken(tmp_path, request):
    folder = tmp_path / "net"
    shutil.copytree(TINY, folder)
    request.param(folder)
    return folder


@pytest.mark.parametrize("broken, file, line, field, reason",
                         [pytest.param(e, f, ln, fd, r, id=i) for i, e, f, ln, fd, r in CASES],
                         indirect=["broken"])
def test_rejected_with_one_clear_message(broken, file, line, field, reason):
    with pytest.raises(ValidationError) as info:
        load_network(broken)
    e = info.value
    msg = str(e)
    assert isinstance(e, ParcelnetError) and isinstance(e, ValueError)
    assert (e.file, e.row, e.field) == (file, line, field)
    assert reason in e.reason and reason in msg
    assert "\n" not in msg and "Traceback" not in msg
    assert msg.startswith(file)
    if line is None:
        assert not re.search(r"\bline \d+", msg.split(":")[0])
    else:
        assert f"line {line}," in msg or f"line {line}:" in msg
    if field is not None:
        assert f"field '{field}'" in msg
    # the fixed layout: "FILE[, line N][, field 'F']: REASON"
    where = ", ".join([file] + ([f"line {line}"] if line else []) + ([f"field '{field}'"] if field else []))
    assert msg == f"{where}: {e.reason}"


def test_the_untouched_copy_is_valid(tmp_path):
    """The cases above fail because of their one edit, not because of the copy."""
    folder = tmp_path / "net"
    shutil.copytree(TINY, folder)
    assert load_network(folder).summary()["lanes"] == 6


def test_the_first_bad_row_is_reported(tmp_path):
    folder = tmp_path / "net"
    shutil.copytree(TINY, folder)
    p = folder / "trips.csv"
    p.write_text(p.read_text().replace("T3,L3,1350", "T3,L3,2000").replace("T6,L5,1200", "T6,L5,3000"))
    with pytest.raises(ValidationError) as e:
        load_network(folder)
    assert e.value.row == 4


def test_value_with_a_line_break_stays_on_one_line_in_the_error(tmp_path):
    folder = tmp_path / "net"
    shutil.copytree(TINY, folder)
    replace("facilities.csv", "H1,hub", 'H1,"hu\nb"')(folder)
    with pytest.raises(ValidationError) as e:
        load_network(folder)
    assert (e.value.file, e.value.row, e.value.field) == ("facilities.csv", 3, "kind")
    # the exception keeps the value as written; the CLI escapes it (see tests/test_cli.py)
    assert "'hu\nb' is not one of" in str(e.value)


def test_integers_may_carry_a_sign_or_spaces_and_keep_them(tmp_path):
    """'+30' and ' 30' are integers; the table keeps the text exactly as written."""
    folder = tmp_path / "net"
    shutil.copytree(TINY, folder)
    replace("facilities.csv", "0,30\nH2", "0,+30\nH2")(folder)
    net = load_network(folder)
    assert net.timetable.process.tolist() == [10, 30, 30, 10, 10]
    assert net.facilities["process_minutes"].tolist()[1] == "+30"


def test_utf8_with_chinese_is_fine(tmp_path):
    folder = tmp_path / "net"
    shutil.copytree(TINY, folder)
    replace("places.csv", "Town C", "拉萨市")(folder)
    replace("facilities.csv", "Hub Two", "北京枢纽")(folder)
    net = load_network(folder)
    assert net.places["name"].tolist()[2] == "拉萨市"
    assert net.facilities["name"].tolist()[2] == "北京枢纽"


def test_validate_warns_about_a_station_no_lane_leads_to(capsys, tmp_path):
    """Legal PNF, but station A of tiny can only deliver parcels created at A itself: a
    warning naming its line, and an error with --strict."""
    from tests.conftest import assert_one_line_error, run_cli
    code, out, err = run_cli(capsys, "validate", FIXTURES / "tiny")
    assert code == 0 and out.startswith("valid PNF v1")
    assert err.startswith("parcelnet: warning: facilities.csv, line 2, field 'facility_id': "
                          "station 'A' has no inbound lane")
    code, out, err = run_cli(capsys, "validate", FIXTURES / "tiny", "--strict")
    assert code == 2 and out == ""
    assert_one_line_error(err, "facilities.csv, line 2", "station 'A' has no inbound lane")
    code, out, err = run_cli(capsys, "validate", FIXTURES / "overlap", "--strict")
    assert code == 0 and err == ""

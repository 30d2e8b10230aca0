"""``parcelnet demand``: a day of parcels on China's default network, its files and its CLI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from parcelnet.cli import main
from parcelnet.demand import (
    COLUMNS,
    DISTANCE_DECAY,
    HOURLY_WEIGHTS,
    PEAK_MIDNIGHT_SHARE,
    default_parcels,
    demand_model,
    generate_parcels,
    generate_to_file,
    hourly_profile,
    iter_parcel_blocks,
    load_origin_shares,
    read_parcels,
    write_parcels,
)
from parcelnet.demand import generate as gen
from parcelnet.errors import ParameterError, ValidationError
from parcelnet.geo.coords import haversine_km
from parcelnet.plan.build import build_network
from parcelnet.network.pnf import write_pnf

N = 200_000


@pytest.fixture(scope="module")
def cn():
    return build_network("CN")


@pytest.fixture(scope="module")
def parcels(cn):
    return generate_parcels(cn, N, seed=7)


@pytest.fixture(scope="module")
def big(cn):
    return generate_parcels(cn, 1_000_000, seed=11)


@pytest.fixture(scope="module")
def cn_dir(cn, tmp_path_factory):
    return write_pnf(cn, tmp_path_factory.mktemp("net") / "cn")


def _province(cn, ids: pd.Series) -> np.ndarray:
    fac = cn.facilities
    admin1 = fac["admin1"].to_numpy(dtype=object)
    return admin1[cn.facility_index.get_indexer(ids)]


def _km(cn, df) -> np.ndarray:
    ll = cn.lat_lon
    o = cn.facility_index.get_indexer(df["origin_facility"])
    d = cn.facility_index.get_indexer(df["dest_station"])
    return haversine_km(ll[o, 0], ll[o, 1], ll[d, 0], ll[d, 1])


# -- the parcels ---------------------------------------------------------------------------
def test_columns_dtypes_and_exact_count(parcels):
    assert tuple(parcels.columns) == COLUMNS
    assert parcels["parcel_id"].dtype == np.int64
    assert parcels["created_minute"].dtype == np.int64
    assert pd.api.types.is_string_dtype(parcels["origin_facility"])
    assert pd.api.types.is_string_dtype(parcels["dest_station"])
    assert len(parcels) == N
    assert parcels["created_minute"].between(0, 1439).all()


@pytest.mark.parametrize("n", [1, 7, 12_345])
def test_small_counts_are_exact(cn, n):
    df = generate_parcels(cn, n, seed=1)
    assert len(df) == n and (df["parcel_id"].to_numpy() == np.arange(n)).all()


def test_same_seed_same_parcels_other_seed_others(cn, parcels):
    again = generate_parcels(cn, N, seed=7)
    pd.testing.assert_frame_equal(again, parcels)
    other = generate_parcels(cn, N, seed=8)
    assert not other.equals(parcels)
    assert (other["origin_facility"] != parcels["origin_facility"]).mean() > 0.5


def test_ids_contiguous_and_sorted_by_minute_origin_destination(parcels):
    assert (parcels["parcel_id"].to_numpy() == np.arange(N)).all()
    key = ["created_minute", "origin_facility", "dest_station"]
    resorted = parcels.sort_values(key, kind="stable")
    assert (resorted["parcel_id"].to_numpy() == np.arange(N)).all()
    # parcels sharing minute, origin and destination have contiguous ids
    g = parcels.groupby(key, sort=False)["parcel_id"].agg(["min", "max", "count"])
    assert (g["max"] - g["min"] + 1 == g["count"]).all()
    assert (g["count"] > 1).any()


def test_origins_and_destinations_are_stations(cn, parcels):
    kind = cn.facilities.set_index("facility_id")["kind"]
    assert (kind.loc[parcels["dest_station"].unique()] == "station").all()
    assert (kind.loc[parcels["origin_facility"].unique()] == "station").all()


def test_origin_province_shares_follow_the_table(cn, parcels):
    table = load_origin_shares()
    total = sum(table.shares.values())
    share = pd.Series(_province(cn, parcels["origin_facility"])).value_counts(normalize=True)
    for provs in (["Guangdong", "Zhejiang"], ["Jiangsu"], ["Shandong"], ["Hebei"], ["Xizang"]):
        p = sum(table.shares[x] for x in provs) / total
        got = share.reindex(provs).fillna(0).sum()
        assert abs(got - p) < 4 * np.sqrt(p * (1 - p) / N) + 1e-4, (provs, got, p)
    gz = sum(table.shares[x] for x in ("Guangdong", "Zhejiang")) / total
    assert 0.40 <= gz <= 0.45


def test_within_a_province_big_cities_dominate(cn):
    m = demand_model(cn)
    gd = m.province == "Guangdong"
    pop, p = m.population[gd], m.origin_p[gd]
    top = np.argsort(-pop)[:10]
    # population ** 1.5: the ten biggest stations hold more of the province's origins than of its people
    assert p[top].sum() / p.sum() > pop[top].sum() / pop.sum()
    pos = pop > 0
    ratio = p[pos] / pop[pos] ** m.alpha
    assert np.allclose(ratio, ratio[0])


def test_destinations_track_population(cn, big):
    m = demand_model(cn)
    pop = pd.Series(m.population, index=m.province).groupby(level=0).sum()
    got = pd.Series(_province(cn, big["dest_station"])).value_counts().reindex(pop.index).fillna(0)
    assert np.corrcoef(pop.to_numpy(), got.to_numpy())[0, 1] > 0.95
    # station level, too
    spop = pd.Series(m.population, index=m.station_ids)
    sgot = big["dest_station"].value_counts().reindex(spop.index).fillna(0)
    assert np.corrcoef(spop.to_numpy(), sgot.to_numpy())[0, 1] > 0.8


def test_stronger_decay_means_shorter_trips(cn):
    means = [_km(cn, generate_parcels(cn, 50_000, seed=3, distance_decay=d)).mean()
             for d in (0.5, DISTANCE_DECAY, 4.0)]
    assert means[0] > means[1] + 100 and means[1] > means[2] + 50, means
    m = demand_model(cn, distance_decay=0.0)  # no decay: destinations follow population alone
    p = m.dest_probabilities(0)
    assert np.allclose(p, m.population / m.population.sum())


def test_hourly_histogram_matches_the_curve(big):
    hours = np.bincount(big["created_minute"].to_numpy() // 60, minlength=24)
    p = np.asarray(HOURLY_WEIGHTS) / sum(HOURLY_WEIGHTS)
    n = len(big)
    assert np.all(np.abs(hours - n * p) < 5 * np.sqrt(n * p * (1 - p)) + 1)
    assert hours.argmax() in (17, 18) and hours[3] < hours[17] / 10
    minutes = np.bincount(big["created_minute"].to_numpy() % 60, minlength=60)
    assert minutes.min() > 0.9 * n / 60 and minutes.max() < 1.1 * n / 60   # uniform within the hour


def test_peak_day_has_the_midnight_spike_and_more_parcels(cn):
    assert default_parcels("normal") == 1_000_000
    assert default_parcels("peak") == round(1_000_000 * 777 / 545) == 1_425_688
    peak = generate_parcels(cn, day="peak", seed=2)
    assert len(peak) == 1_425_688
    m = peak["created_minute"].to_numpy()
    assert m.min() >= 0 and m.max() <= 1439
    first = (m < 60).mean()
    assert abs(first - PEAK_MIDNIGHT_SHARE) < 0.002
    assert hourly_profile("peak")[0] == pytest.approx(PEAK_MIDNIGHT_SHARE)
    assert hourly_profile("normal")[0] < 0.02
    assert hourly_profile("peak").sum() == pytest.approx(1.0)


def test_blocks_stream_the_same_way_in_any_memory(cn, monkeypatch):
    """Uncached, chunked destination rows give bit-identical parcels; small blocks stay sorted."""
    ref = generate_parcels(cn, 30_000, seed=4)
    with monkeypatch.context() as mp:   # rows recomputed per block, as for very large networks
        mp.setattr(gen, "CDF_CACHE_BYTES", 0)
        pd.testing.assert_frame_equal(generate_parcels(cn, 30_000, seed=4), ref)
    monkeypatch.setattr(gen, "_F64_MAX_BYTES", 0)   # float32 rows, as for large networks
    f32 = generate_parcels(cn, 30_000, seed=4)
    assert (f32["origin_facility"] == ref["origin_facility"]).all()
    assert (f32["dest_station"] == ref["dest_station"]).mean() > 0.99
    blocks = list(iter_parcel_blocks(demand_model(cn), 20_000, seed=1, chunk_parcels=3_000))
    assert len(blocks) > 5
    ids = np.concatenate([b.parcel_id for b in blocks])
    assert (ids == np.arange(20_000)).all()
    last = [b.created_minute[-1] for b in blocks]
    first = [b.created_minute[0] for b in blocks]
    assert all(a < b for a, b in zip(last, first[1:]))   # blocks are whole minutes


# -- origin shares ---------------------------------------------------------------------------
def test_origin_shares_override(cn, tmp_path):
    f = tmp_path / "two.toml"
    f.write_text('alpha = 2.0\n[shares]\nGuangdong = 3\nXizang = 1\n')
    df = generate_parcels(cn, 20_000, seed=1, origin_shares=f)
    prov = pd.Series(_province(cn, df["origin_facility"])).value_counts(normalize=True)
    assert set(prov.index) == {"Guangdong", "Xizang"}
    assert prov["Guangdong"] == pytest.approx(0.75, abs=0.015)
    m = demand_model(cn, {"Zhejiang": 1.0})
    assert m.origin_p[m.province != "Zhejiang"].sum() == 0


@pytest.mark.parametrize("text, words", [
    ("[shares]\nAtlantis = 5\nGuangdong = 1\n", ["province 'Atlantis' is not in the network"]),
    ("[shares]\nGuangdong = -1\n", ["share of 'Guangdong'", ">= 0"]),
    ("[shares]\nGuangdong = 'a lot'\n", ["share of 'Guangdong'"]),
    ("[shares]\nGuangdong = 0\n", ["positive"]),
    ("alpha = 1.5\n", ["no [shares] table"]),
    ("alpha = -1\n[shares]\nGuangdong = 1\n", ["alpha must be a positive number"]),
    ("colour = 'red'\n[shares]\nGuangdong = 1\n", ["unknown key 'colour'"]),
    ("[shares\nGuangdong = 1\n", ["not valid TOML"]),
])
def test_bad_origin_shares_files(cn, tmp_path, text, words):
    f = tmp_path / "bad.toml"
    f.write_text(text)
    with pytest.raises(ParameterError) as e:
        demand_model(cn, f)
    for w in words:
        assert w in str(e.value), str(e.value)
    assert "\n" not in str(e.value)


def test_other_countries_fall_back_to_population_power(tiny):
    m = demand_model(tiny)   # tiny's provinces include 'Tibet', which is not in the CN table
    assert m.province_shares is None
    w = m.population ** m.alpha
    assert np.allclose(m.origin_p, w / w.sum())
    df = generate_parcels(tiny, 5_000, seed=1)
    assert set(df["origin_facility"]) <= {"A", "B", "C"} and set(df["dest_station"]) <= {"A", "B", "C"}


def test_bad_parameters(cn):
    with pytest.raises(ParameterError, match="unknown day 'holiday'"):
        generate_parcels(cn, 10, day="holiday")
    for n in (0, -5):
        with pytest.raises(ParameterError, match="must be positive"):
            generate_parcels(cn, n)
    with pytest.raises(ParameterError, match="integer"):
        generate_parcels(cn, 2.5)
    with pytest.raises(ParameterError, match="seed"):
        generate_parcels(cn, 10, seed=-1)
    with pytest.raises(ParameterError, match="distance_scale_km"):
        generate_parcels(cn, 10, distance_scale_km=0)
    with pytest.raises(ValidationError, match="not a PNF folder"):
        generate_parcels("/nonexistent/network", 10)


# -- files -----------------------------------------------------------------------------------
@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_round_trip(cn, parcels, tmp_path, suffix):
    path = write_parcels(parcels, tmp_path / f"p{suffix}")
    back = read_parcels(path, cn)
    assert list(back.columns) == [*COLUMNS, "origin_pos", "dest_pos"]
    for c in ("parcel_id", "created_minute", "origin_pos", "dest_pos"):
        assert back[c].dtype == np.int64
    pd.testing.assert_frame_equal(back[list(COLUMNS)].astype({"origin_facility": str, "dest_station": str}),
                                  parcels)
    assert (cn.facility_index[back["origin_pos"]] == parcels["origin_facility"]).all()
    assert (cn.facility_index[back["dest_pos"]] == parcels["dest_station"]).all()
    # streaming to a file gives the same parcels as generate_parcels
    streamed = tmp_path / f"s{suffix}"
    generate_to_file(cn, streamed, N, seed=7)
    pd.testing.assert_frame_equal(read_parcels(streamed, cn), back)
    if suffix == ".csv":
        head = streamed.read_text().splitlines()[:2]
        assert head[0] == "parcel_id,created_minute,origin_facility,dest_station"
        assert head[1].count(",") == 3 and '"' not in head[1]
    else:
        assert pq.read_schema(streamed).names == list(COLUMNS)


def _csv(tmp_path, rows, header="parcel_id,created_minute,origin_facility,dest_station"):
    p = tmp_path / "bad.csv"
    p.write_text("\n".join([header, *rows]) + "\n")
    return p


GOOD = ["0,10,S330106,S110101", "1,20,S440106,S330106"]


@pytest.mark.parametrize("header, rows, where, words", [
    ("parcel_id,created_minute,origin_facility", GOOD, "line 1, field 'dest_station'", "missing column"),
    ("parcel_id,created_minute,origin_facility,dest_station,parcel_id", [r + ",1" for r in GOOD],
     "line 1, field 'parcel_id'", "duplicate column"),
    (None, [GOOD[0], "x,20,S440106,S330106"], "line 3, field 'parcel_id'", "'x' is not an integer"),
    (None, [GOOD[0], "1.5,20,S440106,S330106"], "line 3, field 'parcel_id'", "'1.5' is not an integer"),
    (None, [GOOD[0], "0,20,S440106,S330106"], "line 3, field 'parcel_id'", "duplicate parcel_id 0 (first at line 2)"),
    (None, [GOOD[0], "1,,S440106,S330106"], "line 3, field 'created_minute'", "empty value"),
    (None, [GOOD[0], "1,-3,S440106,S330106"], "line 3, field 'created_minute'", "-3 is negative"),
    (None, [GOOD[0], "1,20,S999999,S330106"], "line 3, field 'origin_facility'", "unknown facility 'S999999'"),
    (None, [GOOD[0], "1,20,S440106,H01"], "line 3, field 'dest_station'", "'H01' is a hub, not a station"),
    (None, [GOOD[0], "1,20,S440106"], "bad.csv", "not valid CSV"),
])
def test_read_parcels_rejects_bad_csv(cn, tmp_path, header, rows, where, words):
    p = _csv(tmp_path, rows, header or "parcel_id,created_minute,origin_facility,dest_station")
    with pytest.raises(ValidationError) as e:
        read_parcels(p, cn)
    msg = str(e.value)
    assert msg.startswith("bad.csv") and where in msg and words in msg, msg


def _parquet(tmp_path, **cols):
    data = {"parcel_id": pa.array([0, 1, 2]), "created_minute": pa.array([5, 6, 7]),
            "origin_facility": pa.array(["S330106", "S440106", "S110101"]),
            "dest_station": pa.array(["S110101", "S330106", "S440106"])}
    data.update(cols)
    p = tmp_path / "bad.parquet"
    pq.write_table(pa.table({k: v for k, v in data.items() if v is not None}), p)
    return p


@pytest.mark.parametrize("cols, where, words", [
    ({"dest_station": None}, "bad.parquet, field 'dest_station'", "missing column"),
    ({"parcel_id": pa.array([0, 1, 1])}, "row 3, field 'parcel_id'", "duplicate parcel_id 1 (first at row 2)"),
    ({"parcel_id": pa.array([0.0, 1.0, 2.0])}, "row 1, field 'parcel_id'", "not an integer"),
    ({"created_minute": pa.array([5, None, 7], pa.int64())}, "row 2, field 'created_minute'", "empty value"),
    ({"created_minute": pa.array([5, 6, -7])}, "row 3, field 'created_minute'", "-7 is negative"),
    ({"origin_facility": pa.array(["S330106", "nowhere", "S110101"])}, "row 2, field 'origin_facility'",
     "unknown facility 'nowhere'"),
    ({"dest_station": pa.array(["S110101", "C3301", "S440106"])}, "row 2, field 'dest_station'",
     "not a station"),
])
def test_read_parcels_rejects_bad_parquet(cn, tmp_path, cols, where, words):
    p = _parquet(tmp_path, **cols)
    with pytest.raises(ValidationError) as e:
        read_parcels(p, cn)
    msg = str(e.value)
    assert msg.startswith("bad.parquet") and where in msg and words in msg, msg
    assert "line" not in msg


def test_read_parcels_keeps_extra_columns_and_rejects_non_files(cn, tmp_path):
    p = _parquet(tmp_path, weight_kg=pa.array([1.0, 2.5, 0.3]))
    df = read_parcels(p, cn)
    assert list(df.columns) == [*COLUMNS, "weight_kg", "origin_pos", "dest_pos"]
    assert df["origin_pos"].tolist() == [cn.facility(x) for x in ("S330106", "S440106", "S110101")]
    with pytest.raises(ValidationError, match="missing"):
        read_parcels(tmp_path / "none.parquet", cn)
    junk = tmp_path / "junk.parquet"
    junk.write_text("not parquet")
    with pytest.raises(ValidationError, match="junk.parquet: not a Parquet file"):
        read_parcels(junk, cn)


# -- CLI ---------------------------------------------------------------------------------------
def _one_line_error(capsys, args, *words):
    code = main([str(a) for a in args])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("parcelnet: error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    for w in words:
        assert w in err, (w, err)


def test_cli_demand_end_to_end(cn, cn_dir, tmp_path, capsys):
    out = tmp_path / "day.csv"
    assert main(["demand", str(cn_dir), "--parcels", "5000", "--seed", "3", "--out", str(out)]) == 0
    assert "5,000 parcels" in capsys.readouterr().out
    df = read_parcels(out, cn)
    assert len(df) == 5000 and df["parcel_id"].tolist() == list(range(5000))
    ref = generate_parcels(cn, 5000, seed=3)
    assert (df["dest_station"].astype(str).to_numpy() == ref["dest_station"].to_numpy()).all()
    pq_out = tmp_path / "peak.parquet"
    shares = tmp_path / "s.toml"
    shares.write_text("[shares]\nZhejiang = 1\n")
    assert main(["demand", str(cn_dir), "--parcels", "3000", "--day", "peak", "--origin-shares",
                 str(shares), "--out", str(pq_out)]) == 0
    df = read_parcels(pq_out, cn)
    assert len(df) == 3000 and set(_province(cn, df["origin_facility"].astype(str))) == {"Zhejiang"}


def test_cli_demand_bad_input(cn_dir, tmp_path, capsys):
    out = tmp_path / "x.parquet"
    _one_line_error(capsys, ["demand", cn_dir, "--day", "holiday", "--out", out], "unknown day 'holiday'")
    _one_line_error(capsys, ["demand", cn_dir, "--parcels", "0", "--out", out], "must be positive")
    _one_line_error(capsys, ["demand", cn_dir, "--parcels", "many", "--out", out], "--parcels must be an integer")
    _one_line_error(capsys, ["demand", cn_dir, "--seed", "-2", "--parcels", "10", "--out", out], "seed")
    _one_line_error(capsys, ["demand", tmp_path / "nowhere", "--parcels", "10", "--out", out],
                    "not a PNF folder")
    bad = tmp_path / "bad.toml"
    bad.write_text("[shares]\nNarnia = 1\n")
    _one_line_error(capsys, ["demand", cn_dir, "--parcels", "10", "--origin-shares", bad, "--out", out],
                    "province 'Narnia' is not in the network")
    _one_line_error(capsys, ["demand", cn_dir, "--parcels", "10", "--origin-shares", tmp_path / "no.toml",
                             "--out", out], "not found")
    assert not out.exists()


def test_absurd_day_sizes_are_refused_or_warned(tmp_path, capsys, monkeypatch):
    """10^11 parcels would need far more disk than there is: refused at once, before any
    sampling; a legal but huge day (above twice the busiest real day) gets a warning."""
    import logging
    import shutil
    import time

    from parcelnet.demand.generate import FILE_BYTES_PER_PARCEL, check_room
    tiny_dir = Path(__file__).resolve().parents[1] / "fixtures" / "tiny"
    out = tmp_path / "huge.parquet"
    t0 = time.perf_counter()
    _one_line_error(capsys, ["demand", tiny_dir, "--parcels", "100000000000", "--out", out],
                    "100,000,000,000 parcels need about", "free")
    assert time.perf_counter() - t0 < 10 and list(tmp_path.iterdir()) == []
    free = shutil.disk_usage(tmp_path).free
    n = free // FILE_BYTES_PER_PARCEL["csv"] + 1
    with pytest.raises(ParameterError, match="free"):
        check_room(tmp_path / "x.csv", n)
    monkeypatch.setattr(shutil, "disk_usage", lambda p: shutil._ntuple_diskusage(1 << 50, 0, 1 << 50))
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logging.getLogger("parcelnet").addHandler(handler)
    try:
        assert check_room(tmp_path / "x.parquet", 2_000_000_000) == 2_000_000_000 * 4
    finally:
        logging.getLogger("parcelnet").removeHandler(handler)
    assert "3 times China's busiest day" in records[0].getMessage()


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_a_kill_while_the_writer_opens_leaves_no_temporary_file(cn, tmp_path, monkeypatch, suffix):
    """SIGTERM raises SystemExit wherever the program is: also after the writer created its
    temporary file and before the with-block began, where __exit__ never runs."""
    from parcelnet.demand import files as F

    def killed(*a, **k):
        F.temporary_name(tmp_path / f"p{suffix}").write_bytes(b"half")    # the file exists ...
        raise SystemExit(143)                                               # ... when the kill lands
    monkeypatch.setattr(F.pq, "ParquetWriter", killed)
    monkeypatch.setattr(F.pacsv, "CSVWriter", killed)
    with pytest.raises(SystemExit):
        with F.ParcelWriter(tmp_path / f"p{suffix}", cn):
            pass
    assert list(tmp_path.iterdir()) == []

"""KPIs, per-parcel results and capacity scaling of ``parcelnet.sim`` on the tiny network.

Every expected number is worked out by hand in the comments, from tests/fixtures/tiny:

    A(station, c=0, p=10)  H1(hub, c=0, p=30)  H2(hub, c=0, p=30)  B(station, c=0, p=10)
    C(station, c=0, p=10)                       (c = sort_per_minute, p = process_minutes)
    L1 A->H1 van 60 min:      T1 at 1080 (18:00) cap 500
    L2 H1->H2 truck 900 min:  T2 at 1260 cap 2000
    L3 H1->H2 air 90 min:     T3 at 1350 cap 300
    L4 H2->B van 60 min:      T4 at 300 cap 800, T5 at 720 cap 800
    L5 H1->C truck 3000 min:  T6 at 1200 cap 100
    L6 H2->H1 truck 900 min:  T7 at 60 cap 2000
    waves: A 480+180 (ends 660), B 480+180 (660) and 840+120 (960), C 600+240 (840)
    places: A -> Zhejiang, B -> Beijing, C -> Tibet (facilities.csv has no admin1 column)

Nothing leaves B or C, so B -> A is unreachable. Day d adds 1440 d to every minute.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from parcelnet.errors import ParameterError
from parcelnet.network.model import Network
from parcelnet.network.scale import scale_capacity
from parcelnet.parcels import Parcels
from parcelnet.sim.kpis import kpis as kpis_result
from parcelnet.sim.kpis import station_admin1
from parcelnet.sim.results import write_results
from parcelnet.sim.run import simulate


def kpis(res) -> dict:
    """The KPIs of a simulated day as their JSON (to_dict) form, which these tests check."""
    return kpis_result(res).to_dict()

DAY = 1440


def variant(net: Network, trips: dict[str, int] = {}, sort: dict[str, int] = {}) -> Network:
    """A copy of ``net`` with some trip capacities and sorter rates changed."""
    t = {k: v.copy() for k, v in net.tables.items()}
    tri, fac = t["trips.csv"], t["facilities.csv"]
    for tid, cap in trips.items():
        assert (tri["trip_id"] == tid).sum() == 1
        tri.loc[tri["trip_id"] == tid, "capacity"] = str(cap)
    for fid, c in sort.items():
        assert (fac["facility_id"] == fid).sum() == 1
        fac.loc[fac["facility_id"] == fid, "sort_per_minute"] = str(c)
    return Network.from_tables(t, net.meta)


def run(net: Network, parcels, horizon_minutes=None):
    """parcels: (parcel_id, created_minute, origin id, destination id)."""
    f = net.facility
    return simulate(net, Parcels([p[0] for p in parcels], [p[1] for p in parcels],
                                 [f(p[2]) for p in parcels], [f(p[3]) for p in parcels]),
                    horizon_minutes=horizon_minutes)


# -- the main hand-checked day ----------------------------------------------------------------
# tiny with the 18:00 van T1 (lane L1, A->H1) of capacity 1; horizon 3 days.
PARCELS = [
    (1, 1000, "A", "B"),
    (2, 1000, "A", "B"),
    (3, 0, "B", "A"),       # unroutable
    (4, 470, "A", "A"),     # same station
    (5, 1100, "A", "C"),
    (6, 1100, "H1", "C"),   # created at a hub
]
HORIZON = 3 * DAY
# H = last creation (1100, over all parcels) + 4320 = 5420.
#
# 1 and 2, A->B at 1000, promise 2100 via L1;L3;L4: ready at A 1010, T1 1080 -> H1 1140, ready
#   1170, T3 1350 -> H2 1440, ready 1470, T4 1740 -> B 1800, ready 1810, day-1 wave 1920 -> 2100.
#   T1 holds one parcel: (ready 1010, id 1) boards at 1080 -> delivered 2100 (age 1100).
#   2 is left behind (ready 1010 <= 1080) and boards day 1's T1 at 2520 (see 5) -> H1 2580, ready
#   2610, T3 2790 -> H2 2880, ready 2910, T4 3180 -> B 3240, ready 3250, day-2 wave 3360 -> 3540
#   (age 2540: late, within 48 h but not 24 h).
# 3, B->A: unroutable; no promise, not simulated, not late.
# 4, A->A at 470: ready 480, wave 480 -> 660 = promise (age 190), empty path.
# 5, A->C at 1100, promise via L1;L5: ready 1110 misses 1080; day-1 T1 2520 -> H1 2580, ready
#   2610, T6 2640 -> C 5640, ready 5650; day-3 wave starts 4920 (missed), day-4 6360 -> 6600.
#   Simulated: at 2520 T1 takes 2 (ready 1010 before 1110); 5 is left behind (ready 1110 <= 2520)
#   and boards day 2's T1 at 3960 -> in transit at H = 5420: not delivered, late.
# 6, H1->C at 1100: ready 1130, T6 1200 -> C 4200, ready 4210; day-2 wave 3480 missed, day-3
#   wave 4920 -> 5160 = promise (age 4060: on time, but beyond 48 h).
PROMISED = {1: 2100, 2: 2100, 3: None, 4: 660, 5: 6600, 6: 5160}
DELIVERED = {1: 2100, 2: 3540, 3: None, 4: 660, 5: None, 6: 5160}
PATHS = {1: "L1;L3;L4", 2: "L1;L3;L4", 3: "", 4: "", 5: "L1;L5", 6: "L5"}


@pytest.fixture(scope="module")
def van_full(tiny):
    return variant(tiny, trips={"T1": 1})


@pytest.fixture(scope="module")
def day(van_full):
    return run(van_full, PARCELS, HORIZON)


def test_promised_and_delivered_minutes(day):
    ids = [p[0] for p in PARCELS]
    assert day.promise.tolist() == [-1 if PROMISED[i] is None else PROMISED[i] for i in ids]
    assert day.delivered.tolist() == [-1 if DELIVERED[i] is None else DELIVERED[i] for i in ids]
    assert day.routable.tolist() == [True, True, False, True, True, True]
    assert day.horizon_end == 1100 + HORIZON


def test_counts_and_shares(day):
    k = kpis(day)
    assert k["parcels"] == 6
    assert k["unroutable"] == 1                  # 3
    assert k["delivered"] == 4                   # 1, 2, 4, 6
    assert k["not_delivered"] == 1               # 5 (routable, in transit at H)
    assert k["delivered_share"] == pytest.approx(4 / 6, abs=1e-6)
    assert k["on_time_share"] == pytest.approx(3 / 6)     # 1, 4, 6 - over ALL parcels
    assert k["within_24h_share"] == pytest.approx(2 / 6, abs=1e-6)   # ages 1100, 190
    assert k["within_48h_share"] == pytest.approx(3 / 6)  # and 2540; 6 took 4060
    assert k["horizon_end_minute"] == 5420


def test_delivery_hours(day):
    # ages of delivered parcels: 190, 1100, 2540, 4060 minutes
    # = 3.1667, 18.3333, 42.3333, 67.6667 h; mean 7890 / 240 = 32.875.
    # numpy linear percentiles over 4 values, position q/100 * 3:
    #   p50: 1.5  -> (18.3333 + 42.3333) / 2         = 30.33
    #   p90: 2.7  -> 42.3333 + 0.7 * 25.3333         = 60.07
    #   p95: 2.85 -> 42.3333 + 0.85 * 25.3333        = 63.87
    #   p99: 2.97 -> 42.3333 + 0.97 * 25.3333        = 66.91
    dh = kpis(day)["delivery_hours"]
    assert dh["mean"] == pytest.approx(32.875, abs=0.006)
    assert (dh["p50"], dh["p90"], dh["p95"], dh["p99"]) == (30.33, 60.07, 63.87, 66.91)


def test_late_by_province_uses_places_admin1(day, van_full, tiny):
    assert "admin1" not in tiny.facilities.columns
    a1 = dict(zip(tiny.facilities["facility_id"], station_admin1(tiny)))
    assert a1 == {"A": "Zhejiang", "H1": "", "H2": "", "B": "Beijing", "C": "Tibet"}
    # late = routable and not on time: 2 (to B, Beijing) and 5 (to C, Tibet).
    # 3 (unroutable, to A) is not late; it still counts among Zhejiang's parcels.
    rows = kpis(day)["late_by_province"]
    assert sorted(rows, key=lambda r: r["admin1"]) == [
        {"admin1": "Beijing", "parcels": 2, "late": 1, "late_share": 0.5},
        {"admin1": "Tibet", "parcels": 2, "late": 1, "late_share": 0.5},
        {"admin1": "Zhejiang", "parcels": 2, "late": 0, "late_share": 0.0},
    ]
    assert [r["late"] for r in rows] == sorted((r["late"] for r in rows), reverse=True)


def test_admin1_from_most_populous_place(tiny):
    # a second, bigger place served by A in another province wins
    t = {k: v.copy() for k, v in tiny.tables.items()}
    extra = pd.DataFrame([{"place_id": "p4", "name": "Big", "lat": "30.1", "lon": "120.1",
                           "population": "5000000", "admin1": "Shanghai", "admin2": "Shanghai",
                           "station_id": "A"}])
    t["places.csv"] = pd.concat([t["places.csv"], extra], ignore_index=True)
    net = Network.from_tables(t, tiny.meta)
    assert station_admin1(net)[net.facility("A")] == "Shanghai"
    assert station_admin1(net)[net.facility("B")] == "Beijing"


def test_saturated_lanes_full_van(day):
    # L1: 2 left behind at 2520 (ready 1010 <= the previous departure 1080) and 5 at 3960
    # (ready 1110 <= 2520). 1 boarded the first departure it was ready for: not counted.
    assert kpis(day)["saturated_lanes"] == [
        {"lane_id": "L1", "from": "A", "to": "H1", "mode": "van", "left_behind": 2}]
    assert kpis(day)["busiest_hubs"] == []       # every sorter unlimited


def test_left_behind_counts_against_the_previous_departure_minute(tiny):
    # tiny with T4 (L4 H2->B at 300) of capacity 1; T5 (L4 at 720) unchanged.
    # 1, 2: A->B at 1000, both ready at H2 1470; day-1 T4 at 1740 takes 1 -> 2100.
    #   2 boards T5 at 2160: ready 1470 <= 1740, the lane's previous departure -> left behind;
    #   B 2220, ready 2230, day-1 wave 840 -> 2400 (late: promise 2100).
    # 3: H2->B at 1800, ready 1830 > 1740: boards T5 at 2160 -> 2400 = its promise, and is NOT
    #   left behind (it was not ready for the previous departure).
    net = variant(tiny, trips={"T4": 1})
    res = run(net, [(1, 1000, "A", "B"), (2, 1000, "A", "B"), (3, 1800, "H2", "B")])
    assert res.promise.tolist() == [2100, 2100, 2400]
    assert res.delivered.tolist() == [2100, 2400, 2400]
    k = kpis(res)
    assert k["saturated_lanes"] == [
        {"lane_id": "L4", "from": "H2", "to": "B", "mode": "van", "left_behind": 1}]
    assert k["on_time_share"] == pytest.approx(2 / 3, abs=1e-6)
    assert k["late_by_province"] == [{"admin1": "Beijing", "parcels": 3, "late": 1,
                                      "late_share": pytest.approx(1 / 3, abs=1e-6)}]


def test_busiest_hubs_peak_backlog(tiny):
    # tiny with H1 and A sorting 1 parcel a minute. 5 parcels A->B created at 1000:
    #   A handles one a minute, 1000..1004 (backlog after minute 1000: 4), ready 1010..1014;
    #   all board T1 at 1080 and arrive at H1 together at 1140.
    #   H1: minute 1140 handles 1 -> 4 still waiting (the peak), ... 1144 handles the last;
    #   ready 1170..1174, all before T3 at 1350 -> every parcel delivered at its promise 2100.
    # A is a station: its backlog (also 4) does not make it a busiest *hub*. H2 (unlimited)
    # never has a backlog, so it is not listed.
    net = variant(tiny, sort={"H1": 1, "A": 1})
    res = run(net, [(i, 1000, "A", "B") for i in range(1, 6)])
    assert res.delivered.tolist() == [2100] * 5
    assert res.raw.backlog_peak[net.facility("A")] == 4
    k = kpis(res)
    assert k["busiest_hubs"] == [
        {"facility_id": "H1", "name": "Hub One", "peak_backlog": 4, "sorted": 5}]
    assert k["saturated_lanes"] == []
    assert k["on_time_share"] == 1.0


def test_unlimited_capacity_delivers_at_the_promise(tiny):
    # 1: A->B at 1100 misses 1080: day-1 T1 2520 -> ... -> 3540 (as parcel 2 above).
    #    Not left behind: ready 1110 > 1080, the departure before 2520.
    # 2: H2->C at 0: ready 30, T7 60 -> H1 960, ready 990, T6 1200 -> C 4200, ready 4210 -> 5160.
    # 3: H1->B at 100: ready 130, T3 1350 -> H2 1440 ready 1470, T4 1740 -> B 1800 -> 2100.
    res = run(tiny, [(1, 1100, "A", "B"), (2, 0, "H2", "C"), (3, 100, "H1", "B")])
    assert res.promise.tolist() == [3540, 5160, 2100]
    assert res.delivered.tolist() == [3540, 5160, 2100]
    assert res.table()["path"].tolist() == ["L1;L3;L4", "L6;L5", "L3;L4"]
    k = kpis(res)
    assert (k["delivered"], k["on_time_share"], k["saturated_lanes"], k["busiest_hubs"]) == (3, 1.0, [], [])
    assert k["within_24h_share"] == 0.0          # ages 2440, 5160, 2000: all above 1440
    assert k["within_48h_share"] == pytest.approx(2 / 3, abs=1e-6)   # 2440 and 2000


def test_horizon_counts_from_the_last_creation_of_all_parcels(tiny):
    # H = last creation minute + horizon, over every parcel of the day, unroutable ones included
    # (docs/simulation.md, rule 6). 1: A->B at 1000 -> 2100. 2: B->A at 1200, unroutable.
    # Horizon 1000: H = 1200 + 1000 = 2200 >= 2100 -> delivered (not H = 1000 + 1000 = 2000).
    f = tiny.facility
    res = simulate(tiny, Parcels([1, 2], [1000, 1200], [f("A"), f("B")], [f("B"), f("A")]),
                   horizon_minutes=1000)
    assert res.horizon_end == 2200
    assert res.delivered.tolist() == [2100, -1]
    k = kpis(res)
    assert (k["delivered"], k["not_delivered"], k["unroutable"]) == (1, 0, 1)
    # H = 1200 + 899 = 2099: the wave ends one minute after H
    res = simulate(tiny, Parcels([1, 2], [1000, 1200], [f("A"), f("B")], [f("B"), f("A")]),
                   horizon_minutes=899)
    assert res.delivered.tolist() == [-1, -1]
    assert kpis(res)["not_delivered"] == 1


def test_no_parcels(tiny):
    e = np.zeros(0, np.int64)
    res = simulate(tiny, Parcels(e, e, e, e))
    k = kpis(res)
    assert (k["parcels"], k["unroutable"], k["delivered"], k["not_delivered"]) == (0, 0, 0, 0)
    assert k["delivered_share"] == k["on_time_share"] == 0.0
    assert k["delivery_hours"] == {"mean": None, "p50": None, "p90": None, "p95": None, "p99": None}
    assert k["late_by_province"] == [] and k["saturated_lanes"] == [] and k["busiest_hubs"] == []
    assert list(res.table().columns) == ["parcel_id", "promised_minute", "delivered_minute", "path"]
    assert len(res.table()) == 0


# -- per-parcel table and files ---------------------------------------------------------------
def test_table_columns_and_missing_values(day):
    df = day.table()
    assert list(df.columns) == ["parcel_id", "promised_minute", "delivered_minute", "path"]
    assert str(df["promised_minute"].dtype) == "Int64"
    assert str(df["delivered_minute"].dtype) == "Int64"
    assert df["parcel_id"].tolist() == [1, 2, 3, 4, 5, 6]
    for i, row in zip(df["parcel_id"], df.itertuples(index=False)):
        assert (None if pd.isna(row.promised_minute) else int(row.promised_minute)) == PROMISED[i]
        assert (None if pd.isna(row.delivered_minute) else int(row.delivered_minute)) == DELIVERED[i]
        assert row.path == PATHS[i]
    assert df["promised_minute"].isna().tolist() == [False, False, True, False, False, False]
    assert df["delivered_minute"].isna().tolist() == [False, False, True, False, True, False]
    assert list(day.table(with_paths=False).columns) == ["parcel_id", "promised_minute",
                                                         "delivered_minute"]


def test_table_keeps_input_order(van_full):
    order = [5, 3, 1, 6, 4, 2]
    by_id = {p[0]: p for p in PARCELS}
    res = run(van_full, [by_id[i] for i in order], HORIZON)
    df = res.table()
    assert df["parcel_id"].tolist() == order
    assert df["path"].tolist() == [PATHS[i] for i in order]
    assert [None if pd.isna(v) else int(v) for v in df["delivered_minute"]] == [DELIVERED[i] for i in order]


EXPECTED_CSV = ("parcel_id,promised_minute,delivered_minute,path\n"
                "1,2100,2100,L1;L3;L4\n"
                "2,2100,3540,L1;L3;L4\n"
                "3,,,\n"
                "4,660,660,\n"
                "5,6600,,L1;L5\n"
                "6,5160,5160,L5\n")


def test_write_results_csv(day, tmp_path):
    out = write_results(day, tmp_path / "sub" / "r.csv")
    assert out == tmp_path / "sub" / "r.csv"
    assert out.read_text(encoding="utf-8") == EXPECTED_CSV
    assert sorted(p.name for p in out.parent.iterdir()) == ["r.csv"]     # no temporary left
    back = pd.read_csv(out, dtype={"path": str}, keep_default_na=False, na_values={
        "promised_minute": [""], "delivered_minute": [""]})
    assert back["path"].tolist() == [PATHS[i] for i in range(1, 7)]


def test_write_results_parquet(day, tmp_path):
    out = write_results(day, tmp_path / "r.parquet")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.parquet"]
    t = pq.read_table(out)
    assert t.column_names == ["parcel_id", "promised_minute", "delivered_minute", "path"]
    assert t.schema.field("parcel_id").type == pa.int64()
    assert t.schema.field("promised_minute").type == pa.int64()
    assert t.schema.field("delivered_minute").type == pa.int64()
    assert pa.types.is_string(t.schema.field("path").type) or pa.types.is_large_string(
        t.schema.field("path").type)
    assert t.column("parcel_id").to_pylist() == [1, 2, 3, 4, 5, 6]
    assert t.column("promised_minute").to_pylist() == [PROMISED[i] for i in range(1, 7)]
    assert t.column("delivered_minute").to_pylist() == [DELIVERED[i] for i in range(1, 7)]
    assert t.column("path").to_pylist() == [PATHS[i] for i in range(1, 7)]
    back = pd.read_parquet(out)
    pd.testing.assert_frame_equal(back, day.table(), check_dtype=False)


def test_write_results_csv_suffix_is_case_insensitive(day, tmp_path):
    out = write_results(day, tmp_path / "R.CSV")
    assert out.read_text(encoding="utf-8") == EXPECTED_CSV


# -- scale_capacity ---------------------------------------------------------------------------
def _caps(net: Network) -> dict[str, int]:
    t = net.tables["trips.csv"]
    return dict(zip(t["trip_id"], t["capacity"].astype(int)))


def _sorters(net: Network) -> dict[str, int]:
    f = net.facilities
    return dict(zip(f["facility_id"], f["sort_per_minute"].astype(int)))


def test_scale_capacity_rounds_up(tiny):
    # capacities 500, 2000, 300, 800, 800, 100, 2000
    assert _caps(scale_capacity(tiny, 0.5)) == {
        "T1": 250, "T2": 1000, "T3": 150, "T4": 400, "T5": 400, "T6": 50, "T7": 1000}
    # x 0.003: 1.5 -> 2, 6, 0.9 -> 1, 2.4 -> 3, 2.4 -> 3, 0.3 -> 1, 6
    assert _caps(scale_capacity(tiny, 0.003)) == {
        "T1": 2, "T2": 6, "T3": 1, "T4": 3, "T5": 3, "T6": 1, "T7": 6}
    # never below 1
    assert set(_caps(scale_capacity(tiny, 1e-9)).values()) == {1}
    assert _caps(scale_capacity(tiny, 2)) == {k: 2 * v for k, v in _caps(tiny).items()}
    assert _caps(tiny)["T1"] == 500                     # the original is untouched


def test_scale_capacity_exact_products_are_not_rounded_up(tiny):
    # 100 x 0.07 is 7.000000000000001 in floating point; "rounded up" means 7, not 8
    net = variant(tiny, trips={"T1": 100}, sort={"H1": 100})
    s = scale_capacity(net, 0.07)
    assert _caps(s)["T1"] == 7
    assert _sorters(s)["H1"] == 7


def test_scale_capacity_sorters(tiny):
    net = variant(tiny, sort={"H1": 3, "H2": 7})
    s = scale_capacity(net, 0.5)
    # 1.5 -> 2, 3.5 -> 4; unlimited sorters (0) stay unlimited
    assert _sorters(s) == {"A": 0, "H1": 2, "H2": 4, "B": 0, "C": 0}
    assert _sorters(scale_capacity(net, 0.001)) == {"A": 0, "H1": 1, "H2": 1, "B": 0, "C": 0}
    assert s.timetable.sort_per_minute.tolist() == [0, 2, 4, 0, 0]
    # the compiled timetable follows the tables too
    assert sorted(s.timetable.trip_capacity.tolist()) == sorted(_caps(s).values())


@pytest.mark.parametrize("factor", [0, -0.5, float("nan"), float("inf"), -float("inf")])
def test_scale_capacity_bad_factor(tiny, factor):
    with pytest.raises(ParameterError, match="capacity scale"):
        scale_capacity(tiny, factor)


def test_scaled_network_simulates_like_a_full_van(tiny, van_full):
    # tiny's T1 (500) x 0.002 = 1: the same day as on van_full, hand-checked above
    res = run(scale_capacity(tiny, 0.002), PARCELS, HORIZON)
    assert res.delivered.tolist() == [-1 if DELIVERED[p[0]] is None else DELIVERED[p[0]]
                                      for p in PARCELS]

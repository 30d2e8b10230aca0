"""``parcelnet plan capacity`` on hand-checked days of the tiny network and end to end."""

from __future__ import annotations

import json

import numpy as np
import pytest

from parcelnet.errors import ParameterError
from parcelnet.network.pnf import load_network
from parcelnet.plan.capacity import changes, plan_capacity
from parcelnet.parcels import Parcels
from parcelnet.sim.run import simulate
from tests.conftest import FIXTURES, assert_one_line_error, run_cli
from tests.sim.test_kpis import kpis, variant


def _parcels(net, parcels) -> Parcels:
    f = net.facility
    return Parcels([p[0] for p in parcels], [p[1] for p in parcels], [f(p[2]) for p in parcels],
                   [f(p[3]) for p in parcels])


def test_a_full_van_gets_a_larger_one(tiny):
    # T1 (L1, A->H1 at 18:00) holds 1: of 1 and 2 (A->B at 1000, promise 2100) 2 is left behind
    # and late. L1 boarded 2 parcels over the days, 1 left behind: capacity x (1 + 1/2) = 2.
    net = variant(tiny, trips={"T1": 1})
    plan = plan_capacity(net, _parcels(net, [(1, 1000, "A", "B"), (2, 1000, "A", "B")]), target=1.0)
    assert [r["on_time_share"] for r in plan.rounds] == [0.5, 1.0]
    assert plan.reached and plan.after.on_time_share == 1.0
    assert plan.lanes[["lane_id", "capacity_per_day", "new_capacity_per_day"]].values.tolist() == [
        ["L1", 1, 2]]
    assert plan.lanes["cost_per_day"].tolist() == [300.0]        # L1's cost_per_trip x 1 trip x 100%
    assert plan.sorters.empty and plan.cost_per_day == 300.0
    assert plan.network.timetable.trip_capacity.tolist()[0] == 2


def test_a_slow_sorter_gets_faster(tiny):
    # H1 sorts 1 parcel a minute. 300 parcels of A->B at 1000 reach it at 1140; those handled
    # after 1320 are ready after 1350 (process 30), miss the air trip T3 and are late.
    net = variant(tiny, sort={"H1": 1})
    parcels = [(i, 1000, "A", "B") for i in range(300)]
    before = kpis(simulate(net, _parcels(net, parcels)))
    assert before["on_time_share"] < 1
    plan = plan_capacity(net, _parcels(net, parcels), target=1.0)
    assert plan.reached
    assert plan.sorters["facility_id"].tolist() == ["H1"]
    new = int(plan.sorters["new_sort_per_minute"].iloc[0])
    # the last of 300 parcels must be ready for T3 at 1350: 1140 + ceil(300 / rate) - 1 + 30 <= 1350
    assert 1140 + -(-300 // new) - 1 + 30 <= 1350
    assert plan.cost_per_day == pytest.approx((new - 1) * 25.0)


def test_sample_scale_reports_full_network_units(tiny):
    net = variant(tiny, trips={"T1": 10})
    parcels = [(1, 1000, "A", "B"), (2, 1000, "A", "B")]
    # as a 1/10 sample T1 holds 1 of them, as above: x 1.5, so the full network's T1 grows
    # 10 -> 15, which the 1/10 sample rounds up to 2
    plan = plan_capacity(net, _parcels(net, parcels), target=1.0, capacity_scale=0.1)
    assert plan.reached
    assert plan.lanes[["capacity_per_day", "new_capacity_per_day"]].values.tolist() == [[10, 15]]


def test_nothing_binds_nothing_changes(tiny):
    plan = plan_capacity(tiny, _parcels(tiny, [(1, 1000, "A", "B"), (2, 1000, "A", "C")]),
                         target=1.0)
    # 2 (A->C) is on time too: capacity is not what keeps anything late here
    assert plan.lanes.empty and plan.sorters.empty and plan.cost_per_day == 0.0
    same = tiny.with_capacities(tiny.timetable.trip_capacity, tiny.timetable.sort_per_minute)
    lanes, sorters, cost = changes(tiny, same)
    assert lanes.empty and sorters.empty and cost == 0.0


def test_bad_parameters(tiny):
    a = _parcels(tiny, [(1, 1000, "A", "B")])
    for kw, words in [({"target": 0}, "target"), ({"target": 1.5}, "target"),
                      ({"max_rounds": 0}, "rounds"), ({"sorter_cost": -1}, "sorter cost"),
                      ({"capacity_scale": 0}, "capacity scale"),
                      ({"reverse_sims": -1}, "trial days")]:
        with pytest.raises(ParameterError, match=words):
            plan_capacity(tiny, a, **kw)


def _cli_day(tmp_path):
    """tiny with T1 holding 1, as a PNF folder, and a day of two parcels A->B as CSV."""
    from parcelnet.network.pnf import write_pnf
    folder = write_pnf(variant(load_network(FIXTURES / "tiny"), trips={"T1": 1}), tmp_path / "net")
    p = tmp_path / "P.csv"
    p.write_text("parcel_id,created_minute,origin_facility,dest_station\n1,1000,A,B\n2,1000,A,B\n")
    return folder, p


def test_cli(capsys, tmp_path):
    folder, p = _cli_day(tmp_path)
    code, out, err = run_cli(capsys, "plan", "capacity", folder, "--parcels", p, "--target", 1,
                             "--out", tmp_path / "bigger", "--json")
    assert code == 0, err
    got = json.loads(out)
    assert got["reached"] and got["lanes"][0]["lane_id"] == "L1" and got["cost_per_day"] == 300.0
    again = load_network(tmp_path / "bigger")
    assert kpis(simulate(again, _parcels(again, [(1, 1000, "A", "B"), (2, 1000, "A", "B")])))[
        "on_time_share"] == 1.0
    code, out, err = run_cli(capsys, "plan", "capacity", folder, "--parcels", p, "--target", "most")
    assert code == 2 and out == ""
    assert_one_line_error(err, "--target", "must be a share")


def _with_units(net, **units):
    """``net`` as if built by parcelnet with these parcels a vehicle (params.toml)."""
    from parcelnet.network.model import Network
    toml = "[capacity]\n" + "".join(f"{m}_parcels = {u}\n" for m, u in units.items())
    return Network.from_tables({k: v.copy() for k, v in net.tables.items()},
                               {**net.meta, "params.toml": toml})


def test_whole_vehicles_on_the_full_departure_only(tiny):
    # vans of 2 parcels: T1 (2 vans' worth = 4) carries 4 of 5 parcels A->B at 1000; the 5th is
    # left behind and late. L1 boarded 5 over the days, 1 left: 4 x (1 + 1/5) = 4.8 -> 3 vans
    # = 6. The van costs 300 / 2 vans = 150 a day. The day then loads 5 of 6: the 6th parcel
    # of room is not a whole van, so nothing is taken back.
    from parcelnet.plan.capacity import vehicle_units
    net = _with_units(variant(tiny, trips={"T1": 4}), van=2, truck=1000, air=100)
    assert vehicle_units(net).tolist() == [2, 1000, 100, 2, 1, 1000]   # L5's 100 is not whole
    parcels = [(i, 1000, "A", "B") for i in range(1, 6)]
    plan = plan_capacity(net, _parcels(net, parcels), target=1.0)
    assert plan.reached
    row = plan.lanes.iloc[0]
    assert (row.lane_id, row.parcels_per_vehicle, row.vehicles_added, row.trips_grown,
            row.new_capacity_per_day) == ("L1", 2, 1.0, 1, 6)
    assert plan.cost_per_day == 150.0


def test_idle_added_capacity_is_taken_back_exactly(tiny):
    # Start from generous capacity everywhere: the day uses only part of it. Trimming against
    # the tight network keeps max(tight, the day's peak) and simulates the day identically.
    from parcelnet.plan.capacity import trim_idle
    tight = variant(tiny, trips={"T1": 1, "T3": 1}, sort={"H1": 1})
    roomy = variant(tiny, trips={"T1": 50, "T3": 50}, sort={"H1": 40})
    parcels = [(i, 1000 + i % 7, "A", "B") for i in range(30)] + [(99, 1100, "A", "C")]
    a = simulate(roomy, _parcels(roomy, parcels))
    trimmed = trim_idle(roomy, tight, a.raw.trip_peak, a.raw.sort_peak)
    b = simulate(trimmed, _parcels(trimmed, parcels))
    assert np.array_equal(a.delivered, b.delivered)
    tt, rt = trimmed.timetable, roomy.timetable
    row = {t: i for i, t in enumerate(trimmed.tables["trips.csv"]["trip_id"])}
    assert tt.trip_capacity[row["T1"]] == a.raw.trip_peak[row["T1"]] == 30
    assert tt.trip_capacity[row["T3"]] == max(1, a.raw.trip_peak[row["T3"]])
    h1 = trimmed.facility("H1")
    assert tt.sort_per_minute[h1] == max(1, a.raw.sort_peak[h1]) < rt.sort_per_minute[h1]
    assert np.array_equal(b.raw.trip_peak, a.raw.trip_peak)


def test_a_grown_sorter_is_used_to_its_rate(tiny):
    # the sorter plan of test_a_slow_sorter_gets_faster, trimmed: in the simulated day with
    # the plan, H1 handles its full new rate in at least one minute
    net = variant(tiny, sort={"H1": 1})
    parcels = [(i, 1000, "A", "B") for i in range(300)]
    plan = plan_capacity(net, _parcels(net, parcels), target=1.0)
    res = simulate(plan.network, _parcels(plan.network, parcels))
    h1 = net.facility("H1")
    assert res.raw.sort_peak[h1] == plan.network.timetable.sort_per_minute[h1] > 1
    assert kpis(res)["on_time_share"] == 1.0


def test_the_reverse_pass_takes_back_what_the_target_does_not_need(tiny):
    # grown: T1 (A->H1) 1 -> 50, which the two parcels A->B need, and T6 (H1->C) 100 -> 1000,
    # which nobody needs. The pass tries both together (too much), then each: T6 goes back.
    from parcelnet.plan.capacity import _day, _reverse
    base = variant(tiny, trips={"T1": 1})
    grown = variant(tiny, trips={"T1": 50, "T6": 1000})
    a = _parcels(base, [(1, 1000, "A", "B"), (2, 1000, "A", "B")])
    day = lambda n: _day(n, 1.0, a, None, None)  # noqa: E731
    res, k = day(grown)
    net, res2, k2, out = _reverse(base, grown, res, k, 1.0, 25.0, 16, day)
    row = {t: i for i, t in enumerate(net.tables["trips.csv"]["trip_id"])}
    assert net.timetable.trip_capacity[row["T6"]] == 100
    assert net.timetable.trip_capacity[row["T1"]] == 50
    assert out == {"simulations": 3, "reverted": 1, "cost_saved_per_day": 270000.0}
    assert k2.on_time_share == 1.0


def test_cli_trials(capsys, tmp_path):
    folder, p = _cli_day(tmp_path)
    code, out, err = run_cli(capsys, "plan", "capacity", folder, "--parcels", p, "--target", 1,
                             "--trials", 0, "--json")
    assert code == 0, err
    assert json.loads(out)["reverse"] == {"simulations": 0, "reverted": 0, "cost_saved_per_day": 0.0}
    code, out, err = run_cli(capsys, "plan", "capacity", folder, "--parcels", p, "--trials", -2)
    assert code == 2 and out == ""
    assert_one_line_error(err, "--trials", ">= 0")


def test_an_empty_day_is_refused_and_costs_name_their_currency(capsys, tmp_path):
    folder, p = _cli_day(tmp_path)
    empty = tmp_path / "empty.csv"
    empty.write_text("parcel_id,created_minute,origin_facility,dest_station\n")
    code, out, err = run_cli(capsys, "plan", "capacity", folder, "--parcels", empty)
    assert code == 2 and out == ""
    assert_one_line_error(err, "no parcels to plan capacity for")
    code, out, _ = run_cli(capsys, "plan", "capacity", folder, "--parcels", p, "--target", 1)
    text = " ".join(out.split())                 # the console wraps long lines
    assert code == 0
    assert "added cost CNY 300 a day (vehicles CNY 300, sorters CNY 0)" in text
    assert "1 -> 2 parcels a day, CNY 300 a day" in text

"""``parcelnet plan capacity`` on hand-checked days of the tiny network and end to end."""

from __future__ import annotations

import json

import numpy as np
import pytest

from parcelnet.errors import ParameterError
from parcelnet.network.pnf import load_network
from parcelnet.plan.capacity import changes, plan_capacity, with_capacity
from parcelnet.sim.kpis import kpis
from parcelnet.sim.run import simulate
from tests.conftest import FIXTURES, assert_one_line_error, run_cli
from tests.sim.test_kpis import variant


def _arrays(net, parcels):
    f = net.facility
    return ([p[0] for p in parcels], [p[1] for p in parcels], [f(p[2]) for p in parcels],
            [f(p[3]) for p in parcels])


def test_a_full_van_gets_a_larger_one(tiny):
    # T1 (L1, A->H1 at 18:00) holds 1: of 1 and 2 (A->B at 1000, promise 2100) 2 is left behind
    # and late. L1 boarded 2 parcels over the days, 1 left behind: capacity x (1 + 1/2) = 2.
    net = variant(tiny, trips={"T1": 1})
    plan = plan_capacity(net, *_arrays(net, [(1, 1000, "A", "B"), (2, 1000, "A", "B")]), target=1.0)
    assert [r["on_time_share"] for r in plan.rounds] == [0.5, 1.0]
    assert plan.reached and plan.after["on_time_share"] == 1.0
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
    before = kpis(simulate(net, *_arrays(net, parcels)))
    assert before["on_time_share"] < 1
    plan = plan_capacity(net, *_arrays(net, parcels), target=1.0)
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
    plan = plan_capacity(net, *_arrays(net, parcels), target=1.0, capacity_scale=0.1)
    assert plan.reached
    assert plan.lanes[["capacity_per_day", "new_capacity_per_day"]].values.tolist() == [[10, 15]]


def test_nothing_binds_nothing_changes(tiny):
    plan = plan_capacity(tiny, *_arrays(tiny, [(1, 1000, "A", "B"), (2, 1000, "A", "C")]),
                         target=1.0)
    # 2 (A->C) is on time too: capacity is not what keeps anything late here
    assert plan.lanes.empty and plan.sorters.empty and plan.cost_per_day == 0.0
    lanes, sorters, cost = changes(tiny, with_capacity(tiny, np.ones(6), np.ones(5)))
    assert lanes.empty and sorters.empty and cost == 0.0


def test_bad_parameters(tiny):
    a = _arrays(tiny, [(1, 1000, "A", "B")])
    for kw, words in [({"target": 0}, "target"), ({"target": 1.5}, "target"),
                      ({"max_rounds": 0}, "rounds"), ({"sorter_cost": -1}, "sorter cost"),
                      ({"capacity_scale": 0}, "capacity scale")]:
        with pytest.raises(ParameterError, match=words):
            plan_capacity(tiny, *a, **kw)


def test_cli(capsys, tmp_path):
    net = variant(load_network(FIXTURES / "tiny"), trips={"T1": 1})
    from parcelnet.network.pnf import write_pnf
    folder = write_pnf(net, tmp_path / "net")
    p = tmp_path / "P.csv"
    p.write_text("parcel_id,created_minute,origin_facility,dest_station\n1,1000,A,B\n2,1000,A,B\n")
    code, out, err = run_cli(capsys, "plan", "capacity", folder, "--parcels", p, "--target", 1,
                             "--out", tmp_path / "bigger", "--json")
    assert code == 0, err
    got = json.loads(out)
    assert got["reached"] and got["lanes"][0]["lane_id"] == "L1" and got["cost_per_day"] == 300.0
    again = load_network(tmp_path / "bigger")
    assert kpis(simulate(again, *_arrays(again, [(1, 1000, "A", "B"), (2, 1000, "A", "B")])))[
        "on_time_share"] == 1.0
    code, out, err = run_cli(capsys, "plan", "capacity", folder, "--parcels", p, "--target", "most")
    assert code == 2 and out == ""
    assert_one_line_error(err, "--target", "must be a share")

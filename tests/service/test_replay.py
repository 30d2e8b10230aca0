"""``parcelnet ops replay``: a simulated day played into a running service. Every parcel
becomes a shipment whose first promise is the simulator's, every journey the scans a
carrier would post, and the service ends where the simulation did."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pandas as pd
import pytest

from parcelnet.demand.files import write_parcels
from parcelnet.demand.generate import sample_parcels
from parcelnet.network.pnf import write_pnf
from parcelnet.network.scale import scale_capacity
from parcelnet.sim.run import simulate
from parcelnet_service.replay import plan
from parcelnet_service.shipments import CST
from tests.conftest import assert_one_line_error, run_cli

DAY = date(2026, 12, 1)


@pytest.fixture(scope="module")
def day(cn_gravity, tmp_path_factory):
    """200 parcels of a peak day on capacities scaled far down: queues and missed departures."""
    folder = tmp_path_factory.mktemp("replay")
    net = scale_capacity(cn_gravity, 200 / 777e6 * 3)
    write_pnf(net, folder / "cn")
    parcels = sample_parcels(net, 200, "peak", seed=4)
    fac = net.facility_index
    write_parcels(pd.DataFrame({"parcel_id": parcels.parcel_id, "created_minute": parcels.created_minute,
                                "origin_facility": fac[parcels.origin_pos].astype(str),
                                "dest_station": fac[parcels.dest_pos].astype(str)}),
                  folder / "day.parquet")
    return net, parcels, folder


def test_the_plan_follows_the_simulated_journeys(day):
    net, parcels, _ = day
    p = plan(net, parcels, DAY, "sf")
    res = simulate(net, parcels, record_hops=True)
    assert len(p.shipments) >= 0.95 * len(parcels)
    assert p.undelivered == int((res.delivered[res.routable] < 0).sum())
    # events of a parcel are in time order, start with its pick-up at creation, and a delivered
    # parcel's end with its delivery at the simulated minute
    by = {}
    for minute, pid, e in p.events:
        by.setdefault(pid, []).append((minute, e["type"]))
    day0 = datetime(2026, 12, 1, tzinfo=CST)
    delivered = dict(zip(res.parcel_id.tolist(), res.delivered.tolist()))
    created = dict(zip(parcels.parcel_id.tolist(), parcels.created_minute.tolist()))
    for pid, evs in by.items():
        assert [m for m, _ in evs] == sorted(m for m, _ in evs)
        assert evs[0] == (created[pid], "picked_up")
        if delivered[pid] >= 0:
            assert evs[-1] == (delivered[pid], "delivered")
        else:
            assert "delivered" not in [t for _, t in evs]
    assert all(e["at"].startswith("2026-12-0") for _, _, e in p.events)
    assert {e["type"] for _, _, e in p.events} >= {"picked_up", "arrived", "departed", "out_for_delivery",
                                                  "delivered"}
    assert all("trip" in e for _, _, e in p.events if e["type"] == "departed")
    assert day0.isoformat() <= min(b["created_at"] for _, _, b in p.shipments)


def test_a_replay_through_the_api_ends_where_the_simulation_did(capsys, day, live):
    net, parcels, folder = day
    url, svc = live
    svc.now = datetime(2026, 12, 9, 12, 0, tzinfo=CST)           # the run's week is over
    mk = svc.keys["shop"]["Authorization"].split()[1]
    ck = svc.keys["sf"]["Authorization"].split()[1]
    code, out, err = run_cli(capsys, "ops", "replay", folder / "cn", "--parcels", folder / "day.parquet",
                             "--url", url, "--speed", "0", "--date", "2026-12-01",
                             "--merchant-key", mk, "--carrier-key", ck, "--json")
    assert code == 0, err
    got = json.loads(out)
    assert got["shipments"] >= 0.95 * len(parcels) and got["shipments_refused"] == 0
    assert got["accepted"] == got["events"] > 0 and got["rejected"] == 0 and got["duplicates"] == 0, json.dumps(got)
    res = simulate(net, parcels)
    # the service's statuses: delivered exactly where the simulation delivered
    rows = []
    page = svc.get("/v1/shipments?limit=500").json()
    rows += page["shipments"]
    statuses = [s["status"] for s in rows]
    sim_delivered = int((res.delivered >= 0).sum())
    assert abs(statuses.count("delivered") - sim_delivered) <= len(parcels) - got["shipments"]
    # each first promise is the simulator's promise for that parcel, on the clock
    refs = {int(s["reference"].split("-")[1]): s for s in rows}
    promise = dict(zip(parcels.parcel_id.tolist(), res.promise.tolist()))
    day0 = datetime(2026, 12, 1, tzinfo=CST)
    for pid, s in list(refs.items())[:50]:
        t = svc.get(f"/v1/track/{s['waybill']}").json()
        first = t["promise_history"][0]["promise_at"]
        assert first == (day0 + timedelta(minutes=promise[pid])).isoformat()
    # the key of a merchant is not a carrier's
    code, _, err = run_cli(capsys, "ops", "replay", folder / "cn", "--parcels", folder / "day.parquet",
                           "--url", url, "--date", "2026-12-01", "--merchant-key", mk, "--carrier-key", mk)
    assert code == 2
    assert_one_line_error(err, "not a carrier")


def test_replay_refuses_a_day_in_the_future(capsys, day):
    _, _, folder = day
    code, _, err = run_cli(capsys, "ops", "replay", folder / "cn", "--parcels", folder / "day.parquet",
                           "--url", "http://127.0.0.1:9", "--date", "2999-01-01",
                           "--merchant-key", "x", "--carrier-key", "y")
    assert code == 2
    assert_one_line_error(err, "--date must lie in the past")
    code, _, err = run_cli(capsys, "ops", "replay", folder / "cn", "--parcels", folder / "day.parquet",
                           "--url", "http://127.0.0.1:9", "--merchant-key", "x", "--carrier-key", "y")
    assert code == 2
    assert_one_line_error(err, "cannot reach the service at http://127.0.0.1:9")

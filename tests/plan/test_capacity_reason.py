"""Capacity as a reason (``parcelnet explain --parcels``, ``parcelnet coverage --parcels``)
on the hand-checked tiny network: A -> B is promised at 2100 for an order at 1000 (T1 1080
A -> H1, T3 1350 the air trip H1 -> H2 with room for 300, T4 1740 H2 -> B, the 08:00 wave of
day 1 ends at 2100; see tests/plan/test_explain.py)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from parcelnet.network.model import Network
from parcelnet.network.pnf import write_pnf
from parcelnet.plan.capacity_reason import capacity_reason, day_outside_24h, order_on_a_day
from parcelnet.parcels import Parcels
from tests.conftest import run_cli


def _frame(net: Network, n: int, created: int = 1000) -> pd.DataFrame:
    return pd.DataFrame({"parcel_id": np.arange(n, dtype=np.int64),
                         "created_minute": np.full(n, created, np.int64),
                         "origin_pos": np.full(n, net.facility("A")),
                         "dest_pos": np.full(n, net.station("B"))})


def _day(net: Network, n: int, created: int = 1000) -> Parcels:
    return Parcels.from_frame(_frame(net, n, created))


def test_a_full_trip_is_named(tiny):
    # 400 parcels before the order: T3 takes 300; the order (the last id) waits a day
    day = order_on_a_day(tiny, _day(tiny, 400), "A", "B", 1000)
    sim = day.to_dict()
    assert sim["promise_minute"] == 2100
    assert sim["delivered_minute"] == 2100 + 1440 and sim["late_minutes"] == 1440
    assert not sim["within_24h"]
    assert sim["limit"]["kind"] == "lane" and sim["limit"]["id"] == "L3"
    r = capacity_reason(day, 1000, promised_within_24h=True)
    assert r["reason"] == "capacity limit" and r["minutes"] == 1440 and "L3" in r["text"]


def test_room_on_the_trip_means_no_limit(tiny):
    day = order_on_a_day(tiny, _day(tiny, 298), "A", "B", 1000)   # 299 parcels <= 300
    sim = day.to_dict()
    assert sim["delivered_minute"] == 2100 and sim["limit"] is None
    assert capacity_reason(day, 1000, True) is None


def test_a_sorter_backlog_is_named(tiny):
    # H1 sorts 1 parcel a minute from 1140 (T1's arrival) and needs 30 minutes more: parcel k
    # (from 0) is ready at 1170 + k, so only k <= 180 make T3 at 1350; the order is k = 200
    t = {k: v.copy() for k, v in tiny.tables.items()}
    f = t["facilities.csv"]
    f.loc[f["facility_id"] == "H1", "sort_per_minute"] = "1"
    net = Network.from_tables(t, tiny.meta)
    sim = order_on_a_day(net, _day(net, 200), "A", "B", 1000).to_dict()
    assert sim["late_minutes"] == 1440
    assert sim["limit"]["kind"] == "sorter" and sim["limit"]["id"] == "H1"


def test_day_shares(tiny):
    d = day_outside_24h(tiny, _day(tiny, 400)).to_dict()
    # all 400 promised within 24 h (2100 - 1000 = 1100 min); 100 miss T3 and arrive a day later
    assert d == {"parcels": 400, "capacity_scale": 1.0, "within_24h_by_promise": 1.0,
                 "within_24h_simulated": 0.75, "outside_24h_by_capacity": 0.25}


def test_cli(tiny, tmp_path, capsys):
    src = write_pnf(tiny, tmp_path / "net")
    day = _frame(tiny, 400)
    day["origin_facility"], day["dest_station"] = "A", "B"
    day[["parcel_id", "created_minute", "origin_facility", "dest_station"]].to_csv(
        tmp_path / "day.csv", index=False)
    code, out, _ = run_cli(capsys, "explain", src, "--from", "A", "--to", "B", "--at", "1000",
                           "--parcels", tmp_path / "day.csv", "--json")
    assert code == 0
    r = json.loads(out)
    assert r["within_24h"] and r["simulated"]["limit"]["id"] == "L3"
    assert [x["reason"] for x in r["reasons"]] == ["capacity limit"]
    code, out, _ = run_cli(capsys, "coverage", src, "--parcels", tmp_path / "day.csv",
                           "--map", tmp_path / "m", "--json")
    assert code == 0
    assert json.loads(out)["simulated_day"]["outside_24h_by_capacity"] == pytest.approx(0.25)

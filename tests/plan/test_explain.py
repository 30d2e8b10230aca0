"""``parcelnet explain`` on the hand-checked tiny network (tests/fixtures/tiny; see the
comments of tests/sim/test_kpis.py for its lanes, trips and waves)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from parcelnet.network.model import Network
from parcelnet.plan.explain import explain
from parcelnet.promise.bounds import free_flow, physical_minimum
from tests.conftest import FIXTURES, assert_one_line_error, run_cli


def _moved(net: Network, fid: str, lat: float, lon: float) -> Network:
    t = {k: v.copy() for k, v in net.tables.items()}
    f = t["facilities.csv"]
    f.loc[f["facility_id"] == fid, ["lat", "lon"]] = [str(lat), str(lon)]
    return Network.from_tables(t, net.meta)


def test_within_24h_steps_replay_the_promise(tiny):
    r = explain(tiny, "A", "B", 1000).to_dict()
    # ready at A 1010, T1 1080 -> H1 1140, ready 1170, T3 (air) 1350 -> H2 1440, ready 1470,
    # T4 1740 -> B 1800, ready 1810, day-1 wave 1920 -> 2100
    assert (r["promise_minute"], r["within_24h"], r["reasons"]) == (2100, True, [])
    dep = [(s["lane"], s["ready"], s["departs"], s["wait"], s["arrives"])
           for s in r["steps"] if s["step"] == "departure"]
    assert dep == [("L1", 1010, 1080, 70, 1140), ("L3", 1170, 1350, 180, 1440),
                   ("L4", 1470, 1740, 270, 1800)]
    assert r["steps"][-1] == {"at": "B", "step": "wave", "ready": 1810, "wave_start": 1920,
                              "wait": 110, "delivered": 2100}
    # no waiting at all: 10 + (60 + 30) + (90 + 30) + (60 + 10) + the shortest wave at B (120)
    assert r["fastest_possible_minutes"] == 410
    assert r["fastest_by_ground_minutes"] == 410 + 900 - 90      # the truck L2 instead of L3


def test_cut_off_missed_and_before_the_window(tiny):
    # 24 h needs T1 at 1080 (ready <= 1080: created <= 1070) and delivery 2100 - t <= 1440
    # (t >= 660): order times 11:00-17:50
    late = explain(tiny, "A", "B", 1100).to_dict()
    assert not late["within_24h"]
    kinds = [x["reason"] for x in late["reasons"]]
    assert kinds == ["timetable", "cut-off missed"]
    assert late["reasons"][1]["minutes"] == 30 and "17:50" in late["reasons"][1]["text"]
    early = explain(tiny, "A", "B", 600).to_dict()
    assert early["promise_minute"] == 2100                      # the same T1 as at 11:00
    assert [x["reason"] for x in early["reasons"]] == ["timetable", "before the window"]
    assert early["reasons"][1]["minutes"] == 60 and "11:00" in early["reasons"][1]["text"]


def test_no_air_link(tiny):
    # A -> C: only the 3000-minute truck L5; 2,790 km apart, a direct link at the network's
    # fastest speed (L3: 1200 km in 90 min = 800 km/h) would take well under a day
    r = explain(tiny, "A", "C", 1100).to_dict()
    assert [x["reason"] for x in r["reasons"]] == ["no air link"]
    assert r["fastest_possible_minutes"] == 10 + 90 + 3010 + 240
    assert "no air lane serves this pair" in r["reasons"][0]["text"]
    minutes, km, kmh = physical_minimum(tiny, tiny.facility("A"))
    c = tiny.facility("C")
    assert kmh == pytest.approx(800) and 2700 < km[c] < 2900 and minutes[c] < 1440
    # from A: 10 (A) + 0 + the shortest wave at A (180); to C: 10 + km / 800 * 60 + 10 + 240
    assert minutes[tiny.facility("A")] == 190
    assert minutes[c] == pytest.approx(260 + km[c] / 800 * 60)
    both = free_flow(tiny, np.array([tiny.facility("A"), tiny.facility("B")]))
    np.testing.assert_array_equal(both[0], free_flow(tiny, tiny.facility("A")))


def test_physically_impossible(tiny):
    far = _moved(tiny, "C", -30.0, -60.0)          # the other side of the earth from A
    r = explain(far, "A", "C", 1100).to_dict()
    assert [x["reason"] for x in r["reasons"]] == ["physically impossible"]
    assert r["physical_minimum_minutes"] > 1440


def test_unreachable(tiny):
    r = explain(tiny, "B", "A", 0).to_dict()
    assert r["promise_minute"] is None and [x["reason"] for x in r["reasons"]] == ["unreachable"]
    assert r["fastest_possible_minutes"] is None
    assert free_flow(tiny, tiny.facility("B"))[tiny.facility("A")] == float("inf")


def test_cli(capsys):
    code, out, err = run_cli(capsys, "explain", FIXTURES / "tiny", "--from", "A", "--to", "C",
                             "--at", 1100, "--json")
    assert code == 0, err
    assert json.loads(out)["reasons"][0]["reason"] == "no air link"
    code, out, _ = run_cli(capsys, "explain", FIXTURES / "tiny", "--from", "A", "--to", "B",
                           "--at", 1100)
    assert code == 0 and "cut-off missed" in out and "L1" in out


@pytest.mark.parametrize("args, words", [
    (["--from", "X", "--to", "B", "--at", 0], ["X"]),
    (["--from", "A", "--to", "H1", "--at", 0], ["H1", "not a station"]),
    (["--from", "A", "--to", "B", "--at", "noon"], ["--at", "must be an integer"]),
])
def test_cli_bad_input(capsys, args, words):
    code, out, err = run_cli(capsys, "explain", FIXTURES / "tiny", *args)
    assert code == 2 and out == ""
    assert_one_line_error(err, *words)

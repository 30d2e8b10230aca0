"""Coverage shares, checked by hand on the tiny network and against single queries."""

import numpy as np
import pytest

from parcelnet.promise import PromiseEngine, coverage
from tests.conftest import random_network


def test_tiny_from_a_by_hand(tiny):
    cov = coverage(tiny, ["A"])
    total = 3.5e6
    # hour 0: A itself (ready 00:10, wave 08:00-10:30... delivered same day) only; B needs the
    # 18:00 van -> day 1 10:30 wave end = 2100 > 1440; C is days away.
    assert cov.by_hour[0] == pytest.approx(1e6 / total)
    # hour 17 (1020): B delivered 2100, 1080 min later -> within; A within; C not
    assert cov.by_hour[17] == pytest.approx(3e6 / total)
    assert cov.by_hour[18] == pytest.approx(1e6 / total)   # 18:00 misses the 18:00 van (ready 18:10)
    assert dict(zip(cov.admin1, cov.by_admin1[:, 17])) == {"Beijing": 1.0, "Tibet": 0.0, "Zhejiang": 1.0}
    assert cov.population_share_24h == pytest.approx(cov.by_hour.mean())
    # outside 24 h: C (0.5 M) always, by "no air link" (only the 3000-minute truck L5, though
    # a direct link at 800 km/h would take hours); by the timetable, B (2 M) at the 17 order
    # hours outside 11:00-17:50, and A itself (1 M) at 08, 09 and 10, which just miss its
    # 08:00 wave (ready 08:10 or later: the next day's wave ends 27 h or more after the order)
    assert cov.why_not == pytest.approx({"unreachable": 0.0, "physically impossible": 0.0,
                                         "no air link": 0.5e6 / total,
                                         "timetable": (2e6 * 17 + 1e6 * 3) / 24 / total})
    assert (cov.by_hour[8:11] == 0).all()
    assert sum(cov.why_not.values()) == pytest.approx(1 - cov.population_share_24h)
    assert cov.to_dict()["outside_24h_by_reason"]["no air link"] == round(0.5e6 / total, 6)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_matches_single_queries(seed):
    net = random_network(seed)
    eng = PromiseEngine(net)
    origins = list(net.facility_index[net.hubs])
    cov = coverage(net, origins)
    pop = net.place_population
    for h in (0, 7, 13, 23):
        shares = []
        for o in origins:
            ok = [eng.query(o, net.facility_index[s], 60 * h).promise_minute for s in net.place_station]
            within = np.array([p is not None and p - 60 * h <= 1440 for p in ok])
            shares.append((pop * within).sum() / pop.sum())
        assert cov.by_hour[h] == pytest.approx(np.mean(shares))


def test_a_place_some_origins_cannot_reach_keeps_the_hours_of_those_that_can(tiny):
    """Averaged over origins, a place is unreachable only when no origin reaches it (the US map
    used to show every place as unreachable because one hub could not reach it)."""
    from parcelnet.promise import PromiseEngine
    cov = coverage(tiny, ["A", "C"])              # C reaches nothing; A reaches B and C
    st = list(tiny.facility_index[tiny.stations])
    hours = dict(zip(st, cov.station_hours))
    assert np.isfinite(hours["B"]) and np.isfinite(hours["C"])
    eng = PromiseEngine(tiny)
    want = np.mean([eng.query("A", "B", 60 * h).hours for h in range(24)])
    assert hours["B"] == pytest.approx(want)
    reach = dict(zip(st, cov.station_reach))
    assert reach["B"] == pytest.approx(0.5)        # A at every hour, C never


def test_coverage_refuses_a_capacity_scale_of_zero(capsys, tmp_path):
    from tests.conftest import FIXTURES, assert_one_line_error, run_cli
    day = tmp_path / "d.csv"
    day.write_text("parcel_id,created_minute,origin_facility,dest_station\n1,1000,A,B\n")
    for scale in ("0", "-1", "abc"):
        code, out, err = run_cli(capsys, "coverage", FIXTURES / "tiny", "--parcels", day,
                                 "--capacity-scale", scale, "--map", tmp_path / "m")
        assert code == 2 and out == ""
        assert_one_line_error(err, "--capacity-scale must be a positive number")

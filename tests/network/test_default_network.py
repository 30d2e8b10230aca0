"""The exactness checks hold on the default China network (its bank timetable, trunks, air
gateways and night sort), not only on hand-made and random ones: promises agree with the
independent oracle, and the simulator agrees with the SimPy peer under congestion.

``cn_gravity`` has the default build's layout, lanes and timetable (only its capacities come
from the gravity model), which is all that promises and paths read; the simulation scales its
capacities down so that queues form everywhere.
"""

from __future__ import annotations

import numpy as np
import pytest

from parcelnet.network.pnf import load_network, write_pnf
from parcelnet.network.scale import scale_capacity
from parcelnet.promise import PromiseEngine
from parcelnet.promise.engine import INF
from tests.promise import oracle
from tests.sim.test_rules import run_all_simulators

MAIN_ORIGINS = ["C3301", "C3307", "C4401", "C4403", "C3100", "C3205", "C3505", "C1100"]


@pytest.mark.long
def test_promises_match_the_oracle_on_the_default_network(cn_gravity):
    net = cn_gravity
    eng = PromiseEngine(net)
    rng = np.random.default_rng(16)
    stations = net.facility_index[net.stations]
    far = ["S650102", "S540102", "S230102", "S460105"]       # Urumqi, Lhasa, Harbin, Haikou
    queries = [(o, d, 20 * 60) for o, d in zip(MAIN_ORIGINS, far * 2)]
    queries += [(str(rng.choice(stations)), str(rng.choice(stations)), int(rng.integers(0, 2 * 1440)))
                for _ in range(8)]
    flown = 0
    for o, d, t in queries:
        p = eng.query(o, d, t)
        assert p.promise_minute == oracle.promise(net, o, d, t), (o, d, t)
        assert oracle.path_delivery(net, o, list(p.path), t) == (d, p.promise_minute)
        flown += any(lane.endswith("/air") for lane in p.path)
    assert flown >= 4                                   # the far cities are reached by air


def test_the_simulator_agrees_with_the_simpy_peer_on_the_default_network(cn_gravity, tmp_path):
    net = scale_capacity(cn_gravity, 1e-6)              # one parcel a trip, one a minute a sorter
    write_pnf(net, tmp_path)
    net = load_network(tmp_path)
    rng = np.random.default_rng(3)
    n = 300
    o = rng.choice(net.stations, n)
    d = rng.choice(net.stations, n)
    c = rng.integers(17 * 60, 23 * 60, n)                  # the evening, when the banks fill
    prom, (ptr, lanes) = PromiseEngine(net).promise_many(o, d, c, paths=True)
    assert (prom < INF).all()
    ids = net.facility_index
    parcels = [(i, int(c[i]), ids[o[i]], ids[d[i]], net.lane_ids(lanes[ptr[i]:ptr[i + 1]]))
               for i in range(n)]
    assert sum(any(x.endswith("/air") for x in p[4]) for p in parcels) > 10
    res = run_all_simulators(tmp_path, parcels, horizon_minutes=10 * 1440)
    assert res["simpy"] == res["parcelnet"]
    late = [p[0] for p in parcels if res["simpy"][p[0]] > prom[p[0]]]
    assert len(late) > 10                               # the queues really bind
    assert all(res["simpy"][p[0]] >= prom[p[0]] for p in parcels)

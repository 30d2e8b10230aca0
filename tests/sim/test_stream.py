"""A streamed day (parcelnet.sim.stream) gives the delivered minutes and KPIs of the
in-memory simulation, block by block, and rejects blocks it cannot stream."""

from __future__ import annotations

import numpy as np
import pytest

from parcelnet.demand import demand_model, generate_parcels, iter_parcel_blocks
from parcelnet.parcels import Parcels
from parcelnet.errors import ValidationError
from parcelnet.network.model import Network
from parcelnet.sim.kpis import kpis
from parcelnet.sim.run import simulate
from parcelnet.sim.stream import simulate_blocks, simulate_day
from tests.conftest import random_network

DAY = 1440


def _tight(net: Network, cap: int, spm: int) -> Network:
    t = {k: v.copy() for k, v in net.tables.items()}
    t["trips.csv"]["capacity"] = str(cap)
    t["facilities.csv"]["sort_per_minute"] = str(spm)
    return Network.from_tables(t, net.meta)


def _day(net: Network, seed: int, n: int):
    """n parcels from any facility to any station (some unroutable), ids in creation order."""
    rng = np.random.default_rng(seed)
    o = rng.integers(0, net.timetable.n_facilities, n)
    d = rng.choice(net.stations, n)
    t = np.sort(rng.integers(0, DAY, n))
    return np.arange(n), t, o, d


def _blocks(ids, t, o, d, cuts):
    """Blocks split before the given parcel positions (each at a minute boundary)."""
    edges = [0, *cuts, len(ids)]
    return [Parcels(ids[a:b], t[a:b], o[a:b], d[a:b]) for a, b in zip(edges, edges[1:])]


def _minute_cuts(t, k):
    """Up to k block boundaries at positions where the minute changes."""
    change = np.flatnonzero(np.diff(t)) + 1
    return sorted(set(change[np.linspace(0, len(change) - 1, k).astype(int)])) if len(change) else []


def _same(net, ids, t, o, d, blocks, horizon=None):
    day = simulate_blocks(net, blocks, len(ids), horizon_minutes=horizon)
    mem = simulate(net, Parcels(ids, t, o, d), horizon_minutes=horizon)
    np.testing.assert_array_equal(day.delivered, mem.delivered)
    np.testing.assert_array_equal(day.promise, mem.promise)
    k1, k2 = day.kpis().to_dict(), kpis(mem).to_dict()
    k1.pop("seconds"), k2.pop("seconds")
    assert k1 == k2
    return day, mem


@pytest.mark.parametrize("seed", range(6))
def test_streamed_blocks_equal_the_in_memory_run_under_tight_capacities(seed):
    net = _tight(random_network(seed, n=9, lanes=20), cap=2, spm=3)
    ids, t, o, d = _day(net, seed, 3000)
    day, mem = _same(net, ids, t, o, d, _blocks(ids, t, o, d, _minute_cuts(t, 5)))
    assert (mem.raw.left_behind > 0).any()                      # the capacities bind
    np.testing.assert_array_equal(day.raw.left_behind, mem.raw.left_behind)
    np.testing.assert_array_equal(day.raw.backlog_peak, mem.raw.backlog_peak)
    np.testing.assert_array_equal(day.raw.trip_boarded, mem.raw.trip_boarded)


def test_short_horizon_and_one_block(tiny):
    net = _tight(tiny, cap=1, spm=0)
    ids, t, o, d = _day(net, 4, 400)
    # a one-day horizon leaves parcels undelivered: they are reported, as in memory
    day, _ = _same(net, ids, t, o, d, [Parcels(ids, t, o, d)], horizon=DAY)
    k = day.kpis().to_dict()
    assert k["not_delivered"] > 0
    assert k["delivered"] + k["not_delivered"] + k["unroutable"] == 400


def test_simulate_day_is_the_demand_file_simulated(tiny):
    df = generate_parcels(tiny, 20_000, "peak", seed=9)
    mem = simulate(tiny, Parcels.from_frame(df, tiny))
    day = simulate_day(tiny, 20_000, "peak", seed=9)
    np.testing.assert_array_equal(day.delivered, mem.delivered)
    k1, k2 = day.kpis().to_dict(), kpis(mem).to_dict()
    k1.pop("seconds"), k2.pop("seconds")
    assert k1 == k2
    assert set(day.seconds) >= {"demand", "routes", "simulation", "total"}


@pytest.fixture()
def blocks(tiny):
    return list(iter_parcel_blocks(demand_model(tiny), 5000, seed=1, chunk_parcels=1000))


def _shift(b: Parcels, **kw) -> Parcels:
    return b.replace(**kw)


def test_bad_blocks(tiny, blocks):
    n = 5000
    cases = [
        ([_shift(blocks[0], parcel_id=blocks[0].parcel_id + 1), *blocks[1:]], n, "must have ids 0, 1, ..."),
        ([blocks[1], blocks[0], *blocks[2:]], n, "must have ids 0, 1, ..."),
        (blocks[:-1], n, "parcels streamed"),
        (blocks, n - 1, "more than the"),
        ([_shift(blocks[0], dest_pos=np.full(len(blocks[0].parcel_id), tiny.facility("H1"))),
          *blocks[1:]], n, "destination is not a station"),
    ]
    b1 = blocks[1]
    same_minute = b1.created_minute.copy()
    same_minute[0] = blocks[0].created_minute[-1]
    cases.append(([blocks[0], _shift(b1, created_minute=same_minute), *blocks[2:]], n,
                  "not after the previous block"))
    back = blocks[0].created_minute[::-1].copy()
    assert back[0] > back[-1]
    cases.append(([_shift(blocks[0], created_minute=back), *blocks[1:]], n, "created before"))
    for bl, count, words in cases:
        with pytest.raises(ValidationError, match=words):
            simulate_blocks(tiny, iter(bl), count)
    with pytest.raises(ValidationError, match="after the last minute 100"):
        simulate_blocks(tiny, iter(blocks), n, last_minute=100)

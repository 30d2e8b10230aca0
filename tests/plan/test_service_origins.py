"""Service design for named origins (``parcelnet plan service --origins``): each origin's share
and the province floor as the model keeps them equal the promise engine's on the designed
network, the per-origin target against enumeration, an origin that cannot reach the target
(achievable maximum and bounds), a floor that keeps a trip, the loss report, city centres as
gateways (trunk lanes), and the CLI."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from parcelnet.network.model import Network
from parcelnet.network.pnf import load_network, write_pnf
from parcelnet.plan.service import design_service
from parcelnet.plan.service import _kernels as K
from parcelnet.plan.service import model as service_model
from parcelnet.plan.service.floor import HORIZON, make_floor, weighted_median
from parcelnet.plan.service.model import build_model
from parcelnet.plan.service.report import apply_design, province_histogram, promise_losses
from parcelnet.plan.service.solve import exact, greedy, reach
from parcelnet.parcels import Parcels
from parcelnet.promise.coverage import coverage
from parcelnet.promise.engine import PromiseEngine
from tests.conftest import assert_one_line_error, run_cli
from tests.plan.test_service import HUBS, RING, SMALL, four_hubs, from_rows

TIERS = ("feeder", "linehaul", "trunk", "air")
#: roughly the antipode of Shanghai: no link at any speed makes 24 h
FAR = (-31.0, -58.0)


def centres(backbone, far: bool = False) -> Network:
    """Hubs (``HUBS``, and "XX" near the antipode with ``far``), each with two city centres
    (a, b: kind hub, 30 min to sort) of two stations each. Stations: first mile at 20:00,
    last mile at 07:00 and 12:00, waves at 08:00 and 13:00 (2 h); feeders centre -> hub at
    22:00 and 02:00, hub -> centre at 04:00 and 06:00 (90 min). ``backbone`` rows: (from, to,
    mode, minutes, departures, tier). Populations: hub i, centre a, station k: 1000 (i + 1) k;
    centre b: 500 more each. Places: admin1 the hub, admin2 the centre."""
    hubs = dict(HUBS) | ({"XX": FAR} if far else {})
    fac, lanes, trips, waves, places = [], [], [], [], []
    rows = []
    for i, (h, (lat, lon)) in enumerate(hubs.items()):
        fac.append((h, "hub", f"{h} hub", lat, lon, 0, 60))
        for c in "ab":
            cid = f"{h}{c}"
            clat, clon = lat + (0.4 if c == "a" else -0.4), lon + 0.3
            fac.append((cid, "hub", f"{cid} centre", clat, clon, 0, 30))
            for k in (1, 2):
                s = f"{cid}{k}"
                fac.append((s, "station", f"{s} station", clat + 0.05 * k, clon, 0, 10))
                lanes += [(f"{s}>{cid}", s, cid, "van", 20 * k, 10.0, 50, "first_mile"),
                          (f"{cid}>{s}", cid, s, "van", 20 * k, 10.0, 50, "last_mile")]
                trips += [(f"{s}>{cid}@a", f"{s}>{cid}", 1200, 500),
                          (f"{cid}>{s}@a", f"{cid}>{s}", 420, 500),
                          (f"{cid}>{s}@b", f"{cid}>{s}", 720, 500)]
                waves += [(s, 480, 120), (s, 780, 120)]
                places.append((f"p{s}", s, clat, clon, (i + 1) * 1000 * k + 500 * (c == "b"),
                               h, cid, s))
            rows += [(cid, h, "truck", 90, [1320, 120], "feeder"),
                     (h, cid, "truck", 90, [240, 360], "feeder")]
    for a, b, mode, minutes, deps, tier in rows + list(backbone):
        lid = f"{a}>{b}:{mode}"
        lanes.append((lid, a, b, mode, minutes, 500.0, 2000 if mode == "truck" else 9000, tier))
        trips += [(f"{lid}@{d}", lid, d, 3000) for d in deps]
    return from_rows(fac, lanes, trips, waves, places)


#: linehaul between hubs, an air lane, and trunks directly between city centres
BACKBONE = [("SH", "BJ", "truck", 700, [0], "linehaul"), ("BJ", "SH", "truck", 700, [0], "linehaul"),
            ("SH", "GZ", "truck", 800, [0, 120], "linehaul"), ("GZ", "SH", "truck", 800, [0], "linehaul"),
            ("BJ", "CD", "truck", 1100, [0], "linehaul"), ("CD", "GZ", "truck", 1000, [0], "linehaul"),
            ("GZ", "CD", "truck", 1000, [60], "linehaul"), ("SH", "CD", "air", 200, [60], "air"),
            ("SHa", "BJa", "truck", 650, [1380], "trunk"), ("BJa", "SHa", "truck", 650, [1380], "trunk"),
            ("SHb", "GZa", "truck", 760, [1380], "trunk")]
FAR_LANES = [("SH", "XX", "truck", 3000, [0], "linehaul"), ("XX", "SH", "truck", 3000, [0], "linehaul")]


@pytest.fixture(scope="module")
def ring() -> Network:
    return four_hubs(RING)


@pytest.fixture(scope="module")
def trunks() -> Network:
    return centres(BACKBONE)


def _engine_share(net: Network, origin: str, hour: int) -> float:
    return coverage(net, [origin], [hour * 60]).population_share_24h


def test_origin_shares_are_the_promise_engines(ring, trunks):
    """The model's share of each named origin, on random choices of trips, is the promise
    engine's on the network that choice makes; with city centres as gateways too."""
    rng = np.random.default_rng(5)
    for net, origins, tiers in ((ring, ["SH1", "BJ2", "GZ"], ("linehaul", "air")),
                                (trunks, ["SHa", "BJb2", "GZ"], TIERS)):
        m = build_model(net, tiers=tiers, origins=origins, hour=20, relay=2)
        assert len(m.origins) == len(origins) and m.hour == 20
        assert m.origin_values(m.current) == pytest.approx(
            [_engine_share(net, o, 20) for o in origins], abs=1e-12)
        for _ in range(8):
            act = rng.random(len(m.cand)) < 0.5
            new = apply_design(m, act)
            assert m.origin_values(act) == pytest.approx(
                [_engine_share(new, o, 20) for o in origins], abs=1e-12)
            assert m.value(act) == pytest.approx(np.mean(m.origin_values(act)), abs=1e-12)
    with pytest.raises(ValueError, match="named twice"):
        build_model(ring, origins=["SH1", "SH1"], hour=20)
    with pytest.raises(ValueError, match="order hour"):
        build_model(ring, origins=["SH1"], hour=24)
    with pytest.raises(LookupError, match="unknown facility 'nowhere'"):
        build_model(ring, origins=["nowhere"], hour=20)


def _brute_per_origin(m, target, connected, add_only=False):
    """The least cost of a choice that keeps every origin at min(target, its maximum) (and,
    with ``add_only``, every trip of today's network)."""
    n = len(m.cand)
    goals = np.minimum(target, m.origin_values(np.ones(n, bool)))
    full = reach(m, np.ones(n, bool))
    free = np.flatnonzero(~m.current) if add_only else np.arange(n)
    best = None
    for bits in itertools.product([False, True], repeat=len(free)):
        act = m.current.copy() if add_only else np.zeros(n, bool)
        act[free] = bits
        if connected and (full & ~reach(m, act)).any():
            continue
        if (m.origin_values(act) >= goals - 1e-12).all():
            cost = m.cost(act)
            best = cost if best is None else min(best, cost)
    return best


@pytest.mark.parametrize("connected", [False, True])
def test_target_per_origin_against_enumeration(connected):
    """On a 10-candidate network the exact MIP's cost equals enumeration's, for targets every
    origin reaches and one that not every origin does; the greedy keeps every origin at its
    goal and costs no less."""
    net = four_hubs(SMALL)
    m = build_model(net, origins=["SH1", "BJ2", "GZ1"], hour=20, new_air=False, step=720)
    assert len(m.cand) == 10
    top = m.origin_values(np.ones(10, bool))
    for target in (0.3, 0.5, 0.7, 0.95):
        best = _brute_per_origin(m, target, connected)
        ex = exact(m, target=target, per_origin=True, keep_connected=connected)
        assert ex.cost == pytest.approx(best)
        assert (ex.origin_values >= np.minimum(target, top) - 1e-12).all()
        gr = greedy(m, target=target, per_origin=True, keep_connected=connected)
        assert (gr.origin_values >= np.minimum(target, top) - 1e-12).all()
        assert gr.cost >= best - 1e-9
        assert gr.origin_targets == pytest.approx(np.minimum(target, top))
    assert (top < 0.95).any()                      # the last target is out of reach for some


def test_add_only_against_enumeration():
    """With add-only every trip of today's network stays: the MIP's cost equals
    enumeration's over the choices that keep them, the greedy keeps them and every origin at
    its goal, and a budget below today's cost is refused."""
    net = four_hubs(SMALL)
    m = build_model(net, origins=["SH1", "BJ2", "GZ1"], hour=20, new_air=True, step=720)
    assert 0 < m.current.sum() and (~m.current).sum() <= 16
    top = m.origin_values(np.ones(len(m.cand), bool))
    now = m.origin_values(m.current)
    for target in (0.3, 0.7, 0.95):
        best = _brute_per_origin(m, target, False, add_only=True)
        ex = exact(m, target=target, per_origin=True, keep_connected=False, add_only=True)
        gr = greedy(m, target=target, per_origin=True, keep_connected=False, add_only=True)
        assert ex.cost == pytest.approx(best)
        for d in (ex, gr):
            assert d.active[m.current].all()
            assert (d.origin_values >= np.minimum(target, top) - 1e-12).all()
            assert (d.origin_values >= now - 1e-12).all()
        assert gr.cost >= best - 1e-9
    assert (now < 0.95).any() and m.cost(gr.active) > m.cost(m.current)    # it had to add
    with pytest.raises(ValueError, match="below the cost of today's trips"):
        greedy(m, budget=m.cost(m.current) - 1, add_only=True)


def test_add_only_loses_no_promise(trunks):
    """The whole pipeline with add-only: no province and no (origin, city) pair loses, each
    origin reaches the target or its maximum, and the new network has every old trip."""
    d = design_service(trunks, origins=["SHa", "GZb"], order_hour=20, target=0.9, add_only=True)
    assert d.add_only and d.provinces_losing == [] and d.pairs_losing == []
    assert d.cost_after >= d.cost_before
    old = set(trunks.tables["trips.csv"]["trip_id"])
    assert old <= set(d.network.tables["trips.csv"]["trip_id"])
    for r in d.origins:
        assert r["share_after"] >= min(0.9, r["achievable_max"]) - 1e-12
        assert r["share_after"] >= r["share_before"] - 1e-12


def test_an_origin_that_cannot_reach_the_target():
    """Hub XX lies near Shanghai's antipode: no link at any speed makes 24 h, so from any
    other city at most 1 - XX's population share is reachable. The design holds each origin
    to what it can reach, names the shortfall and shows the physical bound exactly."""
    net = centres(BACKBONE + FAR_LANES, far=True)
    xx = 6000 * 5 + 1000                            # XX's population: 31,000 of 95,000
    assert int(net.place_population.sum()) == 95_000
    d = design_service(net, origins=["SHa", "BJb"], order_hour=20, target=0.95, tiers=TIERS)
    assert d.per_origin and d.order_hour == 20
    for r in d.origins:
        assert r["physically_impossible_share"] == pytest.approx(xx / 95_000, abs=1e-12)
        assert r["achievable_max"] <= 1 - xx / 95_000 + 1e-12
        assert r["free_flow_share"] <= 1 - xx / 95_000 + 1e-12
        assert r["shortfall"] == pytest.approx(0.95 - r["achievable_max"])
        assert r["held_to"] == pytest.approx(r["achievable_max"])
        assert r["share_after"] >= r["achievable_max"] - 1e-12       # held to the maximum
        assert r["share_after"] == pytest.approx(_engine_share(d.network, r["origin"], 20), abs=1e-12)
        why = r["outside_24h_by_reason"]
        assert why["physically impossible"] == pytest.approx(xx / 95_000, abs=1e-12)
        assert sum(why.values()) == pytest.approx(1 - r["share_after"], abs=1e-12)
        top = r["largest_beyond_24h"][0]             # XXb2, 10,500 people, the largest place
        assert (top["place_id"], top["population"], top["reason"]) == ("pXXb2", 10_500,
                                                                        "physically impossible")
        pops = [p["population"] for p in r["largest_beyond_24h"]]
        assert pops == sorted(pops, reverse=True)


def test_a_floor_keeps_a_trip():
    """From SH1 at 20:00 with a 50% target the greedy drops the truck SH > GZ (GZ's stations
    are beyond 24 h either way): GZ's median promise grows from 38.5 h (the 23:00 truck,
    arriving 12:20, the last mile the day after next at 06:00, the wave until 10:30) to
    62.5 h. With a 1-hour floor one more truck into GZ stays: a new 04:00 CD > GZ, after the
    23:00 flight to CD, arrives at 20:40, in time for the same last mile; every province's
    median is then within an hour of before, by the promise engine."""
    net = four_hubs(RING)
    kw = dict(origins=["SH1"], order_hour=20, target=0.5, new_air=False, last_share=0)
    free = design_service(net, **kw)
    held = design_service(net, **kw, max_province_loss_hours=1)
    eng = [PromiseEngine(x) for x in (net, free.network)]
    assert eng[0].query("SH1", "GZ2", 1200).hours == 38.5
    assert eng[1].query("SH1", "GZ2", 1200).hours == 62.5
    assert free.provinces_losing == [{"admin1": "GZ", "median_hours_before": 38.5,
                                      "median_hours_after": 62.5, "share_24h_before": 0.0,
                                      "share_24h_after": 0.0}]
    trips = [set(x.network.tables["trips.csv"]["trip_id"]) for x in (free, held)]
    assert trips[1] - trips[0] == {"CD>GZ:truck@0400"} and trips[0] < trips[1]
    assert "SH>GZ:truck@1380" not in trips[0]
    assert PromiseEngine(held.network).query("SH1", "GZ2", 1200).hours == 38.5
    assert held.floor == {"max_province_loss_hours": 1.0, "trips_kept": 1, "provinces_limited": 4}
    assert held.provinces_losing == []
    prov = held.provinces.set_index("admin1")
    assert (prov["median_hours_after"] <= prov["median_hours_before"] + 1).all()
    assert held.cost_after == free.cost_after + 5000 and held.origins[0]["share_after"] >= 0.5
    # the pairs that lose are the promise engine's (one place per city here)
    for r in free.pairs_losing:
        st = r["admin2"]
        assert r["origin"] == "SH1"
        assert r["median_hours_before"] == eng[0].query("SH1", st, 1200).hours
        assert r["median_hours_after"] == eng[1].query("SH1", st, 1200).hours
    assert {r["admin2"] for r in free.pairs_losing} == {"GZ1", "GZ2"}


def _engine_within(net, units, limit):
    """Per province, the weight (units x population) promised within its limit, by the
    promise engine: the floor's quantity, computed independently."""
    hist = province_histogram(net, units)
    cum = np.cumsum(hist, axis=1)
    return np.array([cum[p, lim] if lim >= 0 else 0 for p, lim in enumerate(limit)])


@pytest.mark.parametrize("case", ["hubs", "demand", "origins"])
def test_the_floor_check_is_exact(ring, trunks, case):
    """The floor's count of each province's weight within its limit (model: inside the areas
    once, across the backbone per search) equals the promise engine's on the network of
    random choices of trips, to the unit; so holding the floor is exactly the engine's
    medians staying within their limits."""
    if case == "hubs":
        net, m = ring, build_model(ring)
    elif case == "demand":
        st = np.repeat(ring.stations, [3, 1, 4, 1, 5, 9, 2, 6])
        created = np.resize(np.array([60, 480, 1200, 1260, 1320]), len(st))
        net, m = ring, build_model(ring, demand=Parcels(np.arange(len(st)), created, st, st))
    else:
        net, m = trunks, build_model(trunks, tiers=TIERS, origins=["SHa", "GZb1"], hour=20)
    med = weighted_median(province_histogram(net, m.units))
    assert (med >= 0).all() and (med < HORIZON).all()
    rng = np.random.default_rng(11)
    seen = set()
    for hours in (0, 0.5, 3, 24):
        floor = make_floor(m, hours, med)
        for i in range(6):
            act = rng.random(len(m.cand)) < rng.uniform(0.2, 0.8)
            if i % 2:
                act &= m.current                 # some of today's trips: medians grow
            _, arr, _ = m.searches(act)
            within = floor.fixed + floor.key_within(m, np.arange(len(m.keys["src"])), arr).sum(axis=0)
            new = apply_design(m, act)
            assert (within == _engine_within(new, m.units, floor.limit)).all()
            after = weighted_median(province_histogram(new, m.units))
            ok = ((after >= 0) & (after <= floor.limit)).all()
            assert floor.holds(within) == ok
            seen.add(bool(ok))
    assert seen == {True, False}


def test_the_loss_report(ring):
    """Provinces: the weighted median over the hubs' orders of every hour (each place by its
    population) and the 24 h share, before and after; pairs: per (origin, city)."""
    m = build_model(ring, new_air=False)
    act = m.current.copy()
    act[np.flatnonzero(m.cand.lane_id == "SH>CD:air")] = False
    after = apply_design(m, act)
    prov, pairs = promise_losses(ring, after, m.units)
    eng = [PromiseEngine(x) for x in (ring, after)]
    hubs = ["SH", "BJ", "GZ", "CD"]
    for k, col in ((0, "before"), (1, "after")):
        # CD1 and CD2 are delivered on the same waves, so each (hub, hour) row has one promise
        # into CD, and CD's median is the 48th of the 96 rows' promises
        h = sorted(eng[k].query(o, "CD2", 60 * t).promise_minute - 60 * t
                   for o in hubs for t in range(24))
        assert h == sorted(eng[k].query(o, "CD1", 60 * t).promise_minute - 60 * t
                           for o in hubs for t in range(24))
        assert prov.set_index("admin1").loc["CD", f"median_hours_{col}"] == round(h[47] / 60, 2)
    cov = [coverage(x) for x in (ring, after)]
    names = cov[0].admin1
    for k, col in ((0, "before"), (1, "after")):
        got = prov.set_index("admin1")[f"share_24h_{col}"]
        for a, v in zip(names, cov[k].by_admin1.mean(axis=1)):
            assert got[a] == pytest.approx(v, abs=1e-12)
    lost = pairs.set_index(["origin", "admin2"])
    assert ("SH", "CD1") in lost.index
    for (o, city), r in lost.iterrows():
        hb = sorted(eng[0].query(o, city, 60 * t).promise_minute - 60 * t for t in range(24))
        ha = sorted(eng[1].query(o, city, 60 * t).promise_minute - 60 * t for t in range(24))
        assert (r["median_hours_before"], r["median_hours_after"]) == (hb[11] / 60, ha[11] / 60)
        assert ha[11] > hb[11] or sum(x <= 1440 for x in ha) < sum(x <= 1440 for x in hb)


def test_the_heap_search_is_the_scan():
    """Beyond HEAP_ABOVE gateways the search takes the next gateway from a heap: arrivals are
    those of a plain Dijkstra on the same rules."""
    rng = np.random.default_rng(2)
    k = K.HEAP_ABOVE + 60
    m = 4000
    frm, to = rng.integers(0, k, m), rng.integers(0, k, m)
    dep, dur = rng.integers(0, 1440, m), rng.integers(30, 900, m)
    process = rng.integers(0, 120, k)
    active = rng.random(m) < 0.7
    order = np.argsort(frm, kind="stable")
    ptr = np.r_[0, np.cumsum(np.bincount(frm, minlength=k))].astype(np.int64)
    arr, pred = np.empty(k, np.int64), np.empty(k, np.int64)
    K.backbone_search(3, 500, ptr, order.astype(np.int64), to[order], dep[order], dur[order],
                      process, active, arr, pred)
    best = np.full(k, K.INF)
    best[3] = 500
    done = np.zeros(k, bool)
    while True:
        ready = np.where(done | (best >= K.INF), K.INF, best + process)
        u = int(np.argmin(ready))
        if ready[u] >= K.INF:
            break
        done[u] = True
        for j in np.flatnonzero((frm == u) & active):
            r = ready[u]
            best[to[j]] = min(best[to[j]], r + (dep[j] - r) % 1440 + dur[j])
    assert (arr == best).all()
    for v in np.flatnonzero((pred >= 0)):
        assert to[pred[v]] == v and arr[frm[pred[v]]] < K.INF


def test_city_centres_are_gateways_with_trunk_lanes(trunks, monkeypatch):
    """With feeders and trunks designed, every centre is a gateway (its area: its stations)
    and each hub stands alone; the design holds each origin's target, checked by the promise
    engine. With many gateways, new air links join hubs and the gateways that fly, or any
    gateway to a hub that flies (a new air gateway)."""
    m = build_model(trunks, tiers=TIERS, origins=["SHa"], hour=20)
    fac = trunks.facility_index
    assert sorted(fac[m.gateways]) == sorted(["SH", "BJ", "GZ", "CD"] +
                                             [f"{h}{c}" for h in "SH BJ GZ CD".split() for c in "ab"])
    air = m.cand.new_lanes
    assert {"SHa", "GZb"} <= set(air["from_facility"])     # few gateways: any two
    monkeypatch.setattr(service_model, "AIR_GATEWAYS_ALL_UP_TO", 4)
    air = build_model(trunks, tiers=TIERS, origins=["SHa"], hour=20).cand.new_lanes
    hubs, sorts = {"SH", "BJ", "GZ", "CD"}, {"SH", "CD"}       # SH and CD fly today
    for a, b in zip(air["from_facility"], air["to_facility"]):
        assert {a, b} <= hubs or a in sorts or b in sorts
    ends = set(air["from_facility"]) | set(air["to_facility"])
    assert ends - hubs and "BJa" in ends                      # centres may join an air hub's sort
    monkeypatch.undo()
    d = design_service(trunks, origins=["SHa", "GZb"], order_hour=20, target=0.9, tiers=TIERS)
    assert [r["share_after"] for r in d.origins] == pytest.approx(
        [_engine_share(d.network, o, 20) for o in ("SHa", "GZb")], abs=1e-12)
    for r in d.origins:
        assert r["share_after"] >= min(0.9, r["achievable_max"]) - 1e-12
    ls = d.last_share
    assert ls["lower_target"] == pytest.approx(0.85)
    assert ls["cost_at_lower_target"] <= ls["cost_at_target"] == d.cost_after
    lower = greedy(build_model(trunks, tiers=TIERS, origins=["SHa", "GZb"], hour=20, step=60,
                               relay=3), target=0.85, per_origin=True)
    assert ls["cost_at_lower_target"] == pytest.approx(min(lower.cost, d.cost_after))


def test_a_budget_the_floor_cannot_meet(ring):
    """A floor of 0 hours at a budget below today's: the greedy from every candidate cannot
    meet it, so it starts again from today's trips; the budget is reported as not met."""
    d = design_service(ring, budget=50_000, max_province_loss_hours=0)
    assert not d.budget_met and d.cost_after <= d.cost_before
    assert d.method == "greedy (from today's trips)"
    assert d.provinces_losing == [] and d.floor["trips_kept"] > 0
    assert all(p["median_hours_after"] <= p["median_hours_before"]
               for p in d.provinces.to_dict("records"))
    with pytest.raises(ValueError, match="greedy method"):
        design_service(ring, method="exact", max_province_loss_hours=1)


def test_cli(ring, tmp_path, capsys):
    src = write_pnf(ring, tmp_path / "net")
    code, out, _ = run_cli(capsys, "plan", "service", src, "--origins", "SH1,BJ2", "--order-hour",
                           "20", "--target", "0.8", "--max-province-loss-hours", "2",
                           "--out", tmp_path / "new", "--map", tmp_path / "map", "--json")
    assert code == 0
    r = json.loads(out)
    assert r["per_origin"] and r["order_hour"] == 20 and r["weights"] == "named origins"
    new = load_network(tmp_path / "new")
    for o in r["origins"]:
        assert o["share_after"] == pytest.approx(_engine_share(new, o["origin"], 20), abs=1e-12)
        assert o["share_after"] >= min(0.8, o["achievable_max"]) - 1e-12
    assert r["floor"]["max_province_loss_hours"] == 2
    assert set(r["last_share"]) >= {"cost_at_target", "cost_at_lower_target", "last_share_cost"}
    assert r["cost_per_parcel_before"] is None           # no build.json: parcels unknown
    html = (tmp_path / "map.html").read_text()
    assert "origins" in html and "SH1" in html
    code, out, _ = run_cli(capsys, "plan", "service", src, "--origins", "SH1,BJ2", "--target", "0.8")
    assert code == 0
    assert "Orders at 20:00" in out and "largest places beyond 24 h" in out and "the last 5%" in out
    code, out, _ = run_cli(capsys, "plan", "service", src, "--origins", "SH1,BJ2", "--target", "0.8",
                           "--method", "exact", "--no-new-air", "--step", "720", "--json")
    r = json.loads(out)
    assert code == 0 and r["method"].startswith("exact")
    assert all(o["share_after"] >= min(0.8, o["achievable_max"]) - 1e-12 for o in r["origins"])
    code, out, _ = run_cli(capsys, "plan", "service", src, "--origins", "SH1,BJ2", "--target", "0.8",
                           "--add-only", "--json")
    r = json.loads(out)
    assert code == 0 and r["add_only"] and r["provinces_losing"] == [] and r["pairs_losing"] == []
    assert r["cost_after"] >= r["cost_before"]
    for args, parts in ((["--order-hour", "20"], ["--order-hour", "--origins"]),
                        (["--origins", "SH1", "--order-hour", "24"], ["--order-hour", "24"]),
                        (["--origins", "SH1", "--max-province-loss-hours", "-1"],
                         ["--max-province-loss-hours"]),
                        (["--origins", "nowhere"], ["nowhere"]),
                        (["--add-only", "--budget", "1"], ["budget", "today's trips"])):
        code, _, err = run_cli(capsys, "plan", "service", src, *args)
        assert code == 2
        assert_one_line_error(err, *parts)


def test_the_skeleton_is_the_reverse_delete(ring, trunks):
    """The skeleton, found with one search per lane, is the reverse delete that recomputes
    every gateway's reach after each deletion."""
    from parcelnet.plan.service.solve import _skeleton
    for m in (build_model(ring), build_model(trunks, tiers=TIERS, origins=["SHa"], hour=20)):
        c, g = m.cand, len(m.gateways)
        use = np.arange(len(c)) % 3
        key = c.frm * g + c.to
        lanes = np.unique(key)
        cost = np.array([c.cost[key == k].min() for k in lanes])
        keep = np.ones(len(lanes), bool)
        full = reach(m, np.ones(len(c), bool))
        for i in np.argsort(-cost, kind="stable"):
            keep[i] = False
            if (full & ~reach(m, np.isin(key, lanes[keep]))).any():
                keep[i] = True
        old = sorted(int(js[np.lexsort((~c.existing[js], -use[js], c.cost[js]))[0]])
                     for js in (np.flatnonzero(key == k) for k in lanes[keep]))
        assert _skeleton(m, use).tolist() == old


def test_latest_arrival_over_days():
    """The latest arrival at a gateway that delivers by a deadline (any number of days on)
    is a search over every arrival minute of those days."""
    rng = np.random.default_rng(4)
    # non-decreasing in the arrival, and no later than arriving the next day at 00:00
    d0 = np.maximum.accumulate(np.arange(1440)[:, None] + rng.integers(60, 1400, (1440, 6)), axis=0)
    d0 = np.minimum(d0, d0[0] + 1440)
    d0[:, 5] = service_model.ENGINE_INF                  # a station never delivered
    deadline = rng.integers(0, 5 * 1440, (3, 6))
    got = service_model.latest_arrival(d0, deadline)
    for r in range(3):
        for s in range(6):
            a = np.arange(6 * 1440)
            d = np.where(d0[a % 1440, s] < service_model.ENGINE_INF, d0[a % 1440, s] + a // 1440 * 1440,
                         service_model.ENGINE_INF)
            ok = a[d <= deadline[r, s]]
            assert got[r, s] == (ok.max() if len(ok) else -1)

"""Street graphs from OSM extracts and travel-time matrices: a hand-made map with a one-way
street, a footway, a motorway and an island (answers by hand), and the real Shanghai extract
(matrices checked against networkx Dijkstra)."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest

from parcelnet.errors import ParameterError, ValidationError
from parcelnet.geo.coords import haversine_km
from parcelnet.geo.routing import (LocalRouter, MapRouter, OSRMRouter, RoutingServerError,
                                   ValhallaRouter, decode_polyline, leg_path, server_router,
                                   street_router)
from parcelnet.geo.snap import Snapper
from parcelnet.geo.streets import load_streets, street_graph
from tests.conftest import FIXTURES
from tests.lastmile.fake_routing import encode_polyline, routing_server

SHANGHAI = FIXTURES / "osm" / "shanghai_jingan_huangpu_2p4km_drive.osm"
D = 0.0009  # degrees of latitude, about 100 m

# n1 - n2 - n3 residential both ways (north), n3 -> n4 one-way east, n4 - n6 - n7 - n1 both
# ways (a loop back); n5 a footway spur off n2; n8 - n9 a motorway; n10 - n11 an island.
NODES = {1: (31.2, 121.4), 2: (31.2 + D, 121.4), 3: (31.2 + 2 * D, 121.4),
         4: (31.2 + 2 * D, 121.401), 6: (31.2 + D, 121.401), 7: (31.2, 121.401),
         5: (31.2 + D, 121.3995), 8: (31.2, 121.402), 9: (31.2 + 2 * D, 121.402),
         10: (31.25, 121.45), 11: (31.25 + D, 121.45)}
WAYS = [(1, [1, 2, 3], {"highway": "residential"}),
        (2, [3, 4], {"highway": "residential", "oneway": "yes"}),
        (3, [4, 6, 7, 1], {"highway": "residential"}),
        (4, [2, 5], {"highway": "footway"}),
        (5, [7, 8, 9, 4], {"highway": "motorway", "oneway": "no"}),
        (6, [10, 11], {"highway": "residential"})]


def _tiny_osm(path):
    nodes = "".join(f'<node id="{i}" lat="{a}" lon="{b}" version="1"/>' for i, (a, b) in NODES.items())
    ways = "".join(f'<way id="{w}" version="1">' + "".join(f'<nd ref="{n}"/>' for n in refs)
                   + "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items()) + "</way>"
                   for w, refs, tags in WAYS)
    path.write_text(f'<?xml version="1.0"?><osm version="0.6">{nodes}{ways}</osm>')
    return path


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return load_streets(_tiny_osm(tmp_path_factory.mktemp("osm") / "tiny.osm"))


def _edges(g):
    ids = g.node_id
    return {(int(ids[a]), int(ids[b])): int(t) for a, b, t in zip(g.u, g.v, g.ms)}


def test_modes_directions_and_classes(tiny):
    car, bike, walk = (_edges(street_graph(tiny, m)) for m in ("car", "ebike", "walk"))
    assert (3, 4) in car and (4, 3) not in car                 # one-way for cars
    assert (3, 4) in bike and (4, 3) not in bike               # and for e-bikes
    assert (3, 4) in walk and (4, 3) in walk                   # not for walking
    assert (2, 5) not in car and (2, 5) not in bike and (2, 5) in walk   # footway
    assert (7, 8) in car and (7, 8) not in bike and (7, 8) not in walk   # motorway
    # 100 m of residential street: 18 km/h by car = 20 s, 5 km/h on foot = 72 s
    assert car[(1, 2)] == pytest.approx(100.07 / (18 / 3.6) * 1000, rel=2e-3)
    assert walk[(1, 2)] == pytest.approx(100.07 / (5 / 3.6) * 1000, rel=2e-3)


def test_one_way_detour_and_islands(tiny):
    car = LocalRouter(street_graph(tiny, "car"))
    walk = LocalRouter(street_graph(tiny, "walk"))
    n3, n4 = NODES[3], NODES[4]
    # n3 -> n4 direct (one-way, ~95 m); n4 -> n3 by car only round the loop: n4-n6-n7-n1-n2-n3
    fwd = car.matrix([n3[0]], [n3[1]], [n4[0]], [n4[1]])[0, 0]
    back = car.matrix([n4[0]], [n4[1]], [n3[0]], [n3[1]])[0, 0]
    e = _edges(car.graph)
    loop = sum(e[p] for p in [(4, 6), (6, 7), (7, 1), (1, 2), (2, 3)]) / 1000
    assert fwd == pytest.approx(e[(3, 4)] / 1000, abs=0.003)
    assert back == pytest.approx(min(loop, (e[(4, 9)] + e[(9, 8)] + e[(8, 7)] + e[(7, 1)] + e[(1, 2)]
                                            + e[(2, 3)]) / 1000), abs=0.003)
    w = walk.matrix([n4[0]], [n4[1]], [n3[0]], [n3[1]])[0, 0]
    assert w == pytest.approx(_edges(walk.graph)[(4, 3)] / 1000, abs=0.003)
    # the island is not part of the connected streets: a point on it snaps to the mainland,
    # more than 500 m away, and is unreachable
    isl = NODES[10]
    s = car.snap([isl[0]], [isl[1]])
    assert s.snap_m[0] > 500
    assert np.isnan(car.matrix([isl[0]], [isl[1]], [n3[0]], [n3[1]])[0, 0])


def test_partial_segments(tiny):
    car = LocalRouter(street_graph(tiny, "car"))
    e = _edges(car.graph)
    # a quarter and three quarters of the way along n1 -> n2 (both ways): half the edge apart
    a = (31.2 + D / 4, 121.4)
    b = (31.2 + 3 * D / 4, 121.4)
    m = car.matrix([a[0], b[0]], [a[1], b[1]], [a[0], b[0]], [a[1], b[1]])
    assert m[0, 1] == pytest.approx(e[(1, 2)] / 2000, abs=0.003)
    assert m[1, 0] == pytest.approx(e[(2, 1)] / 2000, abs=0.003)
    assert m[0, 0] <= 0.002
    # a point beside the road snaps to its foot on the segment
    s = car.snap([31.2 + D / 2], [121.4 + 0.0002])
    assert s.frac[0] == pytest.approx(0.5, abs=0.01)
    assert s.snap_m[0] == pytest.approx(0.0002 * 111_320 * np.cos(np.radians(31.2)), rel=0.01)


def test_shanghai_matrix_equals_networkx():
    ways = load_streets(SHANGHAI)
    g = street_graph(ways, "car")
    r = LocalRouter(g)
    idx = r.snapper.edges
    rng = np.random.default_rng(1)
    nodes = np.unique(g.v[idx])
    pick = rng.choice(nodes, 25, replace=False)
    lat, lon = g.lat[pick], g.lon[pick]
    m = r.matrix_ms(r.snap(lat, lon), r.snap(lat, lon))
    G = nx.DiGraph()
    for a, b, t in zip(g.u, g.v, g.ms):
        G.add_edge(int(a), int(b), w=int(t))
    for i, a in enumerate(pick):
        dist = nx.single_source_dijkstra_path_length(G, int(a), weight="w")
        for j, b in enumerate(pick):
            assert m[i, j] == dist[int(b)], (i, j)


def test_shanghai_extract_shape():
    ways = load_streets(SHANGHAI)
    assert len(ways.node_id) > 2000 and len(ways.u) == 2851
    car, walk = street_graph(ways, "car"), street_graph(ways, "walk")
    assert len(walk.u) > len(car.u)          # one-way streets are two-way on foot
    r = LocalRouter(car)
    rng = np.random.default_rng(0)
    lat = rng.uniform(31.2220, 31.2390, 200)      # inside the extract (its corners are bare)
    lon = rng.uniform(121.4640, 121.4840, 200)
    m = r.matrix(lat, lon, lat, lon)
    assert np.isfinite(m).all() and (np.diag(m) == 0).all()
    assert np.median(m) > 60                 # minutes apart across 2.4 km of city streets


def test_pbf_extract_with_footways():
    """The Helsinki PBF (all tags): footways and cycleways make walking and e-bike graphs
    larger than the car graph, and matrices work on each."""
    ways = load_streets(FIXTURES / "osm" / "helsinki_center.osm.pbf")
    sizes = {m: len(street_graph(ways, m).u) for m in ("car", "ebike", "walk")}
    assert sizes["walk"] > sizes["ebike"] > sizes["car"] > 500
    r = LocalRouter(street_graph(ways, "walk"))
    lat, lon = np.array([60.168, 60.172, 60.176]), np.array([24.940, 24.945, 24.950])
    m = r.matrix(lat, lon, lat, lon)
    assert np.isfinite(m).all() and (np.diag(m) == 0).all() and (m[~np.eye(3, dtype=bool)] > 60).all()


def test_bad_input(tmp_path):
    with pytest.raises(ValidationError, match="file not found"):
        load_streets(tmp_path / "none.osm")
    bad = tmp_path / "x.osm"
    bad.write_text('<?xml version="1.0"?><osm version="0.6"><node id="1" lat="1" lon="1"/></osm>')
    with pytest.raises(ValidationError, match="no ways tagged highway"):
        load_streets(bad)
    wrong = tmp_path / "x.csv"
    wrong.write_text("a,b\n")
    with pytest.raises(ValidationError, match="must end in .osm"):
        load_streets(wrong)
    with pytest.raises(ParameterError, match="unknown mode"):
        street_graph(load_streets(SHANGHAI), "tram")


def test_routing_servers_plug_in():
    local = LocalRouter(street_graph(load_streets(SHANGHAI), "car"))
    with routing_server(local) as (url, log):
        lat = np.array([31.225, 31.230, 31.235])
        lon = np.array([121.465, 121.470, 121.480])
        want = local.matrix(lat, lon, lat[:2], lon[:2])
        for router in (OSRMRouter(url), ValhallaRouter(url)):
            np.testing.assert_allclose(router.matrix(lat, lon, lat[:2], lon[:2]), want, atol=1e-3)
        # servers limit a request's size: the matrix comes in blocks and is the same
        log.clear()
        small = (OSRMRouter(url, max_locations=3), ValhallaRouter(url, block=2))
        for router in small:
            np.testing.assert_allclose(router.matrix(lat, lon, lat[:2], lon[:2]), want, atol=1e-3)
        assert [k for k, _ in log] == ["table"] * 4 + ["sources_to_targets"] * 2
        assert max(n for k, n in log if k == "table") <= 3
        # a path: the server's time, and a polyline along the streets from a to b
        sec, poly = local.path(lat[0], lon[0], lat[2], lon[2])
        for router in (OSRMRouter(url), ValhallaRouter(url)):
            s2, p2 = router.path(lat[0], lon[0], lat[2], lon[2])
            assert s2 == pytest.approx(sec, abs=1e-3) and len(p2) == len(poly) > 5
            np.testing.assert_allclose(p2, poly, atol=2e-6)       # polyline6 keeps 6 digits
    with pytest.raises(RoutingServerError, match="127.0.0.1:9"):
        OSRMRouter("http://127.0.0.1:9", timeout=2).matrix([31.2], [121.4], [31.2], [121.4])
    with pytest.raises(RoutingServerError, match="127.0.0.1:9.*did not answer"):
        ValhallaRouter("http://127.0.0.1:9", timeout=2).path(31.2, 121.4, 31.21, 121.41)


def test_polyline_decoding():
    # Google's documented example (5 digits)
    got = decode_polyline("_p~iF~ps|U_ulLnnqC_mqNvxq`@", precision=5)
    np.testing.assert_allclose(got, [[38.5, -120.2], [40.7, -120.95], [43.252, -126.453]])
    pts = np.array([[31.2251234, 121.4654321], [31.2248765, 121.4712345]])
    np.testing.assert_allclose(decode_polyline(encode_polyline(pts)), pts, atol=1e-6)


def test_server_specs():
    assert isinstance(server_router("osrm:http://h:5000", "walk"), OSRMRouter)
    assert server_router("osrm:http://h:5000", "walk").profile == "foot"
    v = server_router("valhalla:https://h:8002/", "ebike")
    assert isinstance(v, ValhallaRouter) and v.costing == "bicycle" and v.base == "https://h:8002"
    assert server_router("valhalla:http://h", "car", profile="truck").costing == "truck"
    for bad in ("http://h:5000", "osrm:h:5000", "graphhopper:http://h"):
        with pytest.raises(ParameterError, match="not a routing server"):
            server_router(bad)


def test_one_snapper_for_segments_and_nodes():
    g = street_graph(load_streets(SHANGHAI), "ebike")
    sn = Snapper(g)
    rng = np.random.default_rng(2)
    lat, lon = rng.uniform(31.2220, 31.2390, 300), rng.uniform(121.4640, 121.4840, 300)
    # nodes: the nearest node of the connected part, by brute force, and its distance
    s = sn.to_nodes(lat, lon)
    d = haversine_km(lat[:, None], lon[:, None], g.lat[sn.nodes][None, :], g.lon[sn.nodes][None, :]) * 1000
    assert np.mean(s.node == sn.nodes[d.argmin(axis=1)]) > 0.98            # local metres vs sphere
    np.testing.assert_allclose(s.snap_m, d[np.arange(300), np.searchsorted(sn.nodes, s.node)])
    assert (s.snap_m <= d.min(axis=1) + 1.0).all()
    # segments: never farther than the nearest node, and the local router uses the same snap
    seg = sn.to_segments(lat, lon)
    assert (seg.snap_m <= s.snap_m + 0.5).all() and (seg.snap_m < s.snap_m - 5).mean() > 0.2
    r = LocalRouter(g)
    np.testing.assert_array_equal(r.snap(lat, lon).edge, seg.edge)
    np.testing.assert_allclose(r.snap_m(lat, lon), seg.snap_m)
    # Helsinki is thousands of km from Shanghai's streets, and says so
    far = sn.to_nodes([60.17], [24.94]).snap_m[0]
    assert 7_000_000 < far < 8_000_000 and 7_000_000 < sn.to_segments([60.17], [24.94]).snap_m[0] < 8_000_000


def test_limits_and_coordinates_refused():
    g = street_graph(load_streets(SHANGHAI), "car")
    for bad in (0, -5, float("nan"), "x"):
        with pytest.raises(ParameterError, match="snapping limit must be a positive"):
            LocalRouter(g, max_snap_m=bad)
    r = LocalRouter(g)
    with pytest.raises(ParameterError, match="latitude 91.0 is not in"):
        r.matrix([91.0], [121.47], [31.23], [121.47])
    with pytest.raises(ParameterError, match="longitude -181.0 is not in"):
        r.snap([31.23], [-181.0])
    # a point 100 m beside the nearest road: on the map at 500 m, off it at 50 m
    node = r.snapper.nodes[0]
    lat, lon = np.array([g.lat[node], 31.2300]), np.array([g.lon[node], 121.4700])
    d = r.snap_m(lat, lon)
    strict = LocalRouter(g, max_snap_m=float(d[1]) - 1)
    assert np.isfinite(r.matrix(lat, lon, lat, lon)).all()
    assert np.isnan(strict.matrix(lat, lon, lat, lon)[:, 1]).all()
    assert np.isnan(strict.path(lat[1], lon[1], lat[0], lon[0])[0])


def test_a_provider_on_the_map_sees_only_points_on_it():
    g = street_graph(load_streets(SHANGHAI), "car")
    local = LocalRouter(g)
    with routing_server(local) as (url, log):
        r = street_router(g, OSRMRouter(url))
        assert isinstance(r, MapRouter) and isinstance(street_router(g), LocalRouter)
        lat, lon = np.array([31.225, 31.235, 60.17]), np.array([121.465, 121.480, 24.94])
        m = r.matrix(lat, lon, lat, lon)
        np.testing.assert_allclose(m[:2, :2], local.matrix(lat[:2], lon[:2], lat[:2], lon[:2]), atol=1e-3)
        assert np.isnan(m[2]).all() and np.isnan(m[:, 2]).all()
        assert log == [("table", 4)]                       # Helsinki was never sent
        assert len(leg_path(r, lat[0], lon[0], lat[1], lon[1])) > 5      # OSRM has paths
        straight = street_router(g, _MatrixOnly(local))
        assert leg_path(straight, lat[0], lon[0], lat[1], lon[1]).tolist() == [[lat[0], lon[0]], [lat[1], lon[1]]]


class _MatrixOnly:
    """A provider with a matrix and no path."""

    def __init__(self, router):
        self.router = router

    def matrix(self, *a):
        return self.router.matrix(*a)

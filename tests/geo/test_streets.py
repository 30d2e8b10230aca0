"""Street graphs from OSM extracts and travel-time matrices: a hand-made map with a one-way
street, a footway, a motorway and an island (answers by hand), and the real Shanghai extract
(matrices checked against networkx Dijkstra)."""

from __future__ import annotations

import http.server
import json
import threading
from urllib.parse import urlsplit

import networkx as nx
import numpy as np
import pytest

from parcelnet.errors import ParameterError, ValidationError
from parcelnet.geo.routing import LocalRouter, OSRMRouter, RoutingServerError, ValhallaRouter
from parcelnet.geo.streets import load_streets, street_graph
from tests.conftest import FIXTURES

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
    idx = r._index.edges
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


class _Fake(http.server.BaseHTTPRequestHandler):
    """Answers like OSRM's table and Valhalla's sources_to_targets, from a local router."""
    router: LocalRouter = None

    def log_message(self, *a):
        pass

    def _send(self, obj):
        body = json.dumps(obj).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        u = urlsplit(self.path)
        coords = [tuple(map(float, p.split(","))) for p in u.path.split("/")[-1].split(";")]
        q = dict(x.split("=") for x in u.query.split("&"))
        s = [coords[int(i)] for i in q["sources"].split(";")]
        d = [coords[int(i)] for i in q["destinations"].split(";")]
        m = self.router.matrix([c[1] for c in s], [c[0] for c in s], [c[1] for c in d], [c[0] for c in d])
        self._send({"code": "Ok", "durations": [[None if np.isnan(x) else x for x in row] for row in m]})

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        s, d = body["sources"], body["targets"]
        m = self.router.matrix([p["lat"] for p in s], [p["lon"] for p in s],
                               [p["lat"] for p in d], [p["lon"] for p in d])
        self._send({"sources_to_targets": [[{"time": x} for x in row] for row in m]})


def test_routing_servers_plug_in():
    local = LocalRouter(street_graph(load_streets(SHANGHAI), "car"))
    _Fake.router = local
    srv = http.server.HTTPServer(("127.0.0.1", 0), _Fake)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{srv.server_port}"
        lat = np.array([31.225, 31.230, 31.235])
        lon = np.array([121.465, 121.470, 121.480])
        want = local.matrix(lat, lon, lat[:2], lon[:2])
        for router in (OSRMRouter(url), ValhallaRouter(url)):
            np.testing.assert_allclose(router.matrix(lat, lon, lat[:2], lon[:2]), want, atol=1e-3)
    finally:
        srv.shutdown()
    with pytest.raises(RoutingServerError, match="127.0.0.1:9"):
        OSRMRouter("http://127.0.0.1:9", timeout=2).matrix([31.2], [121.4], [31.2], [121.4])

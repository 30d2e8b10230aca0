"""A stand-in routing server for tests: answers like OSRM (table, route) and Valhalla
(sources_to_targets, route) on 127.0.0.1, from a local router, and logs every request."""

from __future__ import annotations

import contextlib
import http.server
import json
import threading
from urllib.parse import urlsplit

import numpy as np


def encode_polyline(latlon, precision: int = 6) -> str:
    """Google's encoded polyline (Valhalla's shapes: 6 digits)."""
    out, prev = [], (0, 0)
    for lat, lon in latlon:
        cur = (int(round(lat * 10 ** precision)), int(round(lon * 10 ** precision)))
        for v in (cur[0] - prev[0], cur[1] - prev[1]):
            v = ~(v << 1) if v < 0 else v << 1
            while v >= 0x20:
                out.append(chr((0x20 | (v & 0x1F)) + 63))
                v >>= 5
            out.append(chr(v + 63))
        prev = cur
    return "".join(out)


class _Handler(http.server.BaseHTTPRequestHandler):
    router = None          # set per server: a LocalRouter
    log: list = []

    def log_message(self, *a):
        pass

    def _send(self, obj, status=200):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):                                   # OSRM
        u = urlsplit(self.path)
        parts = u.path.split("/")
        coords = [tuple(map(float, p.split(","))) for p in parts[-1].split(";")]
        self.log.append((parts[1], len(coords)))
        if parts[1] == "route":
            (lon_a, lat_a), (lon_b, lat_b) = coords
            sec, poly = self.router.path(lat_a, lon_a, lat_b, lon_b)
            if np.isnan(sec):
                return self._send({"code": "NoRoute", "message": "no route"})
            return self._send({"code": "Ok", "routes": [{"duration": sec, "geometry": {
                "type": "LineString", "coordinates": [[lo, la] for la, lo in poly]}}]})
        q = dict(x.split("=") for x in u.query.split("&"))
        s = [coords[int(i)] for i in q["sources"].split(";")]
        d = [coords[int(i)] for i in q["destinations"].split(";")]
        m = self.router.matrix([c[1] for c in s], [c[0] for c in s], [c[1] for c in d], [c[0] for c in d])
        self._send({"code": "Ok", "durations": [[None if np.isnan(x) else x for x in row] for row in m]})

    def do_POST(self):                                  # Valhalla
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.path == "/route":
            (a, b) = body["locations"]
            self.log.append(("route", 2))
            sec, poly = self.router.path(a["lat"], a["lon"], b["lat"], b["lon"])
            if np.isnan(sec):
                return self._send({"error_code": 442, "error": "No path could be found for input"}, 400)
            return self._send({"trip": {"summary": {"time": sec}, "legs": [{"shape": encode_polyline(poly)}]}})
        s, d = body["sources"], body["targets"]
        self.log.append(("sources_to_targets", len(s) + len(d)))
        m = self.router.matrix([p["lat"] for p in s], [p["lon"] for p in s],
                               [p["lat"] for p in d], [p["lon"] for p in d])
        self._send({"sources_to_targets": [[{"time": None if np.isnan(x) else x} for x in row] for row in m]})


@contextlib.contextmanager
def routing_server(router):
    """Serve ``router`` (a LocalRouter) on 127.0.0.1: yields (base URL, request log)."""
    handler = type("Handler", (_Handler,), {"router": router, "log": []})
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{srv.server_port}", handler.log
    finally:
        srv.shutdown()
        srv.server_close()

"""Replay real courier pickup days (Cainiao LaDe-P) and compare planned route lengths with
what the couriers did.

    python benchmarks/bench_lade.py [--csv FILE] [--city Shanghai] [--min-stops 5] [--seconds 2]

For every courier and day with at least --min-stops pickups in the city, the actual route
is the pickups in the order of their recorded pickup times, from the first pickup to the
last. The planned route visits the same pickups from the same first one, ends anywhere (an
open path: the courier's base is not in the data), respects each pickup's time window
(LaDe's time_window_start/end, 3 minutes a pickup, 15 km/h), and is solved by PyVRP with
--seconds of search. When the windows cannot all be kept (the couriers broke some too), the
plan without windows is used, and that is counted. Distances: LaDe's coordinates are in
GCJ-02. They are converted to WGS-84, and legs are great-circle distance times 1.3
(parcelnet's road circuity), since no street map of the whole city is shipped. The data is
not shipped with parcelnet (research use).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from parcelnet.geo.coords import gcj02_to_wgs84, haversine_km  # noqa: E402

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "data" / "lade_pickup_sample" / "lade_p_5city_6190rows.csv"
CIRCUITY, KMH, SERVICE_MIN = 1.3, 15.0, 3


def minutes(s: pd.Series) -> np.ndarray:
    t = pd.to_datetime("2020-" + s.astype(str), format="%Y-%m-%d %H:%M:%S")
    return ((t - t.dt.normalize()).dt.total_seconds() // 60).to_numpy(int)


def plan(km: np.ndarray, ready: np.ndarray, due: np.ndarray, start: int, seconds: float, windows: bool):
    from pyvrp import Model
    from pyvrp.stop import MaxRuntime
    n = len(km)
    m = Model()
    locs = [m.add_location(0, 0) for _ in range(n)]
    depot = m.add_depot(locs[0], tw_early=start if windows else 0)
    m.add_vehicle_type(num_available=1, start_depot=depot, end_depot=depot,
                       tw_early=start if windows else 0)
    for i in range(1, n):
        kw = dict(tw_early=int(ready[i]), tw_late=int(due[i])) if windows else {}
        m.add_client(locs[i], service_duration=SERVICE_MIN, **kw)
    for i in range(n):
        for j in range(n):
            if i != j:
                d = 0 if j == 0 else int(round(km[i, j] * 1000))          # open end: back for free
                m.add_edge(locs[i], locs[j], distance=d, duration=0 if j == 0 else int(np.ceil(km[i, j] / KMH * 60)))
    res = m.solve(stop=MaxRuntime(seconds), display=False)
    if not res.best.is_feasible():
        return None
    route = [0] + [a.idx + 1 for a in res.best.routes()[0] if a.is_client()]
    return sum(km[a, b] for a, b in zip(route, route[1:]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--csv", type=Path, default=DEFAULT)
    ap.add_argument("--city", default="Shanghai")
    ap.add_argument("--min-stops", type=int, default=5)
    ap.add_argument("--seconds", type=float, default=2.0)
    a = ap.parse_args()
    d = pd.read_csv(a.csv)
    d = d[(d["city"] == a.city) & d["pickup_time"].notna()].copy()
    d["t"] = minutes(d["pickup_time"])
    d["ready"], d["due"] = minutes(d["time_window_start"]), minutes(d["time_window_end"])
    d["lon"], d["lat"] = gcj02_to_wgs84(d["lng"].to_numpy(), d["lat"].to_numpy())
    rows = []
    for (courier, ds), g in d.groupby(["courier_id", "ds"]):
        if len(g) < a.min_stops:
            continue
        g = g.sort_values("t", kind="stable")
        lat, lon = g["lat"].to_numpy(), g["lon"].to_numpy()
        km = haversine_km(lat[:, None], lon[:, None], lat[None, :], lon[None, :]) * CIRCUITY
        actual = float(sum(km[i, i + 1] for i in range(len(g) - 1)))
        late = int((g["t"] > g["due"]).sum())
        with_tw = plan(km, g["ready"].to_numpy(), g["due"].to_numpy(), int(g["t"].iat[0]), a.seconds, True)
        planned = with_tw if with_tw is not None else plan(km, g["ready"].to_numpy(), g["due"].to_numpy(),
                                                            0, a.seconds, False)
        rows.append({"courier": courier, "day": ds, "stops": len(g), "actual_km": round(actual, 2),
                     "planned_km": round(planned, 2), "windows_kept": with_tw is not None,
                     "actual_late_pickups": late})
        print(rows[-1], flush=True)
    r = pd.DataFrame(rows)
    if r.empty:
        print("no courier-day with enough pickups")
        return
    saved = 1 - r["planned_km"].sum() / r["actual_km"].sum()
    print(f"{a.city}: {len(r)} courier-days, {int(r['stops'].sum())} pickups; actual {r['actual_km'].sum():.1f} km, "
          f"planned {r['planned_km'].sum():.1f} km ({saved:.1%} shorter); planned kept every window on "
          f"{int(r['windows_kept'].sum())} of {len(r)} (the couriers picked up {int(r['actual_late_pickups'].sum())} "
          f"after the window)")


if __name__ == "__main__":
    main()

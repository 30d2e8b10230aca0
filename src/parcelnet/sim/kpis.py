"""What a planner looks at after a simulated day."""

from __future__ import annotations

import numpy as np
import pandas as pd

from parcelnet.network.model import HUB, Network
from parcelnet.sim.run import SimulationResult

TOP = 20


def station_admin1(network: Network) -> np.ndarray:
    """admin1 of every facility: its own ``admin1`` column when the file has one,
    else (stations) that of the most populous place it serves, else ''."""
    fac = network.facilities
    if "admin1" in fac:
        return fac["admin1"].to_numpy(dtype=object)
    out = np.full(len(fac), "", dtype=object)
    pl = pd.DataFrame({"st": network.place_station, "pop": network.place_population,
                       "a1": network.places["admin1"].to_numpy()})
    top = pl.sort_values("pop", ascending=False).drop_duplicates("st")
    out[top["st"].to_numpy()] = top["a1"].to_numpy()
    return out


def kpis(res: SimulationResult) -> dict:
    net = res.network
    n = len(res.parcel_id)
    routable = res.routable
    dl = res.delivered
    done = dl >= 0
    age = np.where(done, dl - res.created, 0)
    on_time = done & (dl <= res.promise)
    late = routable & ~on_time
    hours = age[done] / 60.0
    share = (lambda x: round(float(x) / n, 6)) if n else (lambda x: 0.0)

    a1 = station_admin1(net)[res.dest]
    by = pd.DataFrame({"admin1": a1, "late": late, "parcels": 1}).groupby("admin1").sum()
    by["late_share"] = (by["late"] / by["parcels"]).round(6)
    by = by.sort_values(["late", "parcels"], ascending=False)
    late_prov = [{"admin1": str(k), "parcels": int(r.parcels), "late": int(r.late),
                  "late_share": float(r.late_share)} for k, r in by.iterrows()]

    tt = net.timetable
    lanes = net.lanes
    left = res.raw.left_behind
    top_l = np.argsort(-left, kind="stable")[:TOP]
    sat_lanes = [{"lane_id": lanes["lane_id"].iloc[i], "from": lanes["from_facility"].iloc[i],
                  "to": lanes["to_facility"].iloc[i], "mode": lanes["mode"].iloc[i],
                  "left_behind": int(left[i])} for i in top_l if left[i] > 0]
    backlog = np.where(tt.kind == HUB, res.raw.backlog_peak, -1)
    top_h = np.argsort(-backlog, kind="stable")[:TOP]
    fac = net.facilities
    hubs = [{"facility_id": fac["facility_id"].iloc[i], "name": fac["name"].iloc[i],
             "peak_backlog": int(backlog[i]), "sorted": int(res.raw.hourly[i].sum())}
            for i in top_h if backlog[i] > 0]
    pct = (lambda q: round(float(np.percentile(hours, q)), 2)) if len(hours) else (lambda q: None)
    return {
        "parcels": n,
        "unroutable": int((~routable).sum()),
        "delivered": int(done.sum()),
        "not_delivered": int((routable & ~done).sum()),
        "delivered_share": share(done.sum()),
        "on_time_share": share(on_time.sum()),
        "within_24h_share": share((done & (age <= 1440)).sum()),
        "within_48h_share": share((done & (age <= 2880)).sum()),
        "delivery_hours": {"mean": round(float(hours.mean()), 2) if len(hours) else None,
                           "p50": pct(50), "p90": pct(90), "p95": pct(95), "p99": pct(99)},
        "horizon_end_minute": res.horizon_end,
        "late_by_province": late_prov,
        "saturated_lanes": sat_lanes,
        "busiest_hubs": hubs,
        "seconds": {k: round(v, 3) for k, v in res.seconds.items()},
    }

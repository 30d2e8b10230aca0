"""A service design as a network: the new PNF network, what changed per lane, and the
independent check of its value by the promise engine. (The map of added, removed and retimed
lanes is drawn by :mod:`parcelnet.viz.service_map`.)"""

from __future__ import annotations

import numpy as np
import pandas as pd

from parcelnet.network.lanes import trip_id
from parcelnet.network.model import Network
from parcelnet.plan.service.model import ServiceModel
from parcelnet.promise.engine import INF, PromiseEngine
from parcelnet.units import DAY, hhmm


def apply_design(model: ServiceModel, active: np.ndarray) -> Network:
    """The network with exactly the ``active`` backbone trips (new lanes added, lanes left
    without trips removed); everything else unchanged."""
    net, c = model.network, model.cand
    active = np.asarray(active, bool)
    lanes, trips = net.lanes, net.tables["trips.csv"]
    scope_ids = set(lanes["lane_id"][lanes["tier"].isin(model.tiers)])
    run = set(c.lane_id[active])
    keep_lane = ~lanes["lane_id"].isin(scope_ids - run)
    new = c.new_lanes[c.new_lanes["lane_id"].isin(run)]
    lanes = pd.concat([lanes[keep_lane], new.reindex(columns=lanes.columns, fill_value="")],
                      ignore_index=True)
    kept = set(c.trip_id[active & c.existing])
    in_scope = trips["lane_id"].isin(scope_ids)
    trips = trips[~in_scope | trips["trip_id"].isin(kept)]
    ids = set(trips["trip_id"])
    rows = []
    for j in np.flatnonzero(active & ~c.existing):
        tid = trip_id(c.lane_id[j], int(c.dep[j]))
        while tid in ids:
            tid += "+"
        ids.add(tid)
        rows.append({"trip_id": tid, "lane_id": c.lane_id[j], "departure_minute": str(c.dep[j]),
                     "capacity": str(c.capacity[j])})
    trips = pd.concat([trips, pd.DataFrame(rows).reindex(columns=trips.columns, fill_value="")],
                      ignore_index=True)
    return net.replace(lanes=lanes, trips=trips)


def lane_changes(model: ServiceModel, active: np.ndarray) -> pd.DataFrame:
    """One row per backbone lane before or after: departures before and after, daily cost
    before and after, and a status (added, removed, more, fewer, retimed, same)."""
    c = model.cand
    fac = model.network.facility_index
    df = pd.DataFrame({"lane_id": c.lane_id.astype(str), "from": fac[model.gateways[c.frm]],
                       "to": fac[model.gateways[c.to]], "dep": c.dep, "cost": c.cost,
                       "before": c.existing, "after": np.asarray(active, bool)})
    mode = pd.concat([model.network.lanes.set_index("lane_id")["mode"],
                      c.new_lanes.set_index("lane_id")["mode"]])
    rows = []
    for lid, g in df.groupby("lane_id", sort=True):
        b, a = g[g["before"]], g[g["after"]]
        if len(b) == 0 and len(a) == 0:
            continue
        bd, ad = sorted(b["dep"].tolist()), sorted(a["dep"].tolist())
        status = ("added" if not bd else "removed" if not ad else "more" if len(ad) > len(bd)
                  else "fewer" if len(ad) < len(bd) else "retimed" if ad != bd else "same")
        rows.append({"lane_id": lid, "from": g["from"].iat[0], "to": g["to"].iat[0],
                     "mode": mode.get(lid, ""), "status": status,
                     "departures_before": " ".join(hhmm(m) for m in bd),
                     "departures_after": " ".join(hhmm(m) for m in ad),
                     "cost_before": float(b["cost"].sum()), "cost_after": float(a["cost"].sum())})
    return pd.DataFrame(rows, columns=["lane_id", "from", "to", "mode", "status",
                                       "departures_before", "departures_after", "cost_before",
                                       "cost_after"])


def engine_value(network: Network, weights: dict) -> float:
    """The service-design objective computed with the promise engine on a whole network (no
    decomposition): sum over weighted (origin, hour) of the population share of stations
    delivered within 24 h of the hour's first minute. The independent check of a design."""
    eng = PromiseEngine(network)
    pop = network.station_population
    share = pop / max(pop.sum(), 1e-12)
    by_origin: dict[int, list[tuple[int, float]]] = {}
    for (o, h), w in weights.items():
        by_origin.setdefault(o, []).append((h, w))
    total = 0.0
    for o, hw in by_origin.items():
        created = np.array([h for h, _ in hw], np.int64) * 60
        d = eng.delivered_from(o, created)
        within = (d < INF) & (d - created[:, None] <= DAY)
        total += float(np.array([w for _, w in hw]) @ (within @ share))
    return total

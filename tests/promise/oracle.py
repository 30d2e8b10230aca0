"""An independent reference for promises: label-correcting fixpoint (Bellman-Ford
style) straight from the written semantics, in plain Python. Slow; small networks only."""

from __future__ import annotations

DAY = 1440


def next_departure(ready: int, minutes: list[int]) -> int:
    day, r = divmod(ready, DAY)
    later = [m for m in minutes if m >= r]
    return day * DAY + min(later) if later else (day + 1) * DAY + min(minutes)


def promise(net, origin: str, dest: str, created: int) -> int | None:
    fac = net.facilities
    proc = dict(zip(fac["facility_id"], fac["process_minutes"].astype(int)))
    trips = net.tables["trips.csv"]
    deps: dict[str, list[int]] = {}
    for lane, m in zip(trips["lane_id"], trips["departure_minute"].astype(int)):
        deps.setdefault(lane, []).append(m)
    lanes = [(r.lane_id, r.from_facility, r.to_facility, int(r.duration_minutes))
             for r in net.lanes.itertuples()]
    ready = {origin: created + proc[origin]}
    changed = True
    while changed:
        changed = False
        for lid, a, b, dur in lanes:
            if a in ready:
                r = next_departure(ready[a], deps[lid]) + dur + proc[b]
                if r < ready.get(b, 1 << 62):
                    ready[b] = r
                    changed = True
    if origin == dest:
        return deliver(net, dest, ready[origin])
    # any lane into dest, any departure at or after the earliest ready minute at its origin
    # (waiting is free); try three days of departures explicitly
    best = None
    for lid, a, b, dur in lanes:
        if b != dest or a not in ready:
            continue
        for k in range(3):
            for m in deps[lid]:
                x = (ready[a] // DAY + k) * DAY + m
                if x >= ready[a]:
                    w = deliver(net, dest, x + dur + proc[dest])
                    best = w if best is None else min(best, w)
    return best


def path_delivery(net, origin: str, path: list[str], created: int) -> tuple[str, int]:
    """Walk a lane sequence under the semantics: (final facility, earliest delivery it
    achieves there). Earliest departures on every lane but the last; on the last, any
    departure (waiting is free). An empty path is the same-station case."""
    fac = net.facilities
    proc = dict(zip(fac["facility_id"], fac["process_minutes"].astype(int)))
    trips = net.tables["trips.csv"]
    lanes = net.lanes.set_index("lane_id")
    at, ready = origin, created + proc[origin]
    if not path:
        return at, deliver(net, at, ready)
    for n, lid in enumerate(path):
        row = lanes.loc[lid]
        assert row["from_facility"] == at, f"lane {lid} does not leave {at}"
        deps = trips.loc[trips["lane_id"] == lid, "departure_minute"].astype(int).tolist()
        at = row["to_facility"]
        dur = int(row["duration_minutes"])
        if n < len(path) - 1:
            ready = next_departure(ready, deps) + dur + proc[at]
        else:
            cands = [(ready // DAY + k) * DAY + m for k in range(3) for m in deps]
            return at, min(deliver(net, at, x + dur + proc[at]) for x in cands if x >= ready)


def deliver(net, station: str, ready: int) -> int:
    waves = net.tables["waves.csv"]
    w = sorted((int(s), int(d)) for st, s, d in zip(waves["station_id"], waves["start_minute"],
                                                    waves["duration_minutes"]) if st == station)
    day, r = divmod(ready, DAY)
    later = [(s, d) for s, d in w if s >= r]
    s, d = later[0] if later else w[0]
    return (day if later else day + 1) * DAY + s + d

"""A live digital twin (``parcelnet ops replay``): a simulated day played into the service.

1. **The day, simulated.** The parcels are simulated on the network with each hop recorded
   (:meth:`parcelnet.sim.run.SimulationResult.journeys`): the minute each sorter handled a
   parcel and each trip took it, with the real queues, capacities and missed departures.
2. **Shipments.** Each parcel becomes a shipment created through the API at its creation
   time: the sender at an address of its origin station's county (or township area), the
   recipient at one of its destination station's, handed to the carrier.
3. **Scans.** Each journey becomes the scans a carrier would post: ``picked_up`` at the
   origin at creation, then at every facility ``arrived`` (the trip's arrival) and
   ``departed`` (with the trip's id), and at the destination ``arrived``,
   ``out_for_delivery`` (sorted and ready) and ``delivered`` (the wave's end). A parcel the
   day did not deliver stops where the simulation left it.
4. **Posting.** Shipments and scans go to the service in time order, in batches of up to
   1,000, at ``speed`` simulated minutes per real minute (0: as fast as the service takes
   them).

Minute 0 of the simulation is midnight (CST) of ``day``. The service refuses events in its
future, so the day replayed must lie in the past: by default the day eight days ago, as a
simulation runs seven days past the last creation.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd

from parcelnet.errors import ParcelnetError, ParameterError
from parcelnet.network.model import Network
from parcelnet.parcels import Parcels
from parcelnet.progress import Progress, or_none

from parcelnet_service.shipments import CST

BATCH = 1000
STREETS = ("人民路", "解放路", "建设路", "中山路", "和平路", "新华路", "胜利路", "文化路")


@dataclass
class Plan:
    """What the replay posts, in time order: (minute, parcel_id, shipment body) and
    (minute, parcel_id, event without its waybill)."""
    shipments: list[tuple[int, int, dict]]
    events: list[tuple[int, int, dict]]
    undelivered: int


@dataclass
class ReplayStats:
    shipments: int = 0
    shipments_refused: int = 0
    events: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    requests: int = 0
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        d = {k: getattr(self, k) for k in ("shipments", "shipments_refused", "events", "accepted",
                                            "duplicates", "rejected", "requests")}
        d["seconds"] = round(self.seconds, 2)
        d["events_per_second"] = round(self.events / self.seconds, 1) if self.seconds else None
        d["errors"] = self.errors[:5]
        return d


def _addresses(network: Network) -> dict[str, str]:
    """A street address in each station's first place, as people write it."""
    from parcelnet.geo.address import gazetteer

    g = gazetteer()
    out = {}
    for place, station in zip(network.places["place_id"].astype(str), network.places["station_id"].astype(str)):
        if station not in out and place in g.level:
            out[station] = g.full_name(place)
    return out


def plan(network: Network, parcels: Parcels, day: date, carrier: str, seed: int = 0,
         progress: Progress | None = None) -> Plan:
    """Simulate the day with its journeys and turn it into shipments and scans (module docs)."""
    from parcelnet.sim.run import simulate

    res = simulate(network, parcels, record_hops=True, progress=or_none(progress))
    j = res.journeys()
    day0 = datetime(day.year, day.month, day.day, tzinfo=CST)

    def at(minute: int) -> str:
        return (day0 + timedelta(minutes=int(minute))).isoformat()

    addr = _addresses(network)
    fac = network.facility_index
    tt = network.timetable
    trips = network.tables["trips.csv"]
    trip_of = dict(zip(zip(trips["lane_id"].astype(str), trips["departure_minute"].astype(int)),
                       trips["trip_id"].astype(str)))
    rng = np.random.default_rng(seed)
    delivered = dict(zip(res.parcel_id.tolist(), res.delivered.tolist()))
    shipments, events = [], []
    routable = set(j["parcel_id"].tolist())
    for pid, created, o, d in zip(parcels.parcel_id.tolist(), parcels.created_minute.tolist(),
                                  parcels.origin_pos.tolist(), parcels.dest_pos.tolist()):
        so, sd = str(fac[o]), str(fac[d])
        if pid not in routable or so not in addr or sd not in addr:
            continue
        n = int(rng.integers(1, 300))
        body = {"sender": {"name": "商家", "phone": "13800138000", "address": f"{addr[so]}{STREETS[n % 8]}{n}号"},
                "recipient": {"name": "顾客", "phone": f"139{int(rng.integers(0, 10**8)):08d}",
                              "address": f"{addr[sd]}{STREETS[(n + 3) % 8]}{n + 7}号"},
                "parcel": {"weight_g": int(rng.integers(100, 5000)), "length_mm": 300, "width_mm": 200,
                           "height_mm": 100, "contents": "日用品"},
                "carrier": carrier, "reference": f"replay-{pid}", "created_at": at(created)}
        shipments.append((int(created), pid, body))
    keep = {pid for _, pid, _ in shipments}
    created_of = dict(zip(parcels.parcel_id.tolist(), parcels.created_minute.tolist()))
    undelivered = 0
    for pid, g in j[j["parcel_id"].isin(keep)].groupby("parcel_id", sort=False):
        rows = g.sort_values("hop")
        ev = []
        ev.append((int(created_of[pid]), "picked_up", rows.iloc[0]["facility_id"], None))
        prev = None
        for _, r in rows.iterrows():
            if prev is not None:
                if prev["arrived_minute"] < 0:
                    break
                ev.append((int(prev["arrived_minute"]), "arrived", r["facility_id"], None))
            if r["departed_minute"] >= 0:
                lane = str(r["lane_id"])
                trip = trip_of.get((lane, int(r["departed_minute"]) % 1440))
                ev.append((int(r["departed_minute"]), "departed", r["facility_id"], trip))
            elif pd.notna(r["lane_id"]):
                break                                # still waiting there when the run ended
            prev = r
        else:
            last = rows.iloc[-1]
            if last["sorted_minute"] >= 0:
                f = network.facility(last["facility_id"])
                ev.append((int(last["sorted_minute"]) + int(tt.process[f]), "out_for_delivery",
                           last["facility_id"], None))
            if delivered.get(pid, -1) >= 0:
                ev.append((int(delivered[pid]), "delivered", last["facility_id"], None))
        if delivered.get(pid, -1) < 0:
            undelivered += 1
        for k, (minute, kind, facility, trip) in enumerate(ev):
            e = {"event_id": f"R{pid}-{k}", "type": kind, "facility": str(facility), "at": at(minute)}
            if trip:
                e["trip"] = trip
            events.append((minute, pid, e))
    shipments.sort(key=lambda x: (x[0], x[1]))
    events.sort(key=lambda x: (x[0], x[1], x[2]["event_id"]))
    return Plan(shipments, events, undelivered)


class Client:
    """The service's API over HTTP (urllib), with one key."""

    def __init__(self, url: str, key: str, timeout: float = 120.0):
        self.url, self.key, self.timeout = url.rstrip("/"), key, timeout

    def call(self, method: str, path: str, body=None, headers: dict | None = None) -> dict:
        data = None if body is None else json.dumps(body, ensure_ascii=False).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Authorization": f"Bearer {self.key}",
                                              "Content-Type": "application/json", **(headers or {})})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as r:
                return json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            detail = e.read().decode(errors="replace")[:300]
            raise ParcelnetError(f"{method} {path}: HTTP {e.code}: {detail}") from None
        except urllib.error.URLError as e:
            raise ParcelnetError(f"cannot reach the service at {self.url}: {e.reason}") from None


def run(p: Plan, merchant: Client, carrier: Client, speed: float = 60.0,
        progress: Progress | None = None, sleep=time.sleep) -> ReplayStats:
    """Post the plan: shipments and scans in time order, in batches, at ``speed`` simulated
    minutes per real minute: each minute's shipments, then its scans, when the minute is due.
    At speed 0 nothing waits, and batches fill up to 1,000 across minutes (a parcel's
    shipment still goes before its scans)."""
    if speed < 0:
        raise ParameterError(f"the speed must be 0 (as fast as possible) or more, got {speed}")
    progress = or_none(progress)
    stats = ReplayStats()
    timeline = sorted([(m, 0, pid, b) for m, pid, b in p.shipments] + [(m, 1, pid, e) for m, pid, e in p.events],
                      key=lambda x: (x[0], x[1], x[2]))
    waybill: dict[int, str] = {}
    ships: list = []
    evs: list = []

    def flush():
        for k in range(0, len(ships), BATCH):
            part = ships[k:k + BATCH]
            r = merchant.call("POST", "/v1/shipments/batch", {"shipments": [b for _, b in part]})
            stats.requests += 1
            for (pid, _), res in zip(part, r["results"]):
                if res["ok"]:
                    waybill[pid] = res["shipment"]["waybill"]
                    stats.shipments += 1
                else:
                    stats.shipments_refused += 1
                    stats.errors.append(f"parcel {pid}: {res['error']}")
        ready = [{**e, "waybill": waybill[pid]} for pid, e in evs if pid in waybill]
        for k in range(0, len(ready), BATCH):
            r = carrier.call("POST", "/v1/scans", {"events": ready[k:k + BATCH]})
            stats.requests += 1
            stats.events += len(ready[k:k + BATCH])
            stats.accepted += r["accepted"]
            stats.duplicates += r["duplicates"]
            stats.rejected += r["rejected"]
            stats.errors += [x["error"] for x in r["results"] if x["status"] == "rejected"][:3]
        ships.clear()
        evs.clear()

    progress.start("replay", len(timeline))
    t0 = time.perf_counter()
    first = timeline[0][0] if timeline else 0
    for n, (minute, kind, pid, body) in enumerate(timeline):
        if speed > 0 and (ships or evs) and minute > timeline[n - 1][0]:
            flush()                                  # a minute's items go together, on time
            due = t0 + (minute - first) * 60.0 / speed
            if due > time.perf_counter():
                sleep(due - time.perf_counter())
        (ships if kind == 0 else evs).append((pid, body))
        if len(ships) >= BATCH or len(evs) >= BATCH:
            flush()
        progress.advance(1)
    flush()
    progress.finish()
    stats.seconds = time.perf_counter() - t0
    return stats

"""Shipments: the recipient's address to its station and sort code, the sender's to the
origin station, the promise from the promise engine, and the waybill numbers.

**Time.** The network's timetable is in minutes from midnight of day 0. The service reads
"day 0" as the creation day in China Standard Time (UTC+8, no daylight saving): a shipment
created at 18:20 CST is created at minute 1100, and a promise at minute 2070 is 10:30 CST
the next day. Times in the API are ISO 8601 with their offset.

**Service levels.** ``standard``: the network's earliest delivery, whenever it is.
``next_day`` (次日达): taken only when that delivery falls before the end of the next
calendar day (minute < 2880); otherwise refused with the promise the network can make.

An address the network cannot serve is refused with the reason; it never gets a wrong
station (:mod:`parcelnet.lastmile.sortcode`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from threading import Lock

import numpy as np

from parcelnet.errors import NotFoundError
from parcelnet.network.model import Network

from parcelnet_service.db.models import Promise, Shipment, Tenant, Waybill
from parcelnet_service.errors import Unprocessable
from parcelnet_service.waybill import waybill_number

CST = timezone(timedelta(hours=8), "CST")
SERVICE_LEVELS = ("standard", "next_day")
NEXT_DAY_END = 2880
#: clock skew allowed for a given creation time, and how far back one may be given
SKEW = timedelta(minutes=10)
MAX_BACKDATE = timedelta(days=30)


@dataclass(frozen=True)
class Routed:
    origin_station: str
    dest_station: str
    dest_hub: str
    sort_code: str
    dest_province: str | None


@dataclass(frozen=True)
class Promised:
    from_facility: str
    from_at: datetime
    promise_at: datetime | None
    path: list[str]


def day_start(at: datetime) -> datetime:
    """Midnight (CST) of the day ``at`` falls on: the timetable's minute 0."""
    local = at.astimezone(CST)
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def day_minute(at: datetime) -> tuple[datetime, int]:
    """(midnight CST of ``at``'s day, ``at``'s whole minute from it): a promise's start."""
    start = day_start(at)
    return start, int((at - start).total_seconds() // 60)


class Router:
    """One network's address assigner and promise engine, shared by the API's threads."""

    def __init__(self, network: Network):
        from parcelnet.lastmile.sortcode import Assigner
        from parcelnet.promise.engine import PromiseEngine

        self.network = network
        self.assigner = Assigner(network)
        self.engine = PromiseEngine(network)
        self.facility_ids = frozenset(network.facility_index.astype(str))
        self.trip_ids = frozenset(network.tables["trips.csv"]["trip_id"].astype(str))
        self._lock = Lock()          # the gazetteer's caches are built on first use

    def assign(self, addresses: list[str]):
        from parcelnet.lastmile.sortcode import assign_addresses

        with self._lock:
            return assign_addresses(self.network, addresses, self.assigner)

    def route(self, sender: str, recipient: str) -> Routed:
        """Stations and sort code, or :class:`Unprocessable` with the address's reason."""
        got = self.route_many([(sender, recipient)])[0]
        if isinstance(got, Unprocessable):
            raise got
        return got

    def route_many(self, pairs: list[tuple[str, str]]) -> list[Routed | Unprocessable]:
        """:meth:`route` for many (sender, recipient) pairs at once: parsing and assigning
        cost about the same for one address as for a thousand, so batches route together."""
        df = self.assign([a for pair in pairs for a in pair])
        status, reason = df["status"].to_numpy(object), df["reason"].to_numpy(object)
        station, hub = df["station_id"].to_numpy(object), df["hub_id"].to_numpy(object)
        code, prov = df["sort_code"].to_numpy(object), df["province"].to_numpy(object)
        out: list[Routed | Unprocessable] = []
        for k in range(len(pairs)):
            i, j = 2 * k, 2 * k + 1
            bad = next((f"{who}.address: {reason[x]}" for who, x in (("sender", i), ("recipient", j))
                        if status[x] != "ok"), None)
            if bad:
                out.append(Unprocessable(bad))
                continue
            p = prov[j]
            out.append(Routed(str(station[i]), str(station[j]), str(hub[j]), str(code[j]),
                              None if p is None or p != p else str(p)))
        return out

    def promise_times(self, queries: list[tuple[str, str, datetime]]) -> list[datetime | None]:
        """The promised times of :meth:`promise` for many (origin, destination, at) at once
        (None where the destination cannot be reached), without their paths: the engine's
        batch answers all the queries from one origin with one search per departure they
        wait for, where :meth:`promise` searches once per query."""
        from parcelnet.promise.engine import INF

        if not queries:
            return []
        net = self.network
        try:
            o = np.array([net.facility(f) for f, _, _ in queries], np.int64)
            d = np.array([net.station(s) for _, s, _ in queries], np.int64)
        except NotFoundError as e:
            raise Unprocessable(str(e)) from None
        starts, minutes = zip(*(day_minute(at) for _, _, at in queries))
        got = self.engine.promise_many(o, d, np.array(minutes, np.int64))
        return [None if m >= INF else st + timedelta(minutes=int(m)) for m, st in zip(got, starts)]

    def warm(self) -> None:
        """Run each of the promise engine's paths once: one promise with its path, and the
        promised times from a station and from a hub. numba compiles their kernels on first
        use, or loads them from its cache, which is seconds in a new install: paid here, at a
        server's start, and not by the first scans and shipments (docs/benchmarks.md)."""
        net = self.network
        ids = net.facility_index
        first, last = str(ids[net.stations[0]]), str(ids[net.stations[-1]])
        at = datetime(2026, 1, 1, 12, tzinfo=timezone.utc)
        self.promise(first, last, at)
        self.promise_times([(origin, first, at) for origin in (last, *map(str, ids[net.hubs[:1]]))])

    def promise(self, origin: str, destination: str, at: datetime) -> tuple[Promised, int | None]:
        """The promise for a parcel at ``origin`` at ``at``: (the promise, its minute from
        the day's midnight, None when the destination cannot be reached)."""
        start, minute = day_minute(at)
        try:
            p = self.engine.query(origin, destination, minute)
        except NotFoundError as e:
            raise Unprocessable(str(e)) from None
        when = None if p.promise_minute is None else start + timedelta(minutes=p.promise_minute)
        return Promised(origin, at, when, list(p.path)), p.promise_minute


def create(session, tenant: Tenant, body: dict, router: Router, now: datetime,
           carriers: dict[str, Tenant], routed: Routed | Unprocessable | None = None) -> Shipment:
    """Validate, route, promise and store one shipment (not committed). ``body``: the
    fields of the API's ShipmentIn, as plain data; ``routed``: its addresses already routed
    (:meth:`Router.route_many`)."""
    level = body["service_level"]
    if body.get("created_at") is not None:
        at = body["created_at"]
        if at > now + SKEW:
            raise Unprocessable(f"created_at: {at.isoformat()} is in the future")
        if at < now - MAX_BACKDATE:
            raise Unprocessable(f"created_at: {at.isoformat()} is more than "
                                f"{MAX_BACKDATE.days} days ago")
        now = at
    carrier = None
    if body.get("carrier"):
        carrier = carriers.get(body["carrier"])
        if carrier is None:
            raise Unprocessable(f"carrier: no carrier tenant named '{body['carrier']}'")
    if routed is None:
        routed = router.route(body["sender"]["address"], body["recipient"]["address"])
    elif isinstance(routed, Unprocessable):
        raise routed
    promised, minute = router.promise(routed.origin_station, routed.dest_station, now)
    if minute is None:
        raise Unprocessable(f"recipient.address: station {routed.dest_station} cannot be reached "
                            f"from {routed.origin_station} on this network")
    if level == "next_day" and minute >= NEXT_DAY_END:
        raise Unprocessable(f"service_level: next_day is not possible from {routed.origin_station} to "
                            f"{routed.dest_station} at {now.astimezone(CST):%H:%M} CST; the network "
                            f"delivers by {promised.promise_at.isoformat()}")
    parcel = body["parcel"]
    pieces = body.get("pieces") or []
    s = Shipment(tenant_id=tenant.id, carrier_id=carrier.id if carrier else None,
                 reference=body.get("reference"), service_level=level, status="created",
                 sender_name=body["sender"]["name"], sender_phone=body["sender"]["phone"],
                 sender_address=body["sender"]["address"], recipient_name=body["recipient"]["name"],
                 recipient_phone=body["recipient"]["phone"],
                 recipient_address=body["recipient"]["address"],
                 origin_station=routed.origin_station, dest_station=routed.dest_station,
                 dest_hub=routed.dest_hub, sort_code=routed.sort_code,
                 dest_province=routed.dest_province,
                 weight_g=parcel["weight_g"] if not pieces else sum(p["weight_g"] for p in pieces),
                 length_mm=parcel["length_mm"], width_mm=parcel["width_mm"],
                 height_mm=parcel["height_mm"], contents=parcel["contents"],
                 pieces=max(1, len(pieces)), created_at=now)
    session.add(s)
    # numbers come from the waybills' serial: the parent (piece 0), then one per piece
    bills = [Waybill(shipment=s, piece=0, weight_g=s.weight_g)]
    bills += [Waybill(shipment=s, piece=i + 1, weight_g=p["weight_g"]) for i, p in enumerate(pieces)]
    session.add_all(bills)
    session.flush()
    for b in bills:
        b.number = waybill_number(b.id)
    s.waybill = bills[0].number
    s.promise_at = promised.promise_at
    session.add(Promise(shipment=s, version=1, reason="created", from_facility=promised.from_facility,
                        from_at=promised.from_at, promise_at=promised.promise_at, path=promised.path))
    session.flush()
    return s


def view(s: Shipment) -> dict:
    """The merchant's view of a shipment (plain JSON types)."""
    p = s.promises[-1] if s.promises else None
    return {
        "waybill": s.waybill,
        "pieces": [{"waybill": b.number, "piece": b.piece, "weight_g": b.weight_g}
                   for b in s.waybills if b.piece > 0],
        "reference": s.reference,
        "service_level": s.service_level,
        "status": s.status,
        "carrier": s.carrier.name if s.carrier else None,
        "origin_station": s.origin_station,
        "dest_station": s.dest_station,
        "dest_hub": s.dest_hub,
        "sort_code": s.sort_code,
        "created_at": s.created_at.astimezone(CST).isoformat(),
        "promise": None if p is None else promise_view(p),
    }


def promise_view(p: Promise) -> dict:
    return {"version": p.version, "reason": p.reason, "from_facility": p.from_facility,
            "from_at": p.from_at.astimezone(CST).isoformat(),
            "promise_at": None if p.promise_at is None else p.promise_at.astimezone(CST).isoformat(),
            "hours": None if p.promise_at is None else round((p.promise_at - p.from_at).total_seconds() / 3600, 2),
            "path": p.path}


def default_network() -> Network:
    """China's default network (the demo's layout, lanes and timetable) with capacities by the
    gravity model, which promises do not use: a few seconds instead of the full sizing."""
    from parcelnet.network.params import load_params
    from parcelnet.plan.build import build_network

    return build_network("CN", load_params("CN").updated({"capacity": {"method": "gravity"}}))

"""Scans, tracking, the public view, webhooks and exceptions (docs/service.md)."""

from __future__ import annotations

import secrets
from datetime import timedelta

import orjson
from fastapi import FastAPI, Path, Query
from fastapi.responses import JSONResponse, Response
from pydantic import TypeAdapter, ValidationError as PydanticError
from sqlalchemy import func, or_, select

from parcelnet.errors import NotFoundError

from parcelnet_service import tracking as T
from parcelnet_service.api.schemas import ScanIn, ScansIn, WebhookIn
from parcelnet_service.db.engine import SYSTEM, plan_for_values
from parcelnet_service.db.models import Shipment, Waybill, Webhook
from parcelnet_service.errors import Unprocessable
from parcelnet_service.shipments import CST
from parcelnet_service.waybill import is_valid


SCANS = TypeAdapter(list[ScanIn])


def add_routes(app: FastAPI, needs, errors) -> None:
    from fastapi import Depends

    ctx = app.state.ctx
    names = dict(zip(app.state.router.network.facilities["facility_id"].astype(str),
                     app.state.router.network.facilities["name"].astype(str)))

    @app.post("/v1/scans", tags=["scans"],
              summary="Post 1 to 1,000 scan events; each is accepted, a duplicate, or rejected")
    def post_scans(body: ScansIn, p=Depends(needs("scans:write"))):
        results: list[dict | None] = [None] * len(body.events)
        try:                                     # the whole batch at once, when it is all good
            # a model's own field dict: what dump_python would copy out, without the copy
            good = [m.__dict__ for m in SCANS.validate_python(body.events)]
            where = list(range(len(good)))
        except PydanticError:                    # else event by event, each with its error
            good, where = [], []
            for i, raw in enumerate(body.events):
                try:
                    good.append(ScanIn.model_validate(raw).model_dump())
                    where.append(i)
                except PydanticError as e:
                    results[i] = {"index": i, "status": "rejected", "error": errors(e.errors())}
        if good:
            now = app.state.clock()
            with app.state.sessions.begin(ctx(p)) as s:
                for r, i in zip(T.ingest(s, p.tenant_id, good, app.state.router, now), where):
                    results[i] = {**r, "index": i}
        counts = {k: sum(r["status"] == k for r in results) for k in ("accepted", "duplicate", "rejected")}
        # plain JSON types already: written by orjson as they are, without FastAPI's encoder
        # (a thousand results: 28 us, against the json module's 391 us)
        return Response(orjson.dumps({"accepted": counts["accepted"], "duplicates": counts["duplicate"],
                                      "rejected": counts["rejected"], "results": results}),
                        media_type="application/json")

    @app.get("/v1/track/{waybill}", tags=["tracking"],
             summary="Timeline, status and promise history, for the merchant and its carrier")
    def track(waybill: str, p=Depends(needs("tracking:read"))):
        # the merchant's and its carriers' view (the platform's: any); else 404, as for a
        # number that does not exist
        if not is_valid(waybill):
            raise NotFoundError(f"no waybill {waybill[:20]!r}: not a waybill number")
        with app.state.sessions.read(ctx(p)) as s:
            got = T.view(s, waybill, None if p.kind == "platform" else p.tenant_id)
        if got is None:
            raise NotFoundError(f"no waybill {waybill} that this tenant may track")
        # plain JSON types already: answered as they are, without FastAPI's encoder
        return JSONResponse(got)

    @app.get("/v1/public/track/{waybill}", tags=["tracking"],
             summary="Status and promise for anyone who has the waybill and the recipient's "
                     "phone's last four digits; no personal data")
    def public_track(waybill: str, phone_last4: str):
        with app.state.sessions.read(SYSTEM) as s:     # no tenant: the phone's digits decide
            got = view = None
            if is_valid(waybill) and len(phone_last4) == 4 and phone_last4.isdigit():
                got = s.scalar(select(Shipment).join(Waybill, Waybill.shipment_id == Shipment.id)
                               .where(Waybill.number == waybill))
            if got is not None and got.recipient_phone.replace(" ", "").replace("-", "")[-4:] == phone_last4:
                view = T.public(s, got, names)
        # refused after the read has committed: a guessed number does not roll back the
        # connection's transaction (and with it psycopg's prepared statements)
        if view is None:
            raise NotFoundError("no such waybill with that phone number")
        return view

    @app.post("/v1/webhooks", status_code=201, tags=["webhooks"],
              summary="Receive the tenant's status and promise changes (the secret is shown once)")
    def add_webhook(body: WebhookIn, p=Depends(needs("shipments:read"))):
        secret = secrets.token_hex(32)
        with app.state.sessions.begin(ctx(p)) as s:
            if len(s.scalars(select(Webhook).where(Webhook.tenant_id == p.tenant_id,
                                                   Webhook.disabled_at.is_(None))).all()) >= 10:
                raise Unprocessable("url: at most 10 webhooks per tenant")
            h = Webhook(tenant_id=p.tenant_id, url=str(body.url), secret=secret, created_at=app.state.clock())
            s.add(h)
            s.flush()
            return {"id": h.id, "url": h.url, "secret": secret}

    @app.get("/v1/webhooks", tags=["webhooks"], summary="The tenant's webhooks")
    def list_webhooks(p=Depends(needs("shipments:read"))):
        with app.state.sessions.read(ctx(p)) as s:
            return {"webhooks": [{"id": h.id, "url": h.url,
                                  "disabled_at": h.disabled_at and h.disabled_at.isoformat()}
                                 for h in s.scalars(select(Webhook).where(Webhook.tenant_id == p.tenant_id)
                                                    .order_by(Webhook.id))]}

    @app.delete("/v1/webhooks/{hook_id}", status_code=204, tags=["webhooks"],
                summary="Stop a webhook")
    def delete_webhook(hook_id: int = Path(ge=1, le=2**63 - 1), p=Depends(needs("shipments:read"))):
        with app.state.sessions.begin(ctx(p)) as s:
            h = s.scalar(select(Webhook).where(Webhook.id == hook_id, Webhook.tenant_id == p.tenant_id))
            if h is None:
                raise NotFoundError(f"no webhook {hook_id} of this tenant")
            h.disabled_at = h.disabled_at or app.state.clock()

    @app.get("/v1/exceptions", tags=["tracking"],
             summary="Late and stuck parcels, and those in exception, by facility")
    def exceptions(stuck_hours: float = Query(12.0, gt=0, le=720), p=Depends(needs("tracking:read"))):
        now = app.state.clock()
        with app.state.sessions.read(ctx(p)) as s:
            plan_for_values(s)
            stuck = timedelta(hours=stuck_hours)
            q = select(Shipment).where(
                Shipment.status.notin_(T.TERMINAL),
                or_(Shipment.promise_at < now, Shipment.status.in_(("exception", "delivery_failed")),
                    func.coalesce(Shipment.last_event_at, Shipment.created_at) < now - stuck))
            if p.kind == "merchant":
                q = q.where(Shipment.tenant_id == p.tenant_id)
            elif p.kind == "carrier":
                q = q.where(Shipment.carrier_id == p.tenant_id)
            by: dict[str, dict] = {}
            for sh in s.scalars(q.order_by(Shipment.id)):
                why = []
                if sh.promise_at is not None and sh.promise_at < now:
                    why.append("late")
                seen = sh.last_event_at or sh.created_at
                if now - seen > stuck:
                    why.append("stuck")
                if sh.status in ("exception", "delivery_failed"):
                    why.append(sh.status)
                if not why:
                    continue
                where = sh.location or sh.origin_station
                g = by.setdefault(where, {"facility": where, "name": names.get(where), "parcels": 0,
                                          "late": 0, "stuck": 0, "exception": 0,
                                          "delivery_failed": 0, "waybills": []})
                g["parcels"] += 1
                for w in why:
                    g[w] += 1
                if len(g["waybills"]) < 50:
                    g["waybills"].append({"waybill": sh.waybill, "status": sh.status, "why": why,
                                          "promise_at": sh.promise_at and sh.promise_at.astimezone(CST).isoformat(),
                                          "last_seen": seen.astimezone(CST).isoformat()})
            rows = sorted(by.values(), key=lambda g: (-g["parcels"], g["facility"]))
            return {"at": now.astimezone(CST).isoformat(), "stuck_hours": stuck_hours,
                    "parcels": sum(g["parcels"] for g in rows), "facilities": rows}

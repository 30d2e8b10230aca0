"""The FastAPI app: ``create_app(engine, router)``.

Every request names its tenant by its API key (``Authorization: Bearer pn_...``); every
query is filtered by that tenant, so another tenant's waybill is a 404, never a 403 that
would confirm it exists. Errors are 4xx with ``{"detail": ...}``; a request body over
``max_body`` bytes is a 413.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import threading
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable

import orjson
from fastapi import Depends, FastAPI, Header, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import ValidationError as PydanticError
from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError

from parcelnet import __version__
from parcelnet.errors import NotFoundError, ParcelnetError

from parcelnet_service import label as L
from parcelnet_service import shipments as S
from parcelnet_service.api.schemas import BatchIn, LabelsIn, ShipmentIn
from parcelnet_service.db.engine import Sessions
from parcelnet_service.db.models import ApiKey, IdempotencyKey, Shipment, Tenant, Waybill
from parcelnet_service.errors import (Conflict, Forbidden, RateLimited, Unauthorized,
                                      Unprocessable, status_of)
from parcelnet_service.keys import matches, split
from parcelnet_service.notify import deliver_due
from parcelnet_service.waybill import is_valid

log = logging.getLogger("parcelnet.service")
MAX_BODY = 2_000_000
#: the largest id a query may name (the databases' 64-bit integers)
MAX_ID = 2**63 - 1
#: each key's requests a second and burst (a batch of 1,000 scans is one request)
RATE = (50.0, 200)
#: a request still "running" after this long is taken as abandoned (its server died), and
#: the same key may run again
IDEMPOTENCY_LOCK = timedelta(seconds=60)


class _Request(Request):
    """A request whose JSON body orjson parses: a batch of 1,000 scans in about a third of
    the json module's time. Its errors are json's own ``JSONDecodeError`` (a subclass), so
    FastAPI answers malformed JSON with its usual 422. The body is counted as it arrives:
    one sent in chunks, with no Content-Length for the middleware to check, is refused with
    413 once it passes the app's ``max_body``, before the rest is read."""

    async def body(self) -> bytes:
        if not hasattr(self, "_body"):
            limit, size, parts = self.app.state.max_body, 0, []
            async for chunk in self.stream():
                size += len(chunk)
                if size > limit:
                    # and the connection closes: the server stops reading (else it
                    # would take in and discard the rest, to keep the connection alive)
                    raise HTTPException(413, f"the request body is over {limit:,} bytes",
                                        headers={"Connection": "close"})
                parts.append(chunk)
            self._body = b"".join(parts)
        return self._body

    async def json(self):
        if not hasattr(self, "_json"):
            self._json = orjson.loads(await self.body())
        return self._json


class _Route(APIRoute):
    """FastAPI's route, handing its endpoint a :class:`_Request` (FastAPI documents this
    way of changing how a body is read: "Custom Request and APIRoute class")."""

    def get_route_handler(self):
        handle = super().get_route_handler()

        async def route(request: Request):
            return await handle(_Request(request.scope, request.receive))
        return route


class _LimitBody:
    """Refuse a request whose Content-Length is over ``max_body`` (or not a number) with
    413, before its body is read at all; the connection closes. A body without a length is
    counted as it arrives (:class:`_Request`). A plain ASGI middleware: Starlette's
    ``BaseHTTPMiddleware`` (``@app.middleware``) runs each request's app in a task of its
    own and passes the answer through a stream: about 8% of a tracking read's CPU in the
    server (docs/benchmarks.md)."""

    def __init__(self, app, max_body: int):
        self.app, self.max_body = app, max_body

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            for name, value in scope["headers"]:
                if name == b"content-length":
                    if not value.isdigit() or int(value) > self.max_body:
                        answer = JSONResponse(
                            {"detail": f"the request body is over {self.max_body:,} bytes"}, 413,
                            headers={"Connection": "close"})
                        return await answer(scope, receive, send)
                    break
        await self.app(scope, receive, send)


#: a request's key, by its prefix, with its tenant
KEY_QUERY = (select(ApiKey.prefix, ApiKey.secret_hash, ApiKey.revoked_at, ApiKey.scopes,
                    Tenant.id.label("tenant_id"), Tenant.name.label("tenant"), Tenant.kind)
             .join(Tenant, ApiKey.tenant_id == Tenant.id)
             .where(ApiKey.prefix == bindparam("prefix")))


@dataclass(frozen=True)
class Principal:
    tenant_id: int
    tenant_name: str
    kind: str
    scopes: frozenset[str]
    key_prefix: str


def create_app(engine, router: S.Router, *, clock: Callable[[], datetime] | None = None,
               max_body: int = MAX_BODY, webhooks_every: float | None = None,
               rate: tuple[float, int] = RATE) -> FastAPI:
    """The app on ``engine`` (migrated) and ``router`` (the network). ``webhooks_every``:
    seconds between rounds of the webhook sender, a thread that runs while the app does
    (None: no sender; :func:`parcelnet_service.notify.deliver_due` can be called instead).
    ``rate``: each key's (requests a second, burst)."""
    clock = clock or (lambda: datetime.now(timezone.utc))
    limiter = TokenBuckets(*rate)

    @asynccontextmanager
    async def lifespan(app):
        stop = threading.Event()
        worker = None
        if webhooks_every:
            def loop():
                while not stop.wait(webhooks_every):
                    try:
                        deliver_due(app.state.sessions, clock())
                    except Exception:            # a database hiccup: try again next round
                        log.exception("webhook delivery round failed")
            worker = threading.Thread(target=loop, name="parcelnet-webhooks", daemon=True)
            worker.start()
        yield
        stop.set()
        if worker is not None:
            worker.join(timeout=10)

    app = FastAPI(title="parcelnet operations service", version=__version__, lifespan=lifespan,
                  description="Shipments and e-waybills with sort codes and promises, for many "
                              "tenants (docs/service.md).")
    app.router.route_class = _Route           # before any route is added
    app.state.max_body = max_body
    app.state.sessions = Sessions(engine)
    app.state.router = router
    app.state.clock = clock
    bearer = HTTPBearer(auto_error=False, description="an API key: pn_<prefix>_<secret>")

    app.add_middleware(_LimitBody, max_body=max_body)

    @app.exception_handler(ParcelnetError)
    async def _domain(request: Request, e: ParcelnetError):
        headers = {"WWW-Authenticate": "Bearer"} if isinstance(e, Unauthorized) else \
            {"Retry-After": str(e.retry_after)} if isinstance(e, RateLimited) else None
        return JSONResponse({"detail": str(e)}, status_of(e), headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, e: RequestValidationError):
        return JSONResponse({"detail": _errors(e.errors())}, 422)

    def principal(cred: HTTPAuthorizationCredentials | None = Depends(bearer)) -> Principal:
        if cred is None:
            raise Unauthorized("an API key is needed: Authorization: Bearer pn_...")
        parts = split(cred.credentials)
        if parts is None:
            raise Unauthorized("malformed API key: expected pn_<prefix>_<secret>")
        # one read in autocommit: no transaction to open and roll back (keys and tenants
        # have no row-level policy: the key is how a request learns its tenant)
        with engine.connect() as c:
            c.execution_options(isolation_level="AUTOCOMMIT")
            key = c.execute(KEY_QUERY, {"prefix": parts[0]}).first()
        if key is None or not matches(parts[1], key.secret_hash):
            raise Unauthorized("unknown API key")
        if key.revoked_at is not None:
            raise Unauthorized(f"API key {key.prefix} was revoked at {key.revoked_at.isoformat()}")
        wait = limiter.take(key.prefix)
        if wait > 0:
            raise RateLimited(f"too many requests for key {key.prefix}: at most {rate[0]:g} a "
                              f"second (bursts of {rate[1]}); retry in {wait} s", wait)
        return Principal(key.tenant_id, key.tenant, key.kind, frozenset(key.scopes.split()),
                         key.prefix)

    def needs(scope: str):
        async def check(p: Principal = Depends(principal)) -> Principal:   # no thread hop
            if scope not in p.scopes:
                raise Forbidden(f"this key lacks the scope '{scope}'")
            return p
        return check

    def ctx(p: Principal) -> dict:
        return {"tenant_id": p.tenant_id, "kind": p.kind}

    app.state.ctx = ctx

    def idempotent(request: Request, p: Principal, key: str | None, payload, work) -> JSONResponse:
        """Run ``work(session) -> (status, body)`` once per Idempotency-Key (IETF draft):
        the same key and body replay the stored response; another body is a 422; a request
        while the first still runs is a 409. The work and its stored response commit in
        one transaction."""
        now = app.state.clock()
        if key is None:
            with app.state.sessions.begin(ctx(p)) as s:
                status, body = work(s, now)
            return JSONResponse(body, status)
        if not 1 <= len(key) <= 255 or not key.isprintable():
            raise Unprocessable("Idempotency-Key: 1 to 255 printable characters")
        fp = fingerprint(request.method, request.url.path, payload)
        with app.state.sessions(ctx(p)) as s:
            rec = IdempotencyKey(tenant_id=p.tenant_id, key=key, fingerprint=fp,
                                 state="running", created_at=now)
            s.add(rec)
            try:
                s.commit()
            except IntegrityError:
                s.rollback()
                old = s.scalar(select(IdempotencyKey).where(IdempotencyKey.tenant_id == p.tenant_id,
                                                            IdempotencyKey.key == key))
                if old is None:
                    raise Conflict("Idempotency-Key: the first request with this key just failed; "
                                   "retry") from None
                if old.fingerprint != fp:
                    raise Unprocessable("Idempotency-Key: this key was used with another request "
                                        "body; use a new key") from None
                if old.state == "done":
                    return JSONResponse(json.loads(old.response), old.status_code,
                                        headers={"Idempotent-Replayed": "true"})
                if now - old.created_at < IDEMPOTENCY_LOCK:
                    raise Conflict("Idempotency-Key: a request with this key is still being "
                                   "processed; retry later") from None
                # abandoned by a server that died: take it over, if no one else did
                got = s.execute(IdempotencyKey.__table__.update()
                                .where(IdempotencyKey.id == old.id, IdempotencyKey.state == "running",
                                       IdempotencyKey.created_at == old.created_at)
                                .values(created_at=now))
                s.commit()
                if got.rowcount != 1:
                    raise Conflict("Idempotency-Key: a request with this key is still being "
                                   "processed; retry later") from None
                rec = old
            rec_id = rec.id
        try:
            with app.state.sessions.begin(ctx(p)) as s:
                try:
                    with s.begin_nested():
                        status, body = work(s, now)
                except ParcelnetError as e:        # a refusal is the key's answer too
                    status, body = status_of(e), {"detail": str(e)}
                s.execute(IdempotencyKey.__table__.update().where(IdempotencyKey.id == rec_id)
                          .values(state="done", status_code=status,
                                  response=json.dumps(body, ensure_ascii=False)))
        except BaseException:
            with app.state.sessions.begin(ctx(p)) as s:      # let the client retry
                s.execute(IdempotencyKey.__table__.delete().where(IdempotencyKey.id == rec_id))
            raise
        return JSONResponse(body, status)

    def carriers(s) -> dict[str, Tenant]:
        return {t.name: t for t in s.scalars(select(Tenant).where(Tenant.kind == "carrier"))}

    @app.get("/v1/me", tags=["service"], summary="The key's tenant and scopes")
    def me(p: Principal = Depends(principal)):
        return {"tenant": p.tenant_name, "kind": p.kind, "scopes": sorted(p.scopes),
                "key_prefix": p.key_prefix}

    @app.get("/healthz", tags=["service"])
    def healthz():
        with app.state.sessions.read() as s:
            s.execute(select(1))
        return {"status": "ok", "version": __version__}

    @app.post("/v1/shipments", status_code=201, tags=["shipments"],
              summary="Create a shipment: waybill, sort code and promise")
    def create_shipment(request: Request, body: ShipmentIn,
                        p: Principal = Depends(needs("shipments:write")),
                        idempotency_key: str | None = Header(default=None)):
        data = body.model_dump()

        def work(s, now):
            t = s.get(Tenant, p.tenant_id)
            return 201, S.view(S.create(s, t, data, app.state.router, now, carriers(s)))
        return idempotent(request, p, idempotency_key, data, work)

    @app.post("/v1/shipments/batch", tags=["shipments"],
              summary="Create up to 1,000 shipments; each row succeeds or gets its own error")
    def create_batch(request: Request, body: BatchIn,
                     p: Principal = Depends(needs("shipments:write")),
                     idempotency_key: str | None = Header(default=None)):
        rows = body.shipments

        def work(s, now):
            t = s.get(Tenant, p.tenant_id)
            cs = carriers(s)
            out: list = [None] * len(rows)
            valid = []
            for i, raw in enumerate(rows):
                try:
                    valid.append((i, ShipmentIn.model_validate(raw).model_dump()))
                except PydanticError as e:
                    out[i] = {"index": i, "ok": False, "error": _errors(e.errors())}
            routes = app.state.router.route_many(
                [(d["sender"]["address"], d["recipient"]["address"]) for _, d in valid])
            for (i, data), routed in zip(valid, routes):
                try:
                    with s.begin_nested():          # a bad row rolls back alone
                        out[i] = {"index": i, "ok": True, "shipment": S.view(
                            S.create(s, t, data, app.state.router, now, cs, routed))}
                except ParcelnetError as e:
                    out[i] = {"index": i, "ok": False, "error": str(e)}
            done = sum(r["ok"] for r in out)
            return 200, {"created": done, "failed": len(out) - done, "results": out}
        return idempotent(request, p, idempotency_key, rows, work)

    @app.get("/v1/shipments/{waybill}", tags=["shipments"], summary="One of the tenant's shipments")
    def get_shipment(waybill: str, p: Principal = Depends(needs("shipments:read"))):
        with app.state.sessions.read(ctx(p)) as s:
            return S.view(_own(s, p, waybill))

    @app.get("/v1/shipments/{waybill}/label", tags=["labels"],
             summary="The shipment's label: PDF (76 x 130 mm, one page per piece) or ZPL",
             response_class=Response,
             responses={200: {"content": {"application/pdf": {}, "text/plain": {}}}})
    def get_label(waybill: str, format: str = "pdf", p: Principal = Depends(needs("shipments:read"))):
        with app.state.sessions.read(ctx(p)) as s:
            return _label(L.labels_of(_own(s, p, waybill)), format, waybill)

    @app.post("/v1/labels", tags=["labels"],
              summary="Labels of up to 500 of the tenant's shipments in one document, to print in bulk",
              response_class=Response,
              responses={200: {"content": {"application/pdf": {}, "text/plain": {}}}})
    def bulk_labels(body: LabelsIn, p: Principal = Depends(needs("shipments:read"))):
        with app.state.sessions.read(ctx(p)) as s:
            labs = [lab for w in body.waybills for lab in L.labels_of(_own(s, p, w))]
        return _label(labs, body.format, "labels")

    @app.get("/v1/shipments", tags=["shipments"],
             summary="The tenant's shipments, newest first, a page at a time")
    def list_shipments(limit: int = Query(50, ge=1, le=500),
                       before: int | None = Query(None, ge=1, le=MAX_ID),
                       p: Principal = Depends(needs("shipments:read"))):
        with app.state.sessions.read(ctx(p)) as s:
            q = select(Shipment).where(Shipment.tenant_id == p.tenant_id)
            if before is not None:
                q = q.where(Shipment.id < before)
            rows = s.scalars(q.order_by(Shipment.id.desc()).limit(limit)).all()
            return {"shipments": [S.view(r) for r in rows],
                    "next_before": rows[-1].id if len(rows) == limit else None}

    from parcelnet_service.api import routes_admin, routes_tracking, routes_web
    routes_tracking.add_routes(app, needs, _errors)
    routes_web.add_routes(app, needs)
    routes_admin.add_routes(app, needs)

    def openapi():
        # every error answers {"detail": "one line"}, the 422s of validation too
        if app.openapi_schema is None:
            from fastapi.openapi.utils import get_openapi
            doc = get_openapi(title=app.title, version=app.version, description=app.description,
                              routes=app.routes)
            doc.setdefault("components", {}).setdefault("schemas", {})["HTTPValidationError"] = {
                "title": "Error", "type": "object", "required": ["detail"],
                "properties": {"detail": {"type": "string", "title": "Detail"}}}
            _add_links(doc)
            app.openapi_schema = doc
        return app.openapi_schema

    app.openapi = openapi
    return app


def _label(labs, fmt: str, name: str) -> Response:
    if fmt == "pdf":
        return Response(L.pdf(labs), media_type="application/pdf",
                        headers={"Content-Disposition": f'inline; filename="{name}.pdf"'})
    if fmt == "zpl":
        return Response(L.zpl(labs), media_type="text/plain; charset=utf-8",
                        headers={"Content-Disposition": f'inline; filename="{name}.zpl"'})
    raise Unprocessable(f"format: 'pdf' or 'zpl', not '{fmt[:20]}'")


#: OpenAPI links: what one operation's answer gives the next (clients and Schemathesis's
#: stateful tests follow them): (path, method, status) -> {name: (path, method, parameters)}
LINKS = {
    ("/v1/shipments", "post", "201"): "$response.body#/waybill",
    ("/v1/shipments/batch", "post", "200"): "$response.body#/results/0/shipment/waybill",
    ("/v1/shipments", "get", "200"): "$response.body#/shipments/0/waybill",
    ("/v1/exceptions", "get", "200"): "$response.body#/facilities/0/waybills/0/waybill",
}
WAYBILL_TARGETS = (("/v1/shipments/{waybill}", "get", "GetShipment"),
                   ("/v1/shipments/{waybill}/label", "get", "GetLabel"),
                   ("/v1/track/{waybill}", "get", "Track"))
HOOK_LINKS = {("/v1/webhooks", "post", "201"): "$response.body#/id",
              ("/v1/webhooks", "get", "200"): "$response.body#/webhooks/0/id"}


def _add_links(doc: dict) -> None:
    """The OpenAPI links of :data:`LINKS` and :data:`HOOK_LINKS`, by operationId."""
    paths = doc["paths"]

    def op_id(path, method):
        return paths[path][method]["operationId"]

    for (path, method, code), expr in LINKS.items():
        links = paths[path][method]["responses"][code].setdefault("links", {})
        for target, tmethod, name in WAYBILL_TARGETS:
            links[name] = {"operationId": op_id(target, tmethod), "parameters": {"waybill": expr}}
    for (path, method, code), expr in HOOK_LINKS.items():
        paths[path][method]["responses"][code].setdefault("links", {})["DeleteWebhook"] = {
            "operationId": op_id("/v1/webhooks/{hook_id}", "delete"), "parameters": {"hook_id": expr}}


class TokenBuckets:
    """A token bucket per key, in this process: ``rate`` tokens a second up to ``burst``.
    Behind several servers each holds its own (docs/service.md)."""

    def __init__(self, rate: float, burst: int):
        self.rate, self.burst = float(rate), int(burst)
        self.state: dict[str, tuple[float, float]] = {}
        self.lock = threading.Lock()

    def take(self, key: str) -> int:
        """0 when a request may go now, else the whole seconds to wait."""
        now = time.monotonic()
        with self.lock:
            tokens, last = self.state.get(key, (float(self.burst), now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens >= 1:
                self.state[key] = (tokens - 1, now)
                return 0
            self.state[key] = (tokens, now)
            return max(1, math.ceil((1 - tokens) / self.rate))


def fingerprint(method: str, path: str, payload) -> str:
    """An idempotent request's fingerprint: SHA-256 of its method, path and body as parsed
    (so key order and spacing in the JSON do not matter)."""
    return hashlib.sha256(json.dumps([method, path, payload], sort_keys=True, ensure_ascii=False,
                                     default=str).encode()).hexdigest()    # times as ISO text


def _own(s, p: Principal, number: str) -> Shipment:
    """The tenant's shipment holding waybill ``number`` (parent or child), else 404."""
    if not is_valid(number):
        raise NotFoundError(f"no waybill {number[:20]!r}: not a waybill number (PN + 12 digits "
                            "with a valid check digit)")
    w = s.scalar(select(Waybill).join(Shipment).where(Waybill.number == number,
                                                      Shipment.tenant_id == p.tenant_id))
    if w is None:
        raise NotFoundError(f"no waybill {number} among this tenant's shipments")
    return w.shipment


def _errors(errors: list) -> str:
    """Pydantic's errors as one line: ``field.path: message; ...``."""
    parts = []
    for e in errors[:5]:
        if e.get("type") == "json_invalid":        # FastAPI's: loc ("body", position)
            where = e.get("loc", ())[-1]
            parts.append(f"body: not valid JSON at character {where}: "
                         f"{(e.get('ctx') or {}).get('error', e.get('msg'))}")
            continue
        loc = ".".join(str(x) for x in e.get("loc", ()) if x != "body")
        parts.append(f"{loc}: {e.get('msg')}" if loc else str(e.get("msg")))
    more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
    return "; ".join(parts) + more


def from_env() -> FastAPI:
    """The app of one worker process of ``parcelnet serve --workers N``: the database from
    ``PARCELNET_DB`` (migrated), the network from ``PARCELNET_NETWORK`` (else China's
    default), each key's rate limit from ``PARCELNET_RATE_LIMIT`` (``RATE,BURST``). Each
    worker sends webhooks too: rows are claimed with SKIP LOCKED on PostgreSQL, and on
    SQLite writers take turns, so none is sent twice by two of them."""
    import os

    from parcelnet_service.db.engine import database_url, make_engine, require_current

    url = database_url(os.environ.get("PARCELNET_DB"))
    engine = make_engine(url)
    require_current(engine, url)
    folder = os.environ.get("PARCELNET_NETWORK")
    if folder:
        from parcelnet.network.pnf import load_network
        net = load_network(folder)
    else:
        net = S.default_network()
    rate, _, burst = os.environ.get("PARCELNET_RATE_LIMIT", "").partition(",")
    limit = (float(rate), int(burst)) if burst else RATE
    return settle_heap(create_app(engine, S.Router(net), webhooks_every=2.0, rate=limit))


def settle_heap(app: FastAPI) -> FastAPI:
    """A server's app, once built: its promise engine's kernels compiled or loaded
    (:meth:`~parcelnet_service.shipments.Router.warm`), its database pool filled
    (:func:`warm_pool`) and its tracking reads warmed (:func:`warm_reads`), then the heap
    collected and frozen
    (``gc.freeze``). The network, the gazetteer and the app live
    as long as the process, about a million objects; a full collection walked them all each
    time, 100-290 ms with every request stalled (docs/benchmarks.md). Frozen, they are
    skipped. Only for a serving process: in tests, apps come and go."""
    import gc

    from parcelnet_service.db.engine import warm_pool

    router = getattr(app.state, "router", None)
    if router is not None:
        router.warm()
    sessions = getattr(app.state, "sessions", None)
    if sessions is not None:
        warm_pool(sessions.engine)
        warm_reads(app)
    gc.collect()
    gc.freeze()
    return app


def warm_reads(app: FastAPI, n: int = 20) -> None:
    """Take a tracking read's first-time costs before the first request does: ``n`` requests
    through the app in this process with an unknown key (the HTTP stack, the key's query, the
    401 answer), and the tracking reads' own queries on one stored shipment, or on none. Each
    statement's SQL is compiled once per process and then cached. Then, on PostgreSQL,
    :func:`prepare_reads`. Unwarmed, the first quarter second of a 200-a-second load saw
    reads of 60-130 ms; with the compiled SQL, 45-73 ms; with the prepared statements too,
    8-39 ms (docs/benchmarks.md). Reads only: nothing is written."""
    import asyncio

    from parcelnet_service import tracking as T
    from parcelnet_service.db.engine import SYSTEM

    async def get(path: str) -> None:
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
                 "method": "GET", "scheme": "http", "path": path, "raw_path": path.encode(),
                 "query_string": b"", "root_path": "", "client": ("127.0.0.1", 0),
                 "server": ("127.0.0.1", 0),
                 "headers": [(b"authorization", b"Bearer pn_warmup00_" + b"0" * 32)]}

        async def receive():
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message):
            pass
        await app(scope, receive, send)

    async def requests():
        for _ in range(n):
            await get("/v1/track/PN0000000000")

    # a thread of its own: a server may build its app inside its running event loop
    t = threading.Thread(target=asyncio.run, args=(requests(),), name="warm-reads")
    t.start()
    t.join()
    with app.state.sessions(SYSTEM) as s:
        number = s.scalar(select(Waybill.number).where(Waybill.piece == 0).limit(1))
        for tenant in (None, 0):             # the platform's query and a tenant's
            got = s.scalar(T.trackable(number or "PN0000000000", tenant))
            if got is not None:
                T.track(s, got)
    if app.state.sessions.engine.dialect.name == "postgresql":    # the route's one statement
        prepare_reads(app.state.sessions, number or "PN0000000000")


#: runs of a statement on one PostgreSQL connection before it costs what it will: psycopg
#: prepares it at its sixth run (``prepare_threshold``, 5), and PostgreSQL plans a prepared
#: statement's first five runs afresh before it settles on a generic plan
WARM_RUNS = 11


def prepare_reads(sessions: Sessions, number: str, connections: int | None = None) -> None:
    """Each of ``connections`` pooled connections (the pool's size by default) runs a
    tracking read's statements :data:`WARM_RUNS` times, each time in a transaction of its
    own that commits: the tenant's context, the key's query and the read of waybill
    ``number``, as a tenant that sees nothing. A tracking read whose statements are
    prepared and planned costs PostgreSQL a third of one planned afresh (docs/benchmarks.md).
    Reads only."""
    from contextlib import ExitStack

    from parcelnet_service import tracking as T
    from parcelnet_service.db.engine import POOL_SIZE

    for _ in range(WARM_RUNS):
        with ExitStack() as stack:          # all at once: each session on its own connection
            for _ in range(connections or POOL_SIZE):
                s = stack.enter_context(sessions.read({"tenant_id": 0, "kind": "merchant"}))
                s.execute(KEY_QUERY, {"prefix": "warmup00"})
                T.track_pg(s, number, 0)

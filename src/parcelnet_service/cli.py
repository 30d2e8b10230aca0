"""``parcelnet serve``, ``parcelnet db`` and ``parcelnet admin``: found by parcelnet's CLI
through the ``parcelnet.cli`` entry point, so the library never imports the service.
Handlers import the service's dependencies only when they run: without
``pip install 'parcelnet[service]'`` they say so in one line."""

from __future__ import annotations

import os
import sys

from parcelnet._deps import require
from parcelnet.cli._common import add_json, bars, integer, number, print_json, seed, warn, writable
from parcelnet.errors import ParameterError, UsageError

DB_HELP = ("database URL: sqlite:///FILE or postgresql://USER@HOST:PORT/DB (default: "
           "$PARCELNET_DB, else the embedded SQLite file ./parcelnet-service.db)")


def register(sub) -> None:
    s = sub.add_parser("serve", help="the operations service: shipments, e-waybills, sort codes "
                       "and promises over HTTP (docs/service.md)",
                       description="Serves the HTTP API (OpenAPI at /docs). With no --db it runs at "
                                   "once on an embedded SQLite file, migrated on first use; on "
                                   "PostgreSQL run 'parcelnet db upgrade' first.")
    s.add_argument("--db", help=DB_HELP)
    s.add_argument("--network", help="network folder (default: China's default network, built "
                   "in a few seconds)")
    s.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    s.add_argument("--port", default="8000", help="port (default 8000)")
    s.add_argument("--workers", default="1", help="worker processes (default 1); each builds "
                   "its own network, and one of them sends the webhooks")
    s.add_argument("--rate-limit", default=None, metavar="RATE[,BURST]",
                   help="each key's requests a second and burst, per worker process "
                        "(default 50,200; burst default 4 x RATE); beyond it: 429 with Retry-After")
    s.set_defaults(func=serve)

    d = sub.add_parser("db", help="the service's database: migrations")
    dsub = d.add_subparsers(dest="db_command", required=True, metavar="WHAT")
    u = dsub.add_parser("upgrade", help="apply the migrations (Alembic) up to the newest")
    u.add_argument("--db", help=DB_HELP)
    add_json(u, "the revision")
    u.set_defaults(func=db_upgrade)
    c = dsub.add_parser("current", help="the schema revision the database is at")
    c.add_argument("--db", help=DB_HELP)
    add_json(c, "the revision")
    c.set_defaults(func=db_current)

    o = sub.add_parser("ops", help="operations against a running service")
    osub = o.add_subparsers(dest="ops_command", required=True, metavar="WHAT")
    r = osub.add_parser("replay", help="a simulated day played into the service: shipments and "
                        "the scans carriers would post (a live digital twin; docs/service.md)",
                        description="Simulates the parcels with each hop recorded, creates their "
                                    "shipments through the API and posts the scans of their "
                                    "journeys, in time order, at --speed.")
    r.add_argument("network", metavar="DIR", help="network folder (the one the service runs on)")
    r.add_argument("--parcels", required=True, help="the day's parcels (parcelnet demand's file)")
    r.add_argument("--url", required=True, help="the service, e.g. http://127.0.0.1:8000")
    r.add_argument("--speed", default="60", help="simulated minutes per real minute (default 60; "
                   "0: as fast as the service takes them)")
    r.add_argument("--date", help="the day replayed, YYYY-MM-DD, in the past (default: eight "
                   "days ago, as a simulation runs seven days past the last creation)")
    r.add_argument("--merchant-key", default=os.environ.get("PARCELNET_MERCHANT_KEY"),
                   help="a merchant's key (default $PARCELNET_MERCHANT_KEY)")
    r.add_argument("--carrier-key", default=os.environ.get("PARCELNET_CARRIER_KEY"),
                   help="the carrier's key (default $PARCELNET_CARRIER_KEY)")
    r.add_argument("--seed", default="0", help="random seed of the addresses and weights")
    add_json(r, "the replay's counts and rates")
    r.set_defaults(func=ops_replay)

    i = osub.add_parser("import", help="shipments from a CSV file, created through the API; "
                        "each row succeeds or gets its own error",
                        description="Creates one shipment per row through POST "
                                    "/v1/shipments/batch, 500 rows a request, and writes each "
                                    "row's waybill, sort code and promise, or its error, to "
                                    "--out. Running the same file again creates nothing twice. "
                                    "Columns: docs/service.md, 'Create in bulk from a CSV file'.")
    i.add_argument("file", metavar="FILE", help="the shipments, a UTF-8 CSV file with a header row")
    i.add_argument("--url", required=True, help="the service, e.g. http://127.0.0.1:8000")
    i.add_argument("--key", default=os.environ.get("PARCELNET_MERCHANT_KEY"),
                   help="the merchant's key (default $PARCELNET_MERCHANT_KEY)")
    i.add_argument("--out", help="each row's result, CSV (default: FILE's name with .results.csv)")
    add_json(i, "the counts and each refused row")
    i.set_defaults(func=ops_import)

    a = sub.add_parser("admin", help="tenants and API keys of the service")
    asub = a.add_subparsers(dest="admin_what", required=True, metavar="WHAT")
    t = asub.add_parser("tenant", help="merchants, carriers and the platform")
    tsub = t.add_subparsers(dest="tenant_command", required=True, metavar="ACTION")
    tc = tsub.add_parser("create", help="add a tenant")
    tc.add_argument("--name", required=True, help="the tenant's unique name (1-100 characters)")
    tc.add_argument("--kind", required=True, choices=("merchant", "carrier", "platform"),
                    help="merchant: creates shipments; carrier: posts scans for the waybills "
                         "handed to it; platform: administers")
    tc.add_argument("--db", help=DB_HELP)
    add_json(tc, "the tenant")
    tc.set_defaults(func=tenant_create)
    tl = tsub.add_parser("list", help="every tenant")
    tl.add_argument("--db", help=DB_HELP)
    add_json(tl, "the tenants")
    tl.set_defaults(func=tenant_list)
    k = asub.add_parser("key", help="API keys: stored hashed, shown once")
    ksub = k.add_subparsers(dest="key_command", required=True, metavar="ACTION")
    kc = ksub.add_parser("create", help="a new key for a tenant (printed once: store it)")
    kc.add_argument("--tenant", required=True, help="the tenant's name")
    kc.add_argument("--scopes", help="comma-separated scopes (default by the tenant's kind: "
                    "merchant shipments:write,shipments:read,tracking:read; carrier "
                    "scans:write,tracking:read; platform admin,shipments:read,tracking:read)")
    kc.add_argument("--name", help="a label for the key")
    kc.add_argument("--db", help=DB_HELP)
    add_json(kc, "the key")
    kc.set_defaults(func=key_create)
    kr = ksub.add_parser("revoke", help="revoke a key by its prefix (effective at once)")
    kr.add_argument("prefix", help="the key's 8-character prefix (pn_<prefix>_...)")
    kr.add_argument("--db", help=DB_HELP)
    add_json(kr, "the key")
    kr.set_defaults(func=key_revoke)


def _engine(url: str | None):
    """The engine for ``url``; the embedded SQLite file is migrated on first use, PostgreSQL
    must be at the code's revision."""
    require("sqlalchemy", "service", "the operations service")
    require("alembic", "service", "the operations service")
    from sqlalchemy.exc import OperationalError

    from parcelnet_service.db.engine import (database_url, is_sqlite, make_engine, redact,
                                             require_current, upgrade)

    url = database_url(url)
    if not is_sqlite(url):
        require("psycopg", "service", "the operations service on PostgreSQL")
    engine = make_engine(url)
    try:
        if is_sqlite(url):
            upgrade(engine)
        else:
            require_current(engine, url)
    except OperationalError as e:
        raise ParameterError(f"cannot open the database {redact(url)}: "
                             f"{str(e.orig).strip().splitlines()[0]}") from None
    return engine


def _session(engine):
    from sqlalchemy.orm import Session
    return Session(engine, expire_on_commit=False)


def serve(a) -> int:
    require("fastapi", "service", "the operations service")
    require("uvicorn", "service", "the operations service")
    import uvicorn

    from parcelnet_service.api.app import create_app, settle_heap
    from parcelnet_service.shipments import Router

    port = integer(a.port, "--port", 1, 65535)
    workers = integer(a.workers, "--workers", 1, 64)
    rate = rate_limit(a.rate_limit)
    engine = _engine(a.db)
    if workers == 1:
        router = Router(_network(a.network))
        uvicorn.run(settle_heap(create_app(engine, router, webhooks_every=2.0, rate=rate)),
                    host=a.host, port=port, log_level="info")
        return 0
    # several processes: each builds its app from the environment (parcelnet_service.api.app.from_env)
    from parcelnet_service.db.engine import database_url
    os.environ["PARCELNET_DB"] = database_url(a.db)
    if a.network:
        os.environ["PARCELNET_NETWORK"] = a.network
    os.environ["PARCELNET_RATE_LIMIT"] = f"{rate[0]!r},{rate[1]}"
    engine.dispose()
    uvicorn.run("parcelnet_service.api.app:from_env", factory=True, host=a.host, port=port,
                workers=workers, log_level="info")
    return 0


def rate_limit(text: str | None) -> tuple[float, int]:
    """``--rate-limit RATE[,BURST]``: (requests a second, burst) of each key's token bucket."""
    from parcelnet_service.api.app import RATE

    if text is None:
        return RATE
    what = "RATE[,BURST]: a rate above 0 a second, then a whole burst of at least 1"
    rate_s, _, burst_s = str(text).partition(",")
    r = number(rate_s, "--rate-limit", what, above=0, hi=1e9)
    burst = max(1, int(round(4 * r))) if not burst_s.strip() else \
        integer(burst_s, "--rate-limit", 1, 10 ** 9)
    return r, burst


def _network(folder: str | None):
    if folder:
        from parcelnet.network.pnf import load_network
        return load_network(folder)
    from parcelnet_service.shipments import default_network
    return default_network()


def db_upgrade(a) -> int:
    require("alembic", "service", "the operations service")
    from parcelnet_service.db.engine import current_revision, database_url, make_engine, upgrade
    engine = make_engine(database_url(a.db))
    before = current_revision(engine)
    after = upgrade(engine)
    out = {"from": before, "to": after}
    if a.json:
        print_json(out)
    else:
        print(f"database at revision {after}" + ("" if before == after else f" (was {before or 'empty'})"))
    return 0


def db_current(a) -> int:
    require("alembic", "service", "the operations service")
    from parcelnet_service.db.engine import current_revision, database_url, head_revision, make_engine
    at = current_revision(make_engine(database_url(a.db)))
    out = {"revision": at, "head": head_revision()}
    if a.json:
        print_json(out)
    else:
        print(f"revision {at or 'none'} (newest: {out['head']})")
    return 0


def tenant_create(a) -> int:
    from parcelnet_service.admin import create_tenant
    with _session(_engine(a.db)) as s:
        t = create_tenant(s, a.name, a.kind)
        s.commit()
        out = {"id": t.id, "name": t.name, "kind": t.kind}
    print_json(out) if a.json else print(f"tenant {out['name']} ({out['kind']}), id {out['id']}")
    return 0


def tenant_list(a) -> int:
    from sqlalchemy import select

    from parcelnet_service.db.models import Tenant
    with _session(_engine(a.db)) as s:
        rows = [{"id": t.id, "name": t.name, "kind": t.kind}
                for t in s.scalars(select(Tenant).order_by(Tenant.id))]
    if a.json:
        print_json(rows)
    else:
        for r in rows:
            print(f"{r['id']:>6}  {r['kind']:<9} {r['name']}")
    return 0


def key_create(a) -> int:
    from parcelnet_service.admin import create_key
    scopes = [x.strip() for x in a.scopes.split(",") if x.strip()] if a.scopes else None
    with _session(_engine(a.db)) as s:
        k, full = create_key(s, a.tenant, scopes, a.name)
        s.commit()
        out = {"key": full, "prefix": k.prefix, "tenant": a.tenant, "scopes": k.scopes.split()}
    if a.json:
        print_json(out)
    else:
        print(full)
        print(f"  (shown once) prefix {k.prefix}, tenant {a.tenant}, scopes {' '.join(out['scopes'])}",
              file=sys.stderr)
    return 0


def key_revoke(a) -> int:
    from parcelnet_service.admin import revoke_key
    with _session(_engine(a.db)) as s:
        k = revoke_key(s, a.prefix)
        s.commit()
        out = {"prefix": k.prefix, "revoked_at": k.revoked_at.isoformat()}
    print_json(out) if a.json else print(f"key {k.prefix} revoked at {out['revoked_at']}")
    return 0



def ops_import(a) -> int:
    import logging
    from pathlib import Path

    from parcelnet.files import write_text
    from parcelnet.tables import read_csv

    from parcelnet_service import importer, replay

    if not a.key:
        raise UsageError("--key (or $PARCELNET_MERCHANT_KEY) is needed: a merchant's key")
    src = Path(a.file)
    out = Path(a.out) if a.out else src.with_name(src.name.removesuffix(".csv") + ".results.csv")
    if out.resolve() == src.resolve():
        raise UsageError(f"--out {out} is the input file")
    writable(out, "--out")
    rows, ignored = importer.bodies(read_csv(src, name=str(src)), str(src))
    merchant = replay.Client(a.url, a.key)
    who = merchant.call("GET", "/v1/me")
    if who["kind"] != "merchant":
        raise UsageError(f"--key belongs to {who['tenant']}, a {who['kind']}, not a merchant")
    if ignored:
        logging.getLogger("parcelnet").info("%s: columns not imported: %s", src, ", ".join(ignored))
    with bars(quiet=a.json) as progress:
        got = importer.run(merchant, rows, progress=progress)
    write_text(out, got.table().to_csv(index=False))
    refused = [r for r in got.results if r["error"]]
    if a.json:
        print_json({"file": str(src), "rows": len(rows), "created": got.created, "failed": got.failed,
                    "results": str(out), "ignored_columns": ignored,
                    "refused": [{"line": r["line"], "error": r["error"]} for r in refused]})
    else:
        for r in refused[:10]:
            col, _, why = r["error"].partition(": ")
            warn(f"{src}, line {r['line']}, field '{col}': {why}" if why else
                 f"{src}, line {r['line']}: {r['error']}")
        if len(refused) > 10:
            warn(f"... and {len(refused) - 10:,} more refused rows: see {out}")
        print(f"{got.created:,} of {len(rows):,} shipments created as {who['tenant']}"
              + (f", {got.failed:,} rows refused" if got.failed else "") + f"; each row's result: {out}")
    return 1 if got.failed else 0


def ops_replay(a) -> int:
    from datetime import date, datetime, timedelta

    from parcelnet.demand.files import load_parcels
    from parcelnet.network.pnf import load_network

    from parcelnet_service import replay
    from parcelnet_service.shipments import CST

    speed = number(a.speed, "--speed", "a number of minutes, 0 or more", lo=0)
    rng_seed = seed(a.seed)
    if not a.merchant_key or not a.carrier_key:
        raise UsageError("--merchant-key and --carrier-key (or $PARCELNET_MERCHANT_KEY and "
                         "$PARCELNET_CARRIER_KEY) are needed")
    today = datetime.now(CST).date()
    if a.date:
        try:
            day = date.fromisoformat(a.date)
        except ValueError:
            raise UsageError(f"--date must be YYYY-MM-DD, got '{a.date}'") from None
        if day >= today:
            raise UsageError(f"--date must lie in the past (the service refuses scans from its "
                             f"future), got {day}")
    else:
        day = today - timedelta(days=8)
    merchant, carrier = replay.Client(a.url, a.merchant_key), replay.Client(a.url, a.carrier_key)
    who = carrier.call("GET", "/v1/me")
    if who["kind"] != "carrier":
        raise UsageError(f"--carrier-key belongs to {who['tenant']}, a {who['kind']}, not a carrier")
    net = load_network(a.network)
    parcels = load_parcels(a.parcels, net)
    with bars(quiet=a.json) as progress:
        p = replay.plan(net, parcels, day, who["tenant"], rng_seed, progress=progress)
        stats = replay.run(p, merchant, carrier, speed, progress=progress)
    out = {"day": str(day), "parcels": len(parcels), "undelivered_by_the_simulation": p.undelivered,
           **stats.to_dict()}
    if a.json:
        print_json(out)
    else:
        print(f"replayed {day}: {stats.shipments:,} shipments ({stats.shipments_refused:,} refused), "
              f"{stats.events:,} scans ({stats.accepted:,} accepted, {stats.duplicates:,} duplicates, "
              f"{stats.rejected:,} rejected) in {stats.seconds:,.1f} s; the simulation left "
              f"{p.undelivered:,} undelivered")
    return 0

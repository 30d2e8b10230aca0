"""``parcelnet demo --serve``: the operations service on the embedded SQLite file, with a
simulated day replayed into it while its page shows the parcels move."""

from __future__ import annotations

import socket
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

from parcelnet._deps import require
from parcelnet.cli._common import bars, integer
from parcelnet.errors import ParameterError

#: simulated minutes per real minute: a day in six minutes
SPEED = 240.0


def serve_demo(a) -> int:
    for m in ("fastapi", "uvicorn", "sqlalchemy", "alembic"):
        require(m, "service", "parcelnet demo --serve")
    import uvicorn

    from parcelnet.demand.generate import sample_parcels
    from parcelnet.network.scale import scale_capacity

    from parcelnet_service import replay
    from parcelnet_service.admin import create_key, create_tenant
    from parcelnet_service.api.app import create_app
    from parcelnet_service.db.engine import make_engine, upgrade
    from parcelnet_service.shipments import CST, Router, default_network

    port = integer(a.port, "--port", 1, 65535)
    n = integer(a.parcels, "--parcels", 1, 200_000)
    with socket.socket() as s:
        if s.connect_ex(("127.0.0.1", port)) == 0:
            raise ParameterError(f"--port {port}: something already listens there; pick another")
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    db = out / "service.db"
    for f in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        f.unlink(missing_ok=True)                    # a fresh day every time
    engine = make_engine(f"sqlite:///{db}")
    upgrade(engine)
    from sqlalchemy.orm import Session
    with Session(engine) as s:
        create_tenant(s, "demo-shop", "merchant")
        create_tenant(s, "demo-express", "carrier")
        create_tenant(s, "platform", "platform")
        _, merchant_key = create_key(s, "demo-shop")
        _, carrier_key = create_key(s, "demo-express")
        _, platform_key = create_key(s, "platform")
        s.commit()
    print("building China's default network ...", flush=True)
    net = default_network()
    router = Router(net)
    app = create_app(engine, router, webhooks_every=2.0)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    url = f"http://127.0.0.1:{port}"
    print(f"\nthe operations page: {url}/   (API: {url}/docs)\n"
          f"paste this key into the page to see every tenant's parcels:\n  {platform_key}\n"
          f"merchant key: {merchant_key}\ncarrier key:  {carrier_key}\n", flush=True)
    day = datetime.now(CST).date() - timedelta(days=8)
    parcels = sample_parcels(net, n, "normal", seed=1)
    scaled = scale_capacity(net, n / 777e6 * 2)      # a busy day: queues and missed departures
    try:
        with bars() as progress:
            p = replay.plan(scaled, parcels, day, "demo-express", progress=progress)
            stats = replay.run(p, replay.Client(url, merchant_key), replay.Client(url, carrier_key),
                               speed=SPEED, progress=progress)
        print(f"replayed {day}: {stats.shipments:,} shipments, {stats.accepted:,} scans; the "
              f"page keeps serving until Ctrl-C", flush=True)
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.should_exit = True
    return 0

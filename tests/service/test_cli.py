"""``parcelnet db``, ``parcelnet admin`` and ``parcelnet serve``'s checks, on SQLite and
PostgreSQL; a key made by the CLI opens the API."""

from __future__ import annotations

import json
import uuid

import pytest

from parcelnet_service.db.engine import head_revision
from tests.conftest import assert_one_line_error, run_cli

from .conftest import PG_ADMIN, shipment


def test_db_upgrade_and_current_on_an_empty_sqlite_file(capsys, tmp_path):
    url = f"sqlite:///{tmp_path / 'x.db'}"
    code, out, _ = run_cli(capsys, "db", "current", "--db", url, "--json")
    assert code == 0 and json.loads(out)["revision"] is None
    head = head_revision()
    code, out, _ = run_cli(capsys, "db", "upgrade", "--db", url)
    assert code == 0 and out.startswith(f"database at revision {head} (was empty)")
    code, out, _ = run_cli(capsys, "db", "upgrade", "--db", url, "--json")
    assert json.loads(out) == {"from": head, "to": head}


def test_tenants_and_keys(capsys, db, router):
    url, engine = db
    code, out, _ = run_cli(capsys, "admin", "tenant", "create", "--name", "shop", "--kind",
                           "merchant", "--db", url, "--json")
    assert code == 0 and json.loads(out)["kind"] == "merchant"
    run_cli(capsys, "admin", "tenant", "create", "--name", "sf", "--kind", "carrier", "--db", url)
    code, _, err = run_cli(capsys, "admin", "tenant", "create", "--name", "shop", "--kind",
                           "merchant", "--db", url)
    assert code == 2
    assert_one_line_error(err, "a tenant named 'shop' exists already")
    code, _, err = run_cli(capsys, "admin", "key", "create", "--tenant", "sf", "--scopes",
                           "scans:write,shipments:write", "--db", url)
    assert code == 2
    assert_one_line_error(err, "a carrier key cannot hold the scope 'shipments:write'")
    code, _, err = run_cli(capsys, "admin", "key", "create", "--tenant", "nobody", "--db", url)
    assert code == 2
    assert_one_line_error(err, "no tenant named 'nobody'")
    code, out, err = run_cli(capsys, "admin", "key", "create", "--tenant", "shop", "--db", url)
    assert code == 0 and out.startswith("pn_") and "shown once" in err
    key = out.strip()
    code, out, _ = run_cli(capsys, "admin", "tenant", "list", "--db", url, "--json")
    assert [t["name"] for t in json.loads(out)] == ["shop", "sf"]

    from fastapi.testclient import TestClient

    from parcelnet_service.api.app import create_app
    client = TestClient(create_app(engine, router))
    h = {"Authorization": f"Bearer {key}"}
    assert client.post("/v1/shipments", json=shipment(), headers=h).status_code == 201
    code, out, _ = run_cli(capsys, "admin", "key", "revoke", key.split("_")[1], "--db", url, "--json")
    assert code == 0 and json.loads(out)["revoked_at"]
    assert client.get("/v1/shipments", headers=h).status_code == 401


def test_a_database_that_does_not_answer(capsys):
    code, _, err = run_cli(capsys, "admin", "tenant", "list", "--db",
                           "postgresql://postgres:secret@127.0.0.1:1/none")
    assert code == 2
    assert_one_line_error(err, "cannot open the database", "postgres:***@127.0.0.1:1/none")
    assert "secret" not in err
    code, _, err = run_cli(capsys, "admin", "tenant", "list", "--db", "mysql://x")
    assert code == 2
    assert_one_line_error(err, "use sqlite:///FILE or postgresql://")


def test_postgresql_is_never_migrated_behind_the_operators_back(capsys, pg_server):
    import psycopg
    name = f"parcelnet_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            url = f"{PG_ADMIN.rsplit('/', 1)[0]}/{name}"
            code, _, err = run_cli(capsys, "admin", "tenant", "list", "--db", url)
            assert code == 2
            assert_one_line_error(err, "schema revision none", "parcelnet db upgrade")
            assert run_cli(capsys, "db", "upgrade", "--db", url)[0] == 0
            assert run_cli(capsys, "admin", "tenant", "list", "--db", url)[0] == 0
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.mark.parametrize("args, msg", [(("--port", "0"), "--port must be at least 1"),
                                        (("--port", "x"), "--port must be an integer"),
                                        (("--workers", "0"), "--workers must be at least 1"),
                                        (("--rate-limit", "0"), "--rate-limit must be RATE[,BURST]"),
                                        (("--rate-limit", "fast"), "--rate-limit must be RATE[,BURST]"),
                                        (("--rate-limit", "10,0"), "--rate-limit must be at least 1")])
def test_serve_checks_its_options_first(capsys, tmp_path, args, msg):
    code, _, err = run_cli(capsys, "serve", "--db", f"sqlite:///{tmp_path / 's.db'}", *args)
    assert code == 2
    assert_one_line_error(err, msg)


def test_the_rate_limit_option():
    from parcelnet_service.api.app import RATE
    from parcelnet_service.cli import rate_limit
    assert rate_limit(None) == RATE == (50.0, 200)
    assert rate_limit("100") == (100.0, 400)            # burst: four seconds' worth
    assert rate_limit("2.5,3") == (2.5, 3)
    assert rate_limit("0.1") == (0.1, 1)


def test_a_serving_process_freezes_what_startup_built():
    """``serve`` settles the heap once its app is built: later full collections skip the
    network and the app. In a fresh process, so that the test run's own heap stays as it is."""
    import subprocess
    import sys

    code = ("import gc; from fastapi import FastAPI; from parcelnet_service.api.app import settle_heap; "
            "before = gc.get_freeze_count(); app = settle_heap(FastAPI()); "
            "print(before, gc.get_freeze_count(), isinstance(app, FastAPI))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    before, after, same = out.stdout.split()
    assert before == "0" and int(after) > 10_000 and same == "True"


def test_a_serving_process_readies_the_promise_kernels():
    """``serve`` runs the promise engine's kernels before the first request (Router.warm):
    numba compiles them, or loads them from its cache, at start-up and not while the first
    scans wait. In a fresh process, where nothing has run them yet."""
    import subprocess
    import sys

    code = ("from fastapi import FastAPI; from parcelnet_service import shipments as S; "
            "from parcelnet_service.api.app import settle_heap; from parcelnet.promise import _kernels as K; "
            "ks = (K.search, K.best_delivery, K.trace_paths, K.search_many, K.deliver_queries); "
            "app = FastAPI(); app.state.router = S.Router(S.default_network()); "
            "before = [len(k.signatures) for k in ks]; settle_heap(app); "
            "print(sum(before), min(len(k.signatures) for k in ks))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    before, after = map(int, out.stdout.split())
    assert before == 0 and after >= 1

"""Schemathesis against the service's OpenAPI document: examples generated from the schema
for every operation, with a merchant's and a carrier's key, give no server error and no
answer that breaks the schema (on the embedded SQLite file). The cases are the same on
every run; wider, random runs are `st run` from the command line (docs/service.md)."""

from __future__ import annotations

import pytest

schemathesis = pytest.importorskip("schemathesis")
from hypothesis import HealthCheck, settings  # noqa: E402

from .conftest import NOW, Service  # noqa: E402


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory, router):
    from parcelnet_service.db.engine import make_engine, upgrade
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'f.db'}")
    upgrade(engine)
    svc = Service(engine, router, NOW)
    return svc


def test_no_server_error_and_no_schema_violation(fuzzed):
    from hypothesis import given
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzzed.app)
    checks = schemathesis.checks.CHECKS.get_by_names(["not_a_server_error",
                                                      "response_schema_conformance"])
    ops = [r.ok() for r in schema.get_all_operations()]
    assert len(ops) >= 18
    for op in ops:
        @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), database=None,
                  derandomize=True)              # the same cases on every run: CI never flickers
        @given(case=op.as_strategy())
        def run(case):
            for who in ("shop", "sf"):
                case.call_and_validate(headers=fuzzed.keys[who], checks=checks)
        run()

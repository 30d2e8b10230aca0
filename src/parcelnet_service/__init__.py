"""parcelnet's operations service (``parcelnet serve``): shipments and e-waybills for many
tenants, on a real database (docs/service.md).

A package beside the library: it imports :mod:`parcelnet`, and :mod:`parcelnet` never
imports it (an import-linter contract in pyproject.toml). Its parts:

- :mod:`.db`: SQLAlchemy 2 tables, engines (embedded SQLite or PostgreSQL via psycopg 3)
  and the Alembic migrations;
- :mod:`.waybill`, :mod:`.keys`: waybill numbers with their check digit, API keys;
- :mod:`.shipments`: the domain: address to station and sort code, the promise, creation;
- :mod:`.api`: the FastAPI app (Pydantic at the edge only);
- :mod:`.cli`: ``parcelnet serve``, ``parcelnet db``, ``parcelnet admin``, found by
  parcelnet's CLI through an entry point.
"""

"""The service's tables (SQLAlchemy 2). Times are stored in UTC; the Alembic migrations in
``migrations/`` create them, on SQLite and on PostgreSQL alike.

- ``tenants``: merchants, carriers and the platform;
- ``api_keys``: a prefix, the secret's hash, scopes, a revocation time;
- ``shipments``: one per created shipment, with the parsed route (stations, sort code);
- ``waybills``: the numbers: a shipment's parent (piece 0) and, for multi-piece shipments,
  one child per piece. Their key is the number's serial;
- ``promises``: every promise made for a shipment, versioned, with its reason;
- ``idempotency_keys``: the IETF Idempotency-Key records (the request's fingerprint and the
  stored response);
- ``scans``: carriers' events, one row per (carrier, event id), with the event's hash;
- ``webhooks``: where a tenant wants its status changes; ``outbox``: the notifications,
  written in the transaction that changes the status and delivered by a worker.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (JSON, BigInteger, DateTime, ForeignKey, Index, Integer, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

#: SQLite's INTEGER PRIMARY KEY is its rowid only as INTEGER, PostgreSQL's as BIGINT
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UTC(TypeDecorator):
    """An aware UTC datetime on every backend (SQLite stores no zone: naive means UTC)."""
    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: the service stores aware UTC times")
        return value.astimezone(timezone.utc)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    pass


class Tenant(Base):
    __tablename__ = "tenants"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(16))            # merchant | carrier | platform
    created_at: Mapped[datetime] = mapped_column(UTC, default=utcnow)


class ApiKey(Base):
    __tablename__ = "api_keys"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    prefix: Mapped[str] = mapped_column(String(8), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    scopes: Mapped[str] = mapped_column(String(200))         # space-separated
    name: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTC, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTC)
    tenant: Mapped[Tenant] = relationship()


class Shipment(Base):
    __tablename__ = "shipments"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    carrier_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id"), index=True)
    waybill: Mapped[str | None] = mapped_column(String(14), unique=True)   # the parent's number
    reference: Mapped[str | None] = mapped_column(String(64))
    service_level: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(24), default="created")
    sender_name: Mapped[str] = mapped_column(String(50))
    sender_phone: Mapped[str] = mapped_column(String(20))
    sender_address: Mapped[str] = mapped_column(String(200))
    recipient_name: Mapped[str] = mapped_column(String(50))
    recipient_phone: Mapped[str] = mapped_column(String(20))
    recipient_address: Mapped[str] = mapped_column(String(200))
    origin_station: Mapped[str] = mapped_column(String(32))
    dest_station: Mapped[str] = mapped_column(String(32), index=True)
    dest_hub: Mapped[str] = mapped_column(String(32))
    sort_code: Mapped[str] = mapped_column(String(64))
    dest_province: Mapped[str | None] = mapped_column(String(50))
    weight_g: Mapped[int] = mapped_column(Integer)
    length_mm: Mapped[int] = mapped_column(Integer)
    width_mm: Mapped[int] = mapped_column(Integer)
    height_mm: Mapped[int] = mapped_column(Integer)
    contents: Mapped[str] = mapped_column(String(100))
    pieces: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTC)
    # the fold of the shipment's scans (parcelnet_service.tracking)
    location: Mapped[str | None] = mapped_column(String(32))
    promise_at: Mapped[datetime | None] = mapped_column(UTC)      # the latest promise's
    status_at: Mapped[datetime | None] = mapped_column(UTC)
    last_event_at: Mapped[datetime | None] = mapped_column(UTC)
    tenant: Mapped[Tenant] = relationship(foreign_keys=[tenant_id])
    carrier: Mapped[Tenant | None] = relationship(foreign_keys=[carrier_id])
    waybills: Mapped[list[Waybill]] = relationship(back_populates="shipment",
                                                   order_by="Waybill.piece")
    promises: Mapped[list[Promise]] = relationship(back_populates="shipment",
                                                   order_by="Promise.version")


class Waybill(Base):
    __tablename__ = "waybills"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)       # the number's serial
    number: Mapped[str | None] = mapped_column(String(14), unique=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipments.id"), index=True)
    piece: Mapped[int] = mapped_column(Integer)                    # 0: the parent
    weight_g: Mapped[int] = mapped_column(Integer)
    shipment: Mapped[Shipment] = relationship(back_populates="waybills")
    __table_args__ = (UniqueConstraint("shipment_id", "piece"),)


class Promise(Base):
    __tablename__ = "promises"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipments.id"))
    version: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(200))
    from_facility: Mapped[str] = mapped_column(String(32))
    from_at: Mapped[datetime] = mapped_column(UTC)
    promise_at: Mapped[datetime | None] = mapped_column(UTC)
    path: Mapped[list] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTC, default=utcnow)
    shipment: Mapped[Shipment] = relationship(back_populates="promises")
    __table_args__ = (UniqueConstraint("shipment_id", "version"),)


class IdempotencyKey(Base):
    __tablename__ = "idempotency_keys"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(8))                 # running | done
    status_code: Mapped[int | None] = mapped_column(Integer)
    response: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTC, default=utcnow)
    __table_args__ = (UniqueConstraint("tenant_id", "key"),
                      Index("ix_idempotency_created", "created_at"))


class Scan(Base):
    __tablename__ = "scans"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    carrier_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"))
    event_id: Mapped[str] = mapped_column(String(64))
    waybill_id: Mapped[int] = mapped_column(ForeignKey("waybills.id"))
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipments.id"))
    type: Mapped[str] = mapped_column(String(24))
    facility: Mapped[str] = mapped_column(String(32))
    trip: Mapped[str | None] = mapped_column(String(64))
    event_at: Mapped[datetime] = mapped_column(UTC)
    received_at: Mapped[datetime] = mapped_column(UTC)
    hash: Mapped[str] = mapped_column(String(64))
    __table_args__ = (UniqueConstraint("carrier_id", "event_id"),
                      Index("ix_scans_shipment_time", "shipment_id", "event_at"))


class Webhook(Base):
    __tablename__ = "webhooks"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    url: Mapped[str] = mapped_column(String(500))
    secret: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTC, default=utcnow)
    disabled_at: Mapped[datetime | None] = mapped_column(UTC)


class Outbox(Base):
    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id"))
    topic: Mapped[str] = mapped_column(String(40))
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTC)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTC)
    delivered_at: Mapped[datetime | None] = mapped_column(UTC)
    failed_at: Mapped[datetime | None] = mapped_column(UTC)
    last_error: Mapped[str | None] = mapped_column(String(300))
    __table_args__ = (Index("ix_outbox_due", "delivered_at", "failed_at", "next_attempt_at"),)

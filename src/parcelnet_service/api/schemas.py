"""Request bodies, validated at the edge (Pydantic). Past the edge the service works on plain
data: ``model_dump()``."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, HttpUrl, StringConstraints


def _no_nul(text: str) -> str:
    """PostgreSQL's text cannot hold NUL: refused at the edge with the field's name, where
    the database would fail the whole request (SQLite would store it)."""
    if "\x00" in text:
        raise ValueError("NUL characters (\\u0000) are not allowed")
    return text


NoNul = AfterValidator(_no_nul)
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50), NoNul]
#: mainland mobile (11 digits) or landline with area code, optionally +86 and separators
Phone = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^(\+?86[ -]?)?[0-9][0-9 -]{5,17}[0-9]$")]
Address = Annotated[str, StringConstraints(strip_whitespace=True, min_length=4, max_length=200), NoNul]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Party(Strict):
    name: Name
    phone: Phone
    address: Address = Field(description="a Chinese address: province, prefecture, county, "
                                         "township and street, as people write it")


class Parcel(Strict):
    weight_g: int = Field(ge=1, le=70_000, description="grams (at most 70 kg)")
    length_mm: int = Field(ge=1, le=3_000)
    width_mm: int = Field(ge=1, le=3_000)
    height_mm: int = Field(ge=1, le=3_000)
    contents: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), NoNul]


class Piece(Strict):
    weight_g: int = Field(ge=1, le=70_000)


class ShipmentIn(Strict):
    sender: Party
    recipient: Party
    parcel: Parcel
    service_level: Literal["standard", "next_day"] = "standard"
    pieces: list[Piece] | None = Field(default=None, min_length=2, max_length=50,
                                       description="a multi-piece shipment: one child waybill "
                                                   "per piece under the parent waybill")
    carrier: Annotated[str, StringConstraints(min_length=1, max_length=100), NoNul] | None = Field(
        default=None, description="the carrier tenant the parcel is handed to")
    reference: Annotated[str, StringConstraints(max_length=64), NoNul] | None = None
    created_at: AwareDatetime | None = Field(
        default=None, description="when the order was placed, if earlier than now (imports, "
                                  "replays): at most 30 days ago; the promise is made for it")


class BatchIn(Strict):
    shipments: list[dict] = Field(min_length=1, max_length=1000,
                                  description="up to 1,000 shipments, each as POST /v1/shipments "
                                              "takes it; each row succeeds or gets its own error")


# ScanIn's strings are not checked for NUL here (a thousand events a request, each check a
# Python call): facilities and trips are looked up in the network, and a waybill number
# holding NUL is no waybill (tracking.ingest), before any reaches the database
class ScanIn(Strict):
    event_id: Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[!-~]+$")] = Field(
        description="the carrier's own id of the event (printable ASCII, no spaces): the key "
                    "that makes posting it twice harmless")
    waybill: Annotated[str, StringConstraints(min_length=1, max_length=20)]
    type: Literal["picked_up", "arrived", "sorted", "departed", "out_for_delivery", "delivered",
                  "delivery_failed", "exception", "returned", "cancelled"]
    facility: Annotated[str, StringConstraints(min_length=1, max_length=32)]
    trip: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None
    at: AwareDatetime = Field(description="when it happened, ISO 8601 with its offset")


class ScansIn(Strict):
    events: list[dict] = Field(min_length=1, max_length=1000,
                               description="1 to 1,000 events; each is accepted, a duplicate, or "
                                           "rejected with its own error")


class WebhookIn(Strict):
    url: HttpUrl = Field(description="where status and promise changes are POSTed")


class LabelsIn(Strict):
    waybills: list[Annotated[str, StringConstraints(min_length=1, max_length=20), NoNul]] = Field(
        min_length=1, max_length=500)
    format: Literal["pdf", "zpl"] = "pdf"


TenantName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), NoNul]
#: the scopes of parcelnet_service.keys.SCOPES (a test checks they are the same)
Scope = Literal["shipments:write", "shipments:read", "scans:write", "tracking:read", "admin"]


class TenantIn(Strict):
    name: TenantName
    kind: Literal["merchant", "carrier", "platform"]


class KeyIn(Strict):
    tenant: TenantName
    scopes: list[Scope] | None = Field(
        default=None, min_length=1, max_length=5,
        description="the key's scopes (default: its tenant kind's); a scope the kind may not "
                    "hold is refused")
    name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=100), NoNul] | None = Field(
        default=None, description="a label for the key")

"""Shipments from a CSV file, created through the service's API in batches
(``parcelnet ops import``; docs/service.md, "Create in bulk from a CSV file").

One row is one shipment, its columns the flat names of ``POST /v1/shipments``'s fields
(:data:`COLUMNS`). Each row succeeds or gets its own error, named by its line and column;
the good rows are kept. A batch's Idempotency-Key is derived from its content, so running
the same file again answers with the same waybills and creates nothing twice."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field

import pandas as pd

from parcelnet.errors import ValidationError
from parcelnet.progress import Progress, or_none
from parcelnet.tables import line

#: the CSV's required columns and where each goes in the API's body
COLUMNS = {
    "sender_name": ("sender", "name"), "sender_phone": ("sender", "phone"),
    "sender_address": ("sender", "address"),
    "recipient_name": ("recipient", "name"), "recipient_phone": ("recipient", "phone"),
    "recipient_address": ("recipient", "address"),
    "weight_g": ("parcel", "weight_g"), "length_mm": ("parcel", "length_mm"),
    "width_mm": ("parcel", "width_mm"), "height_mm": ("parcel", "height_mm"),
    "contents": ("parcel", "contents"),
}
#: optional columns: left out of the body when empty. ``pieces``: a multi-piece shipment's
#: piece weights in grams, separated by ``;`` (``500;700``)
OPTIONAL = ("service_level", "carrier", "reference", "created_at", "pieces")
#: the API's field paths back to the CSV's columns, for the rows' errors
_FIELD = {".".join(v): k for k, v in COLUMNS.items()}
#: rows a request (the API takes up to 1,000; 500 take a few seconds)
BATCH = 500


@dataclass
class Imported:
    """Per row (in file order): its line, reference, and the waybill, sort code and
    promise of its shipment, or its error (``column: reason``)."""

    results: list[dict] = field(default_factory=list)

    @property
    def created(self) -> int:
        return sum(r["error"] == "" for r in self.results)

    @property
    def failed(self) -> int:
        return len(self.results) - self.created

    def table(self) -> pd.DataFrame:
        return pd.DataFrame(self.results, columns=["line", "reference", "waybill", "sort_code",
                                                   "promise_at", "error"])


def bodies(df: pd.DataFrame, file: str) -> tuple[list[dict], list[str]]:
    """The API's shipment bodies of a CSV table (all strings, as :func:`parcelnet.tables.read_csv`
    reads it), and the columns it ignores. A missing required column is an error of the
    whole file; a cell's value is checked by the service, row by row."""
    df = df.rename(columns={df.columns[0]: df.columns[0].lstrip("\ufeff")}) if len(df.columns) else df
    for c in COLUMNS:
        if c not in df.columns:
            raise ValidationError(f"missing column '{c}' (the columns: {', '.join(COLUMNS)}, and "
                                  f"optionally {', '.join(OPTIONAL)})", file=file, row=1, field=c)
    if df.empty:
        raise ValidationError("no shipments: the file has a header but no rows", file=file)
    out = []
    for rec in df.to_dict("records"):
        body: dict = {"sender": {}, "recipient": {}, "parcel": {}}
        for c, (part, key) in COLUMNS.items():
            body[part][key] = rec[c].strip()
        for c in OPTIONAL:
            v = rec.get(c, "").strip()
            if v:
                body[c] = [{"weight_g": w.strip()} for w in v.split(";")] if c == "pieces" else v
        out.append(body)
    return out, [c for c in df.columns if c not in COLUMNS and c not in OPTIONAL]


def _column(error: str) -> str:
    """An API error (``recipient.phone: ...``, ``pieces.1.weight_g: ...``) with the CSV's
    column in place of the API's field."""
    m = re.match(r"([a-z_]+(?:\.[a-z0-9_]+)*): (.*)", error, re.S)
    if not m:
        return error
    path, reason = m[1], m[2]
    col = _FIELD.get(path) or ("pieces" if path.startswith("pieces") else path)
    return f"{col}: {reason}"


def idempotency_key(rows: list[dict]) -> str:
    """The batch's key: a hash of its rows, so the same rows again replay the first answer."""
    doc = json.dumps(rows, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return "csv-import-" + hashlib.sha256(doc.encode()).hexdigest()[:32]


def run(client, rows: list[dict], batch: int = BATCH, progress: Progress | None = None) -> Imported:
    """Post ``rows`` (a file's, in order) to ``/v1/shipments/batch`` ``batch`` at a time with
    ``client`` (a :class:`parcelnet_service.replay.Client` of a merchant's key). A request
    that fails stops the import: the batches answered before it are created, and running the
    file again creates none of them twice."""
    progress = or_none(progress)
    got = Imported()
    progress.start("shipments", len(rows))
    for k in range(0, len(rows), batch):
        part = rows[k:k + batch]
        r = client.call("POST", "/v1/shipments/batch", {"shipments": part},
                        headers={"Idempotency-Key": idempotency_key(part)})
        for pos, body, res in zip(range(k, k + len(part)), part, r["results"]):
            s = res.get("shipment") or {}
            got.results.append({
                "line": line(pos), "reference": body.get("reference", ""),
                "waybill": s.get("waybill", ""), "sort_code": s.get("sort_code", ""),
                "promise_at": (s.get("promise") or {}).get("promise_at", ""),
                "error": "" if res["ok"] else _column(res["error"])})
        progress.advance(len(part))
    progress.finish()
    return got

"""Parcels files: ``parcel_id,created_minute,origin_facility,dest_station`` as Parquet, or CSV
when the name ends in ``.csv``. Writing streams blocks; reading validates every row against a
network with vectorised checks and names file, line (Parquet: row), field and reason."""

from __future__ import annotations

import csv
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from parcelnet.errors import ValidationError
from parcelnet.files import ensure_folder, temporary_name
from parcelnet.network.model import STATION, Network
from parcelnet.network.schema import FACILITY_KINDS
from parcelnet.parcels import Parcels
from parcelnet.tables import require_columns

COLUMNS = ("parcel_id", "created_minute", "origin_facility", "dest_station")
SCHEMA = pa.schema([("parcel_id", pa.int64()), ("created_minute", pa.int64()),
                    ("origin_facility", pa.string()), ("dest_station", pa.string())])
#: Largest created minute accepted (as the promise engine).
MAX_CREATED_MINUTE = 10**12
ROW_GROUP = 1 << 20


def is_csv(path: str | os.PathLike) -> bool:
    return str(path).lower().endswith(".csv")


def _csv_options(ids) -> pacsv.WriteOptions:
    """Plain CSV (no quotes) unless an id needs quoting (RFC 4180)."""
    special = any(re.search(r'[,"\r\n]', str(i)) for i in ids)
    return pacsv.WriteOptions(quoting_style="needed" if special else "none", include_header=False)


_HEADER = (",".join(COLUMNS) + "\n").encode()  # pyarrow would quote the header


# -- writing ------------------------------------------------------------------------------
class ParcelWriter:
    """Write parcel blocks to Parquet (row groups of 1 Mi rows, zstd) or CSV. The file appears
    only when complete (written under a temporary name, then renamed); a failed write leaves
    nothing behind, and a missing folder is created."""

    def __init__(self, path: Path, network: Network):
        self.path = Path(path)
        self.tmp = temporary_name(self.path)
        self.ids = pa.array(network.facility_index.to_numpy(dtype=object), type=pa.string())
        self._csv = is_csv(self.path)
        self._csv_opts = _csv_options(network.facility_index) if self._csv else None
        self._w = self._fh = None

    def __enter__(self):
        ensure_folder(self.path.parent)
        try:           # until this returns, __exit__ will not run: a kill here cleans up too
            if self._csv:
                self._fh = open(self.tmp, "wb")
                self._fh.write(_HEADER)
                self._w = pacsv.CSVWriter(self._fh, SCHEMA, write_options=self._csv_opts)
            else:
                self._w = pq.ParquetWriter(str(self.tmp), SCHEMA, compression="zstd")
        except BaseException:
            if self._fh is not None:
                self._fh.close()
            self.tmp.unlink(missing_ok=True)
            raise
        return self

    def write_table(self, table: pa.Table) -> None:
        if self._csv:
            self._w.write_table(table)
        else:
            self._w.write_table(table, row_group_size=ROW_GROUP)

    def write_block(self, block) -> None:
        self.write_table(pa.table([
            pa.array(block.parcel_id), pa.array(block.created_minute),
            pc.take(self.ids, pa.array(block.origin_pos)), pc.take(self.ids, pa.array(block.dest_pos)),
        ], schema=SCHEMA))

    def __exit__(self, exc_type, exc, tb):
        try:
            self._w.close()
            if self._csv:
                self._fh.close()
            if exc_type is None:
                os.replace(self.tmp, self.path)
        finally:
            self.tmp.unlink(missing_ok=True)
        return False


def write_parcels(parcels: pd.DataFrame, path: str | os.PathLike) -> Path:
    """Write a parcels DataFrame (the four columns, in that order; others are dropped) to
    Parquet, or CSV when ``path`` ends in ``.csv``."""
    missing = [c for c in COLUMNS if c not in parcels.columns]
    if missing:
        raise ValidationError(f"parcels have no column '{missing[0]}'", field=missing[0])
    df = parcels[list(COLUMNS)]
    table = pa.table({
        "parcel_id": pa.array(df["parcel_id"].to_numpy(dtype=np.int64)),
        "created_minute": pa.array(df["created_minute"].to_numpy(dtype=np.int64)),
        "origin_facility": pa.array(df["origin_facility"].astype(str).to_numpy(dtype=object), pa.string()),
        "dest_station": pa.array(df["dest_station"].astype(str).to_numpy(dtype=object), pa.string()),
    }, schema=SCHEMA)
    path = Path(path)
    ensure_folder(path.parent)
    tmp = temporary_name(path)
    try:
        if is_csv(path):
            ids = set(df["origin_facility"].unique()) | set(df["dest_station"].unique())
            with open(tmp, "wb") as fh:
                fh.write(_HEADER)
                pacsv.write_csv(table, fh, write_options=_csv_options(ids))
        else:
            pq.write_table(table, str(tmp), compression="zstd", row_group_size=ROW_GROUP)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


# -- reading ------------------------------------------------------------------------------
class _Where:
    """Error positions: CSV lines (header = line 1) or Parquet rows (first data row = row 1)."""

    def __init__(self, name: str, parquet: bool):
        self.name, self.parquet = name, parquet

    def error(self, reason: str, i: int | None = None, field: str | None = None,
              header: bool = False) -> ValidationError:
        """``i``: 0-based data row; ``header``: the problem is in the header/schema."""
        if self.parquet:
            e = ValidationError(reason, file=self.name, row=None if i is None else i + 1, field=field)
            if i is not None:  # say "row N" for Parquet (ValidationError says "line")
                where = [self.name, f"row {i + 1}"] + ([f"field '{field}'"] if field else [])
                e.args = (f"{', '.join(where)}: {reason}",)
            return e
        row = 1 if header else (None if i is None else i + 2)
        return ValidationError(reason, file=self.name, row=row, field=field)


def _first(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def _read_csv(path: Path, where: _Where) -> pa.Table:
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            header = next(csv.reader(fh), None)
    except UnicodeDecodeError:
        raise where.error("not UTF-8 text", header=True) from None
    if not header:
        raise where.error("file is empty (a header row is required)", header=True)
    seen = set()
    for c in header:
        if c in seen:
            raise where.error(f"duplicate column '{c}'", header=True, field=c)
        seen.add(c)
    require_columns(header, COLUMNS, where.name)
    types = {c: pa.string() for c in header}
    types.update({"parcel_id": pa.int64(), "created_minute": pa.int64(),
                  "origin_facility": pa.dictionary(pa.int32(), pa.string()),
                  "dest_station": pa.dictionary(pa.int32(), pa.string())})
    try:
        return _csv_table(path, types)
    except pa.ArrowInvalid as e:
        msg = str(e)
    # slow path, only for bad files: read the integer columns as text and find the first bad value
    try:
        text = _csv_table(path, {c: pa.string() for c in header})
    except pa.ArrowInvalid as e:
        m = re.search(r"Row #(\d+)", str(e))
        reason = str(e).strip().splitlines()[0]
        reason = re.sub(r"^CSV parse error: ", "", reason)
        raise ValidationError(f"not valid CSV: {reason}", file=where.name,
                              row=int(m[1]) if m else None) from None
    for c in ("parcel_id", "created_minute"):
        s = text.column(c).to_pandas()
        ok = s.str.fullmatch(r"[+-]?\d{1,18}").to_numpy(dtype=bool, na_value=False)
        if not ok.all():
            i = _first(~ok)
            v = s.iloc[i]
            reason = "empty value" if v == "" else f"'{v}' is not an integer"
            raise where.error(reason, i, c)
    raise ValidationError(f"not valid CSV: {msg.strip().splitlines()[0]}", file=where.name)


def _csv_table(path: Path, types: dict) -> pa.Table:
    return pacsv.read_csv(
        str(path),
        read_options=pacsv.ReadOptions(use_threads=True, block_size=1 << 24),
        parse_options=pacsv.ParseOptions(newlines_in_values=False),
        convert_options=pacsv.ConvertOptions(column_types=types, strings_can_be_null=False,
                                             quoted_strings_can_be_null=False))


def _read_parquet(path: Path, where: _Where) -> pa.Table:
    try:
        schema = pq.read_schema(str(path))
    except (pa.ArrowInvalid, OSError) as e:
        raise ValidationError(f"not a Parquet file ({str(e).strip().splitlines()[0]})",
                              file=where.name) from None
    names = schema.names
    for c in names:
        if names.count(c) > 1:
            raise where.error(f"duplicate column '{c}'", field=c)
    require_columns(names, COLUMNS, where.name, row=None)
    strings = [c for c in ("origin_facility", "dest_station")
               if pa.types.is_string(schema.field(c).type) or pa.types.is_large_string(schema.field(c).type)]
    try:
        return pq.read_table(str(path), read_dictionary=strings)
    except (pa.ArrowInvalid, OSError) as e:
        raise ValidationError(f"not a valid Parquet file ({str(e).strip().splitlines()[0]})",
                              file=where.name) from None


def _nulls(col: pa.ChunkedArray, where: _Where, field: str) -> None:
    if col.null_count:
        i = _first(col.is_null().to_numpy(zero_copy_only=False))
        raise where.error("empty value", i, field)


def _ints(table: pa.Table, field: str, where: _Where, lo: int, hi: int) -> np.ndarray:
    col = table.column(field)
    _nulls(col, where, field)
    t = col.type
    if not pa.types.is_integer(t):
        first = col.slice(0, 1).to_pylist()
        raise where.error(f"{first[0]!r} is not an integer (column type {t})" if first else
                          f"column type {t} is not an integer type", 0 if first else None, field)
    if pa.types.is_unsigned_integer(t) and len(col) and pc.max(col).as_py() > np.iinfo(np.int64).max:
        i = _first(col.to_numpy() > np.iinfo(np.int64).max)
        raise where.error(f"{col[i].as_py()} is too large", i, field)
    v = col.to_numpy().astype(np.int64, copy=False)
    if len(v) and v.min() < lo:
        i = _first(v < lo)
        raise where.error(f"{v[i]} is negative", i, field)
    if len(v) and v.max() > hi:
        i = _first(v > hi)
        raise where.error(f"{v[i]} is above the maximum {hi}", i, field)
    return v


def _facilities(table: pa.Table, field: str, where: _Where, network: Network) -> tuple[np.ndarray, pd.Categorical]:
    col = table.column(field)
    _nulls(col, where, field)
    if pa.types.is_dictionary(col.type):
        col = col.unify_dictionaries()
    else:
        if not (pa.types.is_string(col.type) or pa.types.is_large_string(col.type)):
            first = col.slice(0, 1).to_pylist()
            raise where.error(f"{first[0]!r} is not a facility id (column type {col.type})" if first
                              else f"column type {col.type} is not a string type", 0 if first else None, field)
        col = pc.dictionary_encode(col).unify_dictionaries()
    if col.num_chunks == 0:
        return np.zeros(0, dtype=np.int64), pd.Categorical([])
    dictionary = col.chunk(0).dictionary.to_numpy(zero_copy_only=False).astype(object)
    codes = np.concatenate([c.indices.to_numpy(zero_copy_only=False) for c in col.chunks]).astype(np.int64)
    dict_pos = network.facility_index.get_indexer(dictionary).astype(np.int64)
    if (dict_pos < 0).any():
        i = _first(dict_pos[codes] < 0)
        raise where.error(f"unknown facility '{dictionary[codes[i]]}'", i, field)
    pos = dict_pos[codes]
    if field == "dest_station":
        kind = network.timetable.kind[dict_pos]
        if (kind != STATION).any():
            i = _first(kind[codes] != STATION)
            raise where.error(f"'{dictionary[codes[i]]}' is a {FACILITY_KINDS[kind[codes[i]]]}, "
                              f"not a station", i, field)
    return pos, pd.Categorical.from_codes(codes, categories=pd.Index(dictionary, dtype=object))


def read_parcels(path: str | os.PathLike, network: Network | str | os.PathLike) -> pd.DataFrame:
    """Read and validate a parcels file (Parquet, or CSV when it ends in ``.csv``) against a
    network. Returns the file's columns (extra columns kept) with ``parcel_id`` and
    ``created_minute`` as int64, ``origin_facility`` and ``dest_station`` as categoricals, plus
    ``origin_pos`` and ``dest_pos``: int64 facility positions in the network. Raises
    :class:`ValidationError` naming file, line (CSV; header = line 1) or row (Parquet; first data
    row = row 1), field and reason."""
    if not isinstance(network, Network):
        from parcelnet.network.pnf import load_network
        network = load_network(network)
    path = Path(path)
    parquet = not is_csv(path)
    where = _Where(path.name, parquet)
    if not path.is_file():
        raise ValidationError("file is missing", file=path.name)
    table = _read_parquet(path, where) if parquet else _read_csv(path, where)
    ids = _ints(table, "parcel_id", where, np.iinfo(np.int64).min, np.iinfo(np.int64).max)
    if len(ids) > 1 and not (ids[1:] > ids[:-1]).all():  # fast path: written sorted, unique
        order = np.argsort(ids, kind="stable")
        s = ids[order]
        dup = s[1:] == s[:-1]
        if dup.any():
            i = int(order[1:][dup].min())
            first = _first(ids == ids[i])
            at = f"row {first + 1}" if parquet else f"line {first + 2}"
            raise where.error(f"duplicate parcel_id {ids[i]} (first at {at})", i, "parcel_id")
    minute = _ints(table, "created_minute", where, 0, MAX_CREATED_MINUTE)
    opos, ocat = _facilities(table, "origin_facility", where, network)
    dpos, dcat = _facilities(table, "dest_station", where, network)
    out = {}
    for name in table.column_names:
        if name == "parcel_id":
            out[name] = ids
        elif name == "created_minute":
            out[name] = minute
        elif name == "origin_facility":
            out[name] = ocat
        elif name == "dest_station":
            out[name] = dcat
        else:
            out[name] = table.column(name).to_pandas()
    out["origin_pos"] = opos
    out["dest_pos"] = dpos
    return pd.DataFrame(out)


def load_parcels(path: str | os.PathLike, network: Network | str | os.PathLike) -> Parcels:
    """A parcels file (as :func:`read_parcels` reads and checks it) as
    :class:`~parcelnet.parcels.Parcels` for the compute functions."""
    return Parcels.from_frame(read_parcels(path, network))

"""Read and write PNF v1 folders and single-file ``.pnfz`` bundles.

A folder is the exchange format (UTF-8 CSV with a header row). A bundle is
the same five tables as Parquet (string columns) in one zip, plus the folder's
other small text files: faster to load and easy to move. ``import`` turns a
folder into a bundle, ``export`` a bundle back into a folder; both keep every
value, extra column and row order, so a round trip changes nothing.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import zipfile
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from parcelnet.errors import ValidationError
from parcelnet.network.model import Network
from parcelnet.network.schema import COLUMNS, FILES, FORMAT_VERSION

BUNDLE_SUFFIX = ".pnfz"
_META_SUFFIXES = (".json", ".toml", ".txt", ".md")
_META_MAX_BYTES = 1 << 20


def read_csv(path: Path) -> pd.DataFrame:
    name = path.name
    if not path.is_file():
        raise ValidationError("file is missing", file=name)
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            header = next(csv.reader(fh), [])
        df = pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False,
                         encoding="utf-8", skipinitialspace=False)
    except pd.errors.EmptyDataError:
        raise ValidationError("file is empty (a header row is required)", file=name, row=1) from None
    except UnicodeDecodeError:
        raise _not_utf8(path) from None
    except pd.errors.ParserError as e:
        m = re.search(r"Expected \d+ fields in line (\d+), saw (\d+)", str(e))
        if m:
            raise ValidationError(f"{m[2]} fields, but the header has {len(header)}",
                                  file=name, row=int(m[1])) from None
        m = re.search(r"EOF inside string starting at row (\d+)", str(e))  # 0-based line
        if m:
            raise ValidationError("a quoted field is never closed", file=name, row=int(m[1]) + 1) from None
        raise ValidationError(f"not valid CSV: {str(e).strip().splitlines()[-1]}", file=name) from None
    except csv.Error as e:
        raise ValidationError(f"not valid CSV: {e}", file=name, row=1) from None
    if not isinstance(df.index, pd.RangeIndex):
        # rows with more fields than the header: pandas would silently make the first an index
        raise ValidationError(f"{len(header) + df.index.nlevels} fields, but the header has "
                              f"{len(header)}", file=name, row=2)
    cols = [str(c) for c in df.columns]
    seen = set()
    for c in header:
        if c in seen:
            raise ValidationError(f"duplicate column '{c}'", file=name, row=1, field=c)
        seen.add(c)
    return df.set_axis(cols, axis=1)


def _not_utf8(path: Path) -> ValidationError:
    """Where the first non-UTF-8 byte is: line, and the column it falls in."""
    raw = path.read_bytes()
    try:
        raw.decode("utf-8")
        pos = 0
    except UnicodeDecodeError as e:
        pos = e.start
    line = raw.count(b"\n", 0, pos) + 1
    field = None
    if line > 1:
        header = next(csv.reader([raw[:raw.find(b"\n")].decode("utf-8", "replace")]), [])
        before = raw[raw.rfind(b"\n", 0, pos) + 1:pos].decode("utf-8", "replace")
        k = max(len(next(csv.reader([before]), [])), 1) - 1
        field = header[k].strip() if k < len(header) else None
    return ValidationError(f"not UTF-8 text (byte 0x{raw[pos]:02x})", file=path.name, row=line,
                           field=field)


def read_tables(folder: str | os.PathLike) -> tuple[dict[str, pd.DataFrame], dict[str, str]]:
    """The five tables of a PNF folder as all-string DataFrames, and its meta files."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ValidationError(f"'{folder}' is not a PNF folder (no such directory)")
    tables = {f: read_csv(folder / f) for f in FILES}
    meta = {}
    for p in sorted(folder.iterdir()):
        if p.suffix in _META_SUFFIXES and p.is_file() and p.stat().st_size <= _META_MAX_BYTES:
            meta[p.name] = p.read_text(encoding="utf-8", errors="replace")
    return tables, meta


def load_network(path: str | os.PathLike) -> Network:
    """Load and validate a network from a PNF folder or a ``.pnfz`` bundle."""
    path = Path(path)
    if path.suffix == BUNDLE_SUFFIX:
        return read_bundle(path)
    tables, meta = read_tables(path)
    return Network.from_tables(tables, meta)


def write_pnf(network: Network, folder: str | os.PathLike) -> Path:
    """Write the network as a PNF v1 folder (tables exactly as held).

    Every file is written under a temporary name first and renamed only when
    all are written, so a failure never leaves a half-old, half-new network.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    staged: list[tuple[Path, Path]] = []
    try:
        for name, df in network.tables.items():
            staged.append((folder / f".{name}.tmp", folder / name))
            write_csv(df, staged[-1][0])
        for name, text in network.meta.items():
            staged.append((folder / f".{name}.tmp", folder / name))
            staged[-1][0].write_text(text, encoding="utf-8")
    except BaseException:
        for tmp, _ in staged:
            tmp.unlink(missing_ok=True)
        raise
    for tmp, final in staged:
        os.replace(tmp, final)
    return folder


def write_csv(df: pd.DataFrame, path: Path) -> None:
    """UTF-8, '\\n' line ends, minimal quoting, as pandas writes it, except that a value
    holding a carriage return is quoted too (the csv module quotes only the characters of
    the line terminator, so a bare '\\r' would be read back as a line break)."""
    if not any("\r" in c for c in map(str, df.columns)) and not any(
            df[c].astype(str).str.contains("\r", regex=False).any() for c in df.columns):
        df.to_csv(path, index=False, lineterminator="\n", encoding="utf-8")
        return
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")  # so '\r' forces quoting; then end rows with '\n'
    with path.open("w", encoding="utf-8", newline="") as fh:
        for row in [list(map(str, df.columns)), *df.astype(str).itertuples(index=False)]:
            buf.seek(0)
            buf.truncate()
            w.writerow(row)
            fh.write(buf.getvalue()[:-2] + "\n")


def write_bundle(network: Network, path: str | os.PathLike) -> Path:
    """Write the network as one ``.pnfz`` file (Parquet tables in a zip)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as z:
        z.writestr("manifest.json", json.dumps({"format": FORMAT_VERSION, "tables": list(FILES),
                                                "meta": sorted(network.meta)}))
        for name, df in network.tables.items():
            buf = io.BytesIO()
            table = pa.table({c: pa.array(df[c].astype(str).tolist(), pa.string()) for c in df.columns})
            pq.write_table(table, buf, compression="zstd")
            z.writestr(name.replace(".csv", ".parquet"), buf.getvalue())
        for name, text in network.meta.items():
            z.writestr("meta/" + name, text)
    os.replace(tmp, path)  # never leave a half-written bundle behind
    return path


def read_bundle(path: str | os.PathLike) -> Network:
    path = Path(path)
    if not path.is_file():
        raise ValidationError("bundle file is missing", file=str(path))
    try:
        with zipfile.ZipFile(path) as z:
            manifest = json.loads(z.read("manifest.json"))
            if manifest.get("format") != FORMAT_VERSION:
                raise ValidationError(f"unsupported format {manifest.get('format')!r}", file=str(path))
            tables = {}
            for name in COLUMNS:
                t = pq.read_table(io.BytesIO(z.read(name.replace(".csv", ".parquet"))))
                tables[name] = pd.DataFrame({c: pd.Series(t[c].to_pylist(), dtype=object)
                                             for c in t.column_names}).astype(str)
            meta = {n: z.read("meta/" + n).decode("utf-8") for n in manifest.get("meta", [])}
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError, pa.ArrowException) as e:
        raise ValidationError(f"not a parcelnet bundle ({e})", file=str(path)) from None
    return Network.from_tables(tables, meta)

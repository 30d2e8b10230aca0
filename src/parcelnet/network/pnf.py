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
import zipfile
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from parcelnet import tables
from parcelnet.errors import ValidationError
from parcelnet.files import atomic_path, ensure_folder, temporary_name
from parcelnet.network.model import Network
from parcelnet.network.schema import COLUMNS, FILES, FORMAT_VERSION

BUNDLE_SUFFIX = ".pnfz"
_META_SUFFIXES = (".json", ".toml", ".txt", ".md")
_META_MAX_BYTES = 1 << 20


def read_csv(path: Path) -> pd.DataFrame:
    """One table of a PNF folder (all strings); a missing file is reported as missing from
    the folder."""
    if not path.is_file():
        raise ValidationError("file is missing", file=path.name)
    return tables.read_csv(path)


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
    folder = ensure_folder(folder)
    staged: list[tuple[Path, Path]] = []
    try:
        for name, df in network.tables.items():
            staged.append((temporary_name(folder / name), folder / name))
            write_csv(df, staged[-1][0])
        for name, text in network.meta.items():
            staged.append((temporary_name(folder / name), folder / name))
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
    """Write the network as one ``.pnfz`` file (Parquet tables in a zip), atomically."""
    path = Path(path)
    with atomic_path(path) as tmp, zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as z:
        z.writestr("manifest.json", json.dumps({"format": FORMAT_VERSION, "tables": list(FILES),
                                                "meta": sorted(network.meta)}))
        for name, df in network.tables.items():
            buf = io.BytesIO()
            table = pa.table({c: pa.array(df[c].astype(str).tolist(), pa.string()) for c in df.columns})
            pq.write_table(table, buf, compression="zstd")
            z.writestr(name.replace(".csv", ".parquet"), buf.getvalue())
        for name, text in network.meta.items():
            z.writestr("meta/" + name, text)
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

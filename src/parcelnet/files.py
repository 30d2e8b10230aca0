"""Writing output files safely, the same way everywhere.

- A missing output folder is created (with its parents).
- A file appears only when complete: it is written under a hidden temporary name beside it
  (``.NAME.tmp``) and renamed over the target at the end, so a reader never sees half a file
  and a failed write leaves the old file as it was.
- A failed write, for any reason (disk full, an exception while producing the data,
  Ctrl-C), removes the temporary file: nothing is left behind.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from parcelnet.errors import ValidationError


def ensure_folder(folder: str | os.PathLike) -> Path:
    """``folder`` as a Path, created with its parents when missing; a clear error when a file
    is in the way or it cannot be made."""
    folder = Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise ValidationError("is a file, not a folder", file=str(folder)) from None
    except NotADirectoryError:
        raise ValidationError("cannot create the folder: a file is in the way",
                              file=str(folder)) from None
    except PermissionError:
        raise ValidationError("cannot create the folder: permission denied",
                              file=str(folder)) from None
    return folder


def check_writable(path: str | os.PathLike) -> Path:
    """Fail early, before long work, when ``path`` could not be written: the nearest existing
    folder above it must be a writable folder and ``path`` itself must not be a folder.
    Creates nothing."""
    path = Path(path)
    if path.is_dir():
        raise ValidationError("is a folder, not a file", file=str(path))
    base = path.absolute().parent
    while not base.exists():
        base = base.parent
    if not base.is_dir() or not os.access(base, os.W_OK):
        raise ValidationError(f"cannot create its folder ({base} is not a writable folder)",
                              file=str(path))
    return path


def is_csv_path(path: str | os.PathLike) -> bool:
    """Whether an output path is CSV (by its ending), else a binary format (Parquet)."""
    return str(path).lower().endswith(".csv")


def temporary_name(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp")


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path to write ``path`` through; it replaces ``path`` when the block
    ends normally and is removed when it raises."""
    path = Path(path)
    ensure_folder(path.parent if str(path.parent) else Path("."))
    if path.is_dir():
        raise ValidationError("is a folder, not a file", file=str(path))
    tmp = temporary_name(path)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Write UTF-8 text atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write bytes atomically."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def leftovers(folder: str | os.PathLike) -> list[Path]:
    """Temporary files of interrupted writes in ``folder`` (there should be none)."""
    return sorted(p for p in Path(folder).iterdir() if p.name.startswith(".") and
                  p.name.endswith((".tmp", ".partial")))

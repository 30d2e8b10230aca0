"""A whole day's per-parcel arrays kept in files instead of anonymous memory.

A streamed day keeps 12 bytes a parcel for its KPIs: 9.3 GB for China's 777M-parcel peak
day. Given a scratch directory, the 8 of them written once, block by block (the promise, the
creation minute, the destination), are memory-mapped from unnamed files there
(``O_TMPFILE`` on Linux: nothing is left behind, even when the process is killed), their
disk space reserved when they are made. The kernel writes
them out and drops them from memory as the machine needs: they count as page cache, which
it can reclaim, not as the process's own memory. The delivered minutes stay in memory: they
are written in no order, as deliveries come back, and in a file each window would dirty
most of its pages again (measured: gigabytes a second written back, the run stalled). This
is what lets a day split across Ray actors on one machine run beside its driver
(docs/simulation.md, "Scratch files"). The results are the same, bit for bit.
"""

from __future__ import annotations

import errno
import mmap
import os
import tempfile
from pathlib import Path

import numpy as np

from parcelnet.errors import ValidationError


def check_scratch(path, what: str = "scratch") -> Path:
    """``path`` as a directory that files can be made in, or a one-line error naming
    ``what`` (the option that gave it)."""
    p = Path(path)
    if not p.is_dir():
        raise ValidationError(f"{what}: {p} is not a directory")
    if not os.access(p, os.W_OK | os.X_OK):
        raise ValidationError(f"{what}: {p} is not writable")
    return p


def day_array(n: int, dtype, fill=None, scratch=None) -> np.ndarray:
    """An array of ``n`` items of ``dtype``, set to ``fill`` (else zeros on disk, undefined in
    memory); in memory, or memory-mapped from an unnamed file in ``scratch``."""
    dtype = np.dtype(dtype)
    if scratch is None:
        return np.empty(n, dtype) if fill is None else np.full(n, fill, dtype)
    size = int(n) * dtype.itemsize
    if size == 0:
        return np.empty(0, dtype)
    try:
        with tempfile.TemporaryFile(dir=check_scratch(scratch), prefix="parcelnet-day-") as f:
            # the disk space taken now: a full disk is this error, not a SIGBUS mid-run when
            # a page of a sparse file cannot be written
            try:
                os.posix_fallocate(f.fileno(), 0, size)
            except OSError as e:
                if e.errno not in (errno.EOPNOTSUPP, errno.EINVAL):
                    raise
                f.truncate(size)                 # a file system that cannot reserve space
            m = mmap.mmap(f.fileno(), size)      # the mapping outlives the file's descriptor
    except OSError as e:
        raise ValidationError(f"scratch: {size:,} bytes in {scratch}: {e.strerror}") from e
    a = np.frombuffer(m, dtype)                  # a plain ndarray: numba takes it
    if fill is not None and fill != 0:
        a.fill(fill)
    return a


__all__ = ["check_scratch", "day_array"]

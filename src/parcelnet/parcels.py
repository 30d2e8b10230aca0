"""The one shape parcels travel in between compute functions: :class:`Parcels`, a columnar
block of four int64 arrays (``parcel_id``, ``created_minute``, ``origin_pos``, ``dest_pos``;
origin and destination as facility positions in a network).

The demand model samples it, the simulator, capacity planning, service design and the
builder's design-day sizing take it. Tables with facility ids (``parcelnet demand`` files,
:func:`parcelnet.demand.read_parcels`) are the file and pandas form at the edges;
:meth:`Parcels.from_frame` turns one into the other.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from parcelnet.errors import ValidationError

COLUMNS = ("parcel_id", "created_minute", "origin_pos", "dest_pos")


@dataclass(frozen=True, eq=False)
class Parcels:
    """Parcels as four int64 arrays of one length: ids, absolute creation minutes, origin
    facility positions and destination station positions."""

    parcel_id: np.ndarray
    created_minute: np.ndarray
    origin_pos: np.ndarray
    dest_pos: np.ndarray

    def __post_init__(self):
        arrays = [np.ascontiguousarray(np.asarray(getattr(self, c)), dtype=np.int64) for c in COLUMNS]
        n = len(arrays[0])
        for c, a in zip(COLUMNS, arrays):
            if a.ndim != 1 or len(a) != n:
                raise ValidationError(f"parcels: column '{c}' has {a.size} values, "
                                      f"'parcel_id' has {n}")
            object.__setattr__(self, c, a)

    def __len__(self) -> int:
        return len(self.parcel_id)

    @classmethod
    def empty(cls) -> Parcels:
        e = np.zeros(0, np.int64)
        return cls(e, e, e, e)

    @classmethod
    def concat(cls, blocks: Iterable[Parcels]) -> Parcels:
        blocks = list(blocks)
        if not blocks:
            return cls.empty()
        return cls(*(np.concatenate([getattr(b, c) for b in blocks]) for c in COLUMNS))

    @classmethod
    def from_frame(cls, df, network=None) -> Parcels:
        """From a table: ``origin_pos``/``dest_pos`` columns when present (as
        :func:`parcelnet.demand.read_parcels` adds them), else the ids in ``origin_facility``
        and ``dest_station`` looked up in ``network``."""
        if "origin_pos" in df and "dest_pos" in df:
            o, d = df["origin_pos"].to_numpy(), df["dest_pos"].to_numpy()
        else:
            if network is None:
                raise ValidationError("parcels with facility ids need their network to be placed")
            idx = network.facility_index
            o, d = idx.get_indexer(df["origin_facility"]), idx.get_indexer(df["dest_station"])
            for col, pos in (("origin_facility", o), ("dest_station", d)):
                if (pos < 0).any():
                    i = int(np.flatnonzero(pos < 0)[0])
                    raise ValidationError(f"unknown facility '{df[col].iloc[i]}'", row=i + 2,
                                          field=col)
        return cls(df["parcel_id"].to_numpy(), df["created_minute"].to_numpy(), o, d)

    def take(self, index) -> Parcels:
        """The parcels at ``index`` (positions or a boolean mask)."""
        return Parcels(*(getattr(self, c)[index] for c in COLUMNS))

    def replace(self, **columns) -> Parcels:
        """The same parcels with some columns replaced."""
        return dataclasses.replace(self, **columns)

    def append(self, parcel_id: int, created_minute: int, origin_pos: int, dest_pos: int) -> Parcels:
        """These parcels and one more at the end."""
        return Parcels(*(np.r_[getattr(self, c), v] for c, v in
                         zip(COLUMNS, (parcel_id, created_minute, origin_pos, dest_pos))))

    @property
    def nbytes(self) -> int:
        return sum(getattr(self, c).nbytes for c in COLUMNS)

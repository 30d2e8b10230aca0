"""Demand: a day of parcels on a network (``parcelnet demand``).

Origins follow where e-commerce sellers are (provincial express volume shares, concentrated
inside each province by population ** alpha), destinations follow population through a gravity
model with distance decay, and creation minutes follow a daily curve (with the Singles Day
midnight spike on a peak day). See ``docs/demand.md``.
"""

from parcelnet.demand.files import COLUMNS, ParcelWriter, load_parcels, read_parcels, write_parcels
from parcelnet.demand.generate import (
    DAYS,
    DEFAULT_ALPHA,
    DISTANCE_DECAY,
    DISTANCE_SCALE_KM,
    HOURLY_WEIGHTS,
    NORMAL_DAY_PARCELS,
    PEAK_DAY_MULTIPLE,
    PEAK_MIDNIGHT_SHARE,
    DemandModel,
    OriginShares,
    default_parcels,
    demand_model,
    generate_parcels,
    generate_to_file,
    hourly_profile,
    iter_parcel_blocks,
    load_origin_shares,
    minute_profile,
    sample_parcels,
)
from parcelnet.parcels import Parcels

__all__ = [
    "COLUMNS", "DAYS", "DEFAULT_ALPHA", "DISTANCE_DECAY", "DISTANCE_SCALE_KM", "HOURLY_WEIGHTS",
    "NORMAL_DAY_PARCELS", "PEAK_DAY_MULTIPLE", "PEAK_MIDNIGHT_SHARE",
    "DemandModel", "OriginShares", "ParcelWriter", "Parcels",
    "default_parcels", "demand_model", "generate_parcels", "generate_to_file", "hourly_profile",
    "iter_parcel_blocks", "load_origin_shares", "load_parcels", "minute_profile", "read_parcels", "sample_parcels",
    "write_parcels",
]

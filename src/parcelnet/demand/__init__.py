"""Demand: a day of parcels on a network (``parcelnet demand``).

Origins follow where e-commerce sellers are (provincial express volume shares, concentrated
inside each province by population ** alpha), destinations follow population through a gravity
model with distance decay, and creation minutes follow a daily curve (with the Singles Day
midnight spike on a peak day). See ``docs/demand.md``.
"""

from parcelnet.demand.files import COLUMNS, ParcelWriter, read_parcels, write_parcels
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
    ParcelBlock,
    default_parcels,
    demand_model,
    generate_parcels,
    generate_to_file,
    hourly_profile,
    iter_parcel_blocks,
    load_origin_shares,
    minute_profile,
)

__all__ = [
    "COLUMNS", "DAYS", "DEFAULT_ALPHA", "DISTANCE_DECAY", "DISTANCE_SCALE_KM", "HOURLY_WEIGHTS",
    "NORMAL_DAY_PARCELS", "PEAK_DAY_MULTIPLE", "PEAK_MIDNIGHT_SHARE",
    "DemandModel", "OriginShares", "ParcelBlock", "ParcelWriter",
    "default_parcels", "demand_model", "generate_parcels", "generate_to_file", "hourly_profile",
    "iter_parcel_blocks", "load_origin_shares", "minute_profile", "read_parcels", "write_parcels",
]

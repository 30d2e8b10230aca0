"""Point files (``id,lat,lon``) for street routing, checked row by row."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from parcelnet.geo.coords import gcj02_to_wgs84
from parcelnet.tables import coordinates, ids, read_csv


def read_points(path, gcj02: bool = False, what: str = "points") -> pd.DataFrame:
    """``id,lat,lon`` rows (WGS-84, or GCJ-02 converted to WGS-84 when ``gcj02``); at least
    one. The file's name is kept in ``attrs["file"]`` for errors about a row found later (a
    point off the street map)."""
    name = Path(path).name
    df = read_csv(path, ("id", "lat", "lon"), min_rows=1, what=what)
    lat, lon = coordinates(df, name)
    pid = ids(df, name, "id")
    if gcj02:
        lon, lat = gcj02_to_wgs84(lon, lat)
    out = pd.DataFrame({"id": pid, "lat": lat, "lon": lon})
    out.attrs["file"] = name
    return out

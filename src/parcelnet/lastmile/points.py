"""Point files (``id,lat,lon``) for street routing, checked row by row."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from parcelnet.errors import ValidationError
from parcelnet.geo.coords import gcj02_to_wgs84


def read_points(path, gcj02: bool = False) -> pd.DataFrame:
    """``id,lat,lon`` rows (WGS-84, or GCJ-02 converted to WGS-84 when ``gcj02``)."""
    path = Path(path)
    name = path.name
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False)
    except FileNotFoundError:
        raise ValidationError("file not found", file=name) from None
    except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as e:
        raise ValidationError(f"not a CSV file ({str(e).splitlines()[0]})", file=name) from None
    for c in ("id", "lat", "lon"):
        if c not in df.columns:
            raise ValidationError(f"missing column '{c}'", file=name, row=1, field=c)
    if df.empty:
        raise ValidationError("no points", file=name)
    out = {}
    for c, lo, hi in (("lat", -90, 90), ("lon", -180, 180)):
        v = pd.to_numeric(df[c], errors="coerce").to_numpy(float)
        bad = ~np.isfinite(v) | (v < lo) | (v > hi)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValidationError(f"'{df[c].iat[i]}' is not a {c} in [{lo}, {hi}]", file=name,
                                  row=i + 2, field=c)
        out[c] = v
    dup = df["id"].duplicated()
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        raise ValidationError(f"duplicate id '{df['id'].iat[i]}'", file=name, row=i + 2, field="id")
    lat, lon = out["lat"], out["lon"]
    if gcj02:
        lon, lat = gcj02_to_wgs84(lon, lat)
    return pd.DataFrame({"id": df["id"].to_numpy(), "lat": lat, "lon": lon})

"""The street-map options that the last-mile commands and ``o2o simulate`` share: --max-snap,
--router, --router-profile."""

from __future__ import annotations

from parcelnet.cli._common import UsageError, number
from parcelnet.geo.snap import MAX_SNAP_M


def add_street_options(p) -> None:
    p.add_argument("--max-snap", default=f"{MAX_SNAP_M:g}",
                   help="metres from the nearest road beyond which a point is off the street map "
                        f"(default {MAX_SNAP_M:g})")
    p.add_argument("--router", help="travel times from a routing server: osrm:http://HOST:5000 or "
                   "valhalla:http://HOST:8002 (default: the street map itself)")
    p.add_argument("--router-profile", help="the server's profile (OSRM) or costing (Valhalla); "
                   "default by mode: OSRM driving, bike, foot; Valhalla auto, bicycle, pedestrian")


def max_snap(a) -> float:
    return number(a.max_snap, "--max-snap", "a distance in metres > 0", above=0)


def routers(a, modes) -> dict:
    """A routing provider per mode from --router (none without it)."""
    from parcelnet.errors import ParameterError
    from parcelnet.geo.routing import server_router
    if not a.router:
        if a.router_profile:
            raise UsageError("--router-profile needs --router")
        return {}
    try:
        return {m: server_router(a.router, m, a.router_profile) for m in modes}
    except ParameterError as e:
        raise UsageError(f"--router: {e}") from None

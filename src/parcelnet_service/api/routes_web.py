"""The web page and the map's data (docs/service.md)."""

from __future__ import annotations

from pathlib import Path

from fastapi import Depends, FastAPI, Query
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from parcelnet.errors import NotFoundError

from parcelnet_service import mapdata

STATIC = Path(__file__).resolve().parents[1] / "web" / "static"


def add_routes(app: FastAPI, needs) -> None:
    net = app.state.router.network
    ctx = app.state.ctx
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/", include_in_schema=False)
    def page():
        return FileResponse(STATIC / "index.html")

    @app.get("/v1/map/network", tags=["map"],
             summary="The network as GeoJSON: province outlines, hubs and centres, hub lanes; "
                     "stations as a table")
    def map_network(p=Depends(needs("tracking:read"))):
        return mapdata.network_geojson(net)

    @app.get("/v1/map/volumes", tags=["map"],
             summary="Parcels not yet delivered, by the facility where they are (the tenant's)")
    def map_volumes(p=Depends(needs("tracking:read"))):
        with app.state.sessions.read(ctx(p)) as s:
            return {"volumes": mapdata.volumes(s, p.tenant_id, p.kind)}

    @app.get("/v1/map/coverage", tags=["map"],
             summary="Promised hours to every station from one origin at one order hour")
    def map_coverage(origin: str = Query(max_length=40), hour: int = Query(18, ge=0, le=23),
                     p=Depends(needs("tracking:read"))):
        if origin not in set(net.facility_index):
            raise NotFoundError(f"no facility '{origin[:40]}' in the network")
        return mapdata.coverage_points(net, origin, hour)

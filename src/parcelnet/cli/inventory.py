"""``parcelnet fulfil``: SKU orders served from placed stock, with exact promises."""

from __future__ import annotations

from pathlib import Path

from parcelnet.cli._common import add_json, bars, print_json, writable


def fulfil(a) -> int:
    import pandas as pd

    from parcelnet.demand.files import write_parcels
    from parcelnet.files import atomic_path
    from parcelnet.inventory import fulfil as serve
    from parcelnet.inventory import read_orders, read_placement, read_skus
    from parcelnet.network.pnf import load_network
    from parcelnet.viz.console import console

    writable(a.out, "--out")
    if a.parcels:
        writable(a.parcels, "--parcels")
    net = load_network(a.network)
    skus = read_skus(a.skus, net)
    orders = read_orders(a.orders, net, skus)
    placement = read_placement(a.placement, net, skus)
    with bars(quiet=a.json) as progress:
        f = serve(net, skus, orders, placement, progress=progress)
    with atomic_path(a.out) as tmp:
        if Path(a.out).suffix.lower() in (".parquet", ".pq"):
            f.table.to_parquet(tmp, index=False)
        else:
            f.table.to_csv(tmp, index=False)
    if a.parcels:
        p = f.parcels
        fac = net.facility_index
        write_parcels(pd.DataFrame({"parcel_id": p.parcel_id, "created_minute": p.created_minute,
                                    "origin_facility": fac[p.origin_pos], "dest_station": fac[p.dest_pos]}),
                      a.parcels)
    summary = {**f.to_dict(), "out": str(a.out), "parcels": a.parcels}
    if a.json:
        print_json(summary)
        return 0
    con = console()
    con.print(f"{f.orders:,} orders: {f.from_warehouses:,} from warehouses "
              f"({f.units_shipped_from_warehouses:,} units), {f.from_sellers:,} from sellers"
              + (f", {f.unreachable:,} with no promise" if f.unreachable else ""))
    con.print(f"promised within 24 h: {f.within_24h:,} ({f.share_within_24h:.1%})")
    con.print(f"orders -> {a.out}" + (f"; parcels for parcelnet simulate -> {a.parcels}"
                                      if a.parcels else ""))
    return 0


def register(sub) -> None:
    f = sub.add_parser("fulfil", help="serve SKU orders from placed stock, with exact promises",
                       description="Serve orders in order of (created_minute, order_id), each from "
                                   "the warehouse holding its quantity with the earliest promise "
                                   "(ties: the smaller facility_id), else from the SKU's seller "
                                   "(docs/plan.md, Fulfilment).")
    f.add_argument("network", help="PNF folder or .pnfz bundle with facilities of kind warehouse")
    f.add_argument("--placement", required=True, help="CSV/Parquet: warehouse_id,sku,units")
    f.add_argument("--skus", required=True, help="CSV/Parquet: sku,seller_facility,unit_cube_litres")
    f.add_argument("--orders", required=True,
                   help="CSV/Parquet: order_id,created_minute,sku,dest_station,quantity")
    f.add_argument("--out", required=True, help="order_id,fulfilled_from,promise_minute "
                   "(CSV, or Parquet by the .parquet suffix), in the order orders are served")
    f.add_argument("--parcels", help="also write the orders as a parcels file for parcelnet "
                   "simulate (one parcel per order, from its source)")
    add_json(f, "the counts and the 24 h share")
    f.set_defaults(func=fulfil)

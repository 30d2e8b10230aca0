"""SKU-level demand: the catalogue's regional concentration, orders that follow it, the
tables read back by parcelnet fulfil, and the command."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from parcelnet.demand.generate import minute_profile
from parcelnet.demand.skus import (NATIONAL_SHARE, QUANTITY, generate_orders, generate_skus,
                                  orders_from_units, skus_for)
from parcelnet.inventory import read_orders, read_skus
from parcelnet.network.pnf import write_pnf
from tests.conftest import run_cli
from tests.plan.test_service_origins import BACKBONE, centres


@pytest.fixture(scope="module")
def net():
    return centres(BACKBONE)


def test_catalogue_and_orders(net):
    """A few national SKUs, the rest in one to six provinces; each regional SKU's orders go
    only to its provinces; Zipf popularity; quantities by QUANTITY; same seed, same day."""
    skus = generate_skus(net, 400, seed=3)
    assert (skus["scope"] == "national").sum() == round(NATIONAL_SHARE * 400)
    assert skus["popularity"].is_monotonic_decreasing
    assert skus["popularity"].iloc[0] / skus["popularity"].iloc[9] == pytest.approx(10)
    regional = skus[skus["scope"] == "regional"]
    sizes = regional["provinces"].str.split(";").map(len)
    assert sizes.between(1, 4).all()                  # the network has four provinces
    orders = generate_orders(net, skus, 20_000, "normal", seed=3)
    assert orders["order_id"].tolist() == list(range(1, 20_001))
    assert orders["created_minute"].is_monotonic_increasing
    prov = dict(zip(net.places["station_id"], net.places["admin1"]))
    allowed = dict(zip(regional["sku"], regional["provinces"].str.split(";")))
    reg = orders[orders["sku"].isin(allowed)]
    assert len(reg) > 1000
    assert all(prov[d] in allowed[k] for k, d in zip(reg["sku"], reg["dest_station"]))
    share = orders["quantity"].value_counts(normalize=True)
    for q, p in QUANTITY.items():
        assert share[q] == pytest.approx(p, abs=0.01)
    again = generate_orders(net, generate_skus(net, 400, seed=3), 20_000, "normal", seed=3)
    pd.testing.assert_frame_equal(orders, again)
    with pytest.raises(ValueError, match="number of SKUs"):
        generate_skus(net, 0)


def test_the_command_writes_tables_fulfil_reads(net, tmp_path, capsys):
    src = write_pnf(net, tmp_path / "net")
    code, out, _ = run_cli(capsys, "demand", src, "--skus", "50", "--parcels", "500", "--out",
                           tmp_path / "orders.parquet", "--seed", "2")
    assert code == 0 and "500 orders" in out
    sk = read_skus(tmp_path / "skus.csv", net)
    orders = read_orders(tmp_path / "orders.parquet", net, sk)
    assert len(sk) == 50 and len(orders) == 500
    assert np.isin(orders.dest_pos, net.stations).all()


def test_foresight_is_the_days_units_by_province(net, tmp_path, capsys):
    """--foresight writes the day's own units by province and SKU, which plan placement
    reads as its forecast; without --skus it is refused in one line."""
    from parcelnet.plan.placement import read_forecast

    src = write_pnf(net, tmp_path / "net")
    code, out, _ = run_cli(capsys, "demand", src, "--skus", "40", "--parcels", "800", "--out",
                           tmp_path / "o.csv", "--foresight", tmp_path / "fs" / "f.csv")
    assert code == 0 and "perfect foresight" in out
    orders = pd.read_csv(tmp_path / "o.csv")
    fc = read_forecast(tmp_path / "fs" / "f.csv", net, read_skus(tmp_path / "skus.csv", net))
    prov = dict(zip(net.places["station_id"], net.places["admin1"]))
    want = (orders.assign(region=orders["dest_station"].map(prov))
            .groupby(["region", "sku"])["quantity"].sum())
    got = fc.set_index(["region", "sku"])["units_forecast"]
    pd.testing.assert_series_equal(got.sort_index(), want.sort_index().astype(float),
                                   check_names=False)
    assert f"{int(orders['quantity'].sum()):,} units" in out
    code, _, err = run_cli(capsys, "demand", src, "--out", tmp_path / "p.parquet",
                           "--foresight", tmp_path / "g.csv")
    assert code == 2 and "--foresight goes with --skus" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "g.csv").exists()


def test_orders_from_units(net):
    """A day's units by province and SKU become as many one-unit orders: per (province,
    SKU) exactly the units given, each at a station of its province, the stations drawn by
    population; ids 1..N in order of creation; the peak's midnight hour; the same seed, the
    same orders."""
    units = pd.DataFrame({"region": ["SH", "SH", "GZ", "CD", "BJ"],
                          "sku": ["tea", "pen", "tea", "mug", "pen"],
                          "units": [4000, 0, 2500, 1, 3500]})
    orders = orders_from_units(net, units, "peak", seed=4)
    assert len(orders) == 10_001 and (orders["quantity"] == 1).all()
    assert orders["order_id"].tolist() == list(range(1, 10_002))
    assert orders["created_minute"].is_monotonic_increasing
    assert orders["created_minute"].between(0, 1439).all()
    prov = dict(zip(net.places["station_id"], net.places["admin1"]))
    got = orders.assign(region=orders["dest_station"].map(prov)).groupby(["region", "sku"]).size()
    want = units[units["units"] > 0].set_index(["region", "sku"])["units"]
    pd.testing.assert_series_equal(got.sort_index(), want.sort_index(), check_names=False)
    # within SH, each of its four stations in proportion to its places' population
    sh = orders[orders["dest_station"].map(prov) == "SH"]["dest_station"].value_counts(normalize=True)
    pop = net.places.set_index("station_id")["population"].astype(float)
    want_sh = pop[sh.index] / pop[sh.index].sum()
    assert len(sh) == 4 and np.allclose(sh.to_numpy(), want_sh.to_numpy(), atol=0.03)
    midnight = (orders["created_minute"] < 60).mean()
    assert midnight == pytest.approx(minute_profile("peak")[:60].sum(), abs=0.01)
    assert (orders_from_units(net, units, "normal", seed=4)["created_minute"] < 60).mean() < 0.02
    pd.testing.assert_frame_equal(orders, orders_from_units(net, units, "peak", seed=4))
    with pytest.raises(ValueError, match="region 'Mars' has no stations"):
        orders_from_units(net, units.assign(region="Mars"))
    with pytest.raises(ValueError, match="whole numbers >= 0"):
        orders_from_units(net, units.assign(units=[1, 2, -1, 0, 0]))
    with pytest.raises(ValueError, match="unknown day"):
        orders_from_units(net, units, "holiday")


def test_skus_for_named_ids(net):
    """A named catalogue takes generate_skus's sellers and cubes, in order, for the seed."""
    ids = [f"K{k:04d}" for k in range(1, 31)]
    t = skus_for(net, ids, seed=9)
    cat = generate_skus(net, 30, seed=9)
    assert list(t.columns) == ["sku", "seller_facility", "unit_cube_litres"]
    assert t["sku"].tolist() == ids
    assert t["seller_facility"].tolist() == cat["seller_facility"].tolist()
    assert t["unit_cube_litres"].tolist() == cat["unit_cube_litres"].tolist()
    with pytest.raises(ValueError, match="must differ"):
        skus_for(net, ["a", "b", "a"])

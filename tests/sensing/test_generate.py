"""The synthetic world of ``parcelnet sense generate``: its cut, its determinism, bursts that
lead sales by the stated lag and saturate, and Singles Day."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from parcelnet.sensing import generate_world
from parcelnet.sensing import generate as G

REGIONS = ["Zhejiang", "Guangdong", "Xinjiang", "Beijing"]
POP = np.array([65, 127, 26, 22]) * 1e6


@pytest.fixture(scope="module")
def world():
    """The whole world as the answer: cut on its second day."""
    return generate_world(REGIONS, POP, skus=80, seed=4, until="2025-09-02")


def test_the_cut_and_the_tables():
    w = generate_world(REGIONS, POP, skus=10, seed=1)
    assert w.until == "2026-10-25"                     # 30 days before the end by default
    assert w.sales["date"].max() == w.until == w.signals["date"].max()
    assert w.truth["date"].min() > w.until
    assert list(w.sales.columns) == ["date", "region", "sku", "units"]
    assert list(w.signals.columns) == ["date", "region", "sku", "mentions", "kind"]
    assert set(w.signals["kind"]) <= {*G.KINDS, "pre-sale deposit"}
    assert (w.sales["units"] >= 0).all() and (w.signals["mentions"] >= 0).all()
    again = generate_world(REGIONS, POP, skus=10, seed=1)
    pd.testing.assert_frame_equal(w.sales, again.sales)
    other = generate_world(REGIONS, POP, skus=10, seed=2)
    assert not w.sales["units"].equals(other.sales["units"])
    with pytest.raises(ValueError, match="inside the world"):
        generate_world(REGIONS, POP, until="2030-01-01")
    for bad in ("2026-02-30", "10/25/2026"):
        with pytest.raises(ValueError, match="must be a date"):
            generate_world(REGIONS, POP, until=bad)


def test_bursts_lead_sales_by_the_lag_and_saturate(world):
    """Around each burst away from the promotions and other bursts: the expected units do
    not move until LAG days after it (only the calendar: within 25%), then jump, by at most
    the saturation U_MAX."""
    lam = world.truth.set_index(["region", "sku", "date"])["expected"]
    b = world.bursts
    dates = pd.to_datetime(b["date"])
    quiet = ~dates.dt.month.isin([6, 10, 11, 12])
    crowd = b.groupby(["region", "sku"])["date"].transform("count") > 1
    r0, r1 = [], []
    for _, x in b[quiet & ~crowd].iterrows():
        d = pd.Timestamp(x["date"])
        day = lambda k: (d + pd.Timedelta(days=k)).strftime("%Y-%m-%d")   # noqa: E731
        try:
            before, onset, last_quiet = (lam[(x["region"], x["sku"], day(k))]
                                         for k in (-1, G.LAG, G.LAG - 1))
        except KeyError:
            continue
        r0.append(last_quiet / before)
        r1.append(onset / last_quiet)
    assert len(r1) >= 10
    assert 0.8 < np.median(r0) < 1.25
    assert np.median(r1) > 1.3
    assert max(r1) <= (1 + G.U_MAX) * 1.25


def test_the_expected_units_are_the_stated_product(world):
    """Off Singles Day and the day after (whose extra varies by SKU and region), each
    series' expected units over world_calendar x (1 + its bursts' uplift by burst_uplift)
    is one constant, its base: the module's form, which the benchmarks' controls use."""
    lam = world.expected.pivot_table(index=["region", "sku"], columns="date", values="expected")
    dates = pd.to_datetime(lam.columns)
    up = np.zeros(lam.shape)
    row = {k: i for i, k in enumerate(lam.index)}
    t = np.arange(len(dates))
    for r, k, d, a in world.bursts[["region", "sku", "date", "strength"]].itertuples(index=False):
        up[row[(r, k)]] += G.burst_uplift(a, t - dates.get_loc(pd.Timestamp(d)))
    base = lam.to_numpy() / (G.world_calendar(dates)[None, :] * (1 + up))
    plain = np.array([(x.month, x.day) not in G.SINGLES for x in dates])
    assert (up > 0).any() and (~plain).sum() == 4            # two Singles Days in 450 days
    first = np.repeat(base[:, :1], lam.shape[1], axis=1)
    np.testing.assert_allclose(base[:, plain], first[:, plain], rtol=1e-9)
    assert not np.allclose(base[:, ~plain], first[:, ~plain], rtol=1e-3)


def test_singles_day(world):
    """Singles Day sells over three times a week before, and pre-sale deposits come only in
    its pre-sale (10-20 to 11-10)."""
    day = world.truth.groupby("date")["units"].sum()
    assert day["2025-11-11"] > 3 * day["2025-11-04"]
    w = generate_world(REGIONS, POP, skus=30, seed=4, until="2025-11-10")
    dep = w.signals[w.signals["kind"] == "pre-sale deposit"]
    assert len(dep) and dep["date"].min() >= "2025-10-20" and dep["date"].max() <= "2025-11-10"


def test_cli(tmp_path, capsys):
    import json

    from tests.conftest import assert_one_line_error, run_cli
    code, out, _ = run_cli(capsys, "sense", "generate", "--seed", "3", "--skus", "5", "--days", "120",
                           "--out", tmp_path / "w", "--json")
    assert code == 0
    r = json.loads(out)
    assert r["regions"] >= 31 and r["params"]["LAG"] == G.LAG
    sales = pd.read_csv(tmp_path / "w" / "sales.csv")
    assert list(sales.columns) == ["date", "region", "sku", "units"]
    assert sales["date"].max() == r["until"]
    assert json.loads((tmp_path / "w" / "world.json").read_text())["until"] == r["until"]
    code, _, err = run_cli(capsys, "sense", "generate", "--out", tmp_path / "x", "--until", "1999-01-01")
    assert code == 2
    assert_one_line_error(err, "1999-01-01")
    code, _, err = run_cli(capsys, "sense", "generate", "--out", tmp_path / "y", "--until", "2026-02-30")
    assert code == 2 and not (tmp_path / "y").exists()
    assert_one_line_error(err, "--until", "2026-02-30", "YYYY-MM-DD")


def test_the_loop_by_the_cli(tmp_path, capsys):
    """Signals, forecast, placement, fulfilment and the simulated day, by the CLI alone: with
    --network the world's SKUs get sellers on it (skus.csv) and --orders-day writes that
    day's true units as one-unit orders, which placement's and fulfil's tables take."""
    import json

    from parcelnet.inventory import read_orders, read_skus
    from parcelnet.network.pnf import write_pnf
    from parcelnet.plan.warehouses import add_warehouses
    from tests.conftest import assert_one_line_error, run_cli
    from tests.plan.test_service_origins import BACKBONE, centres

    wnet, _ = add_warehouses(centres(BACKBONE), ["SHa", "GZb"], capacity_units=100_000)
    net = write_pnf(wnet, tmp_path / "net")
    w = tmp_path / "w"
    code, out, _ = run_cli(capsys, "sense", "generate", "--seed", "2", "--skus", "12", "--until",
                           "2026-11-08", "--network", net, "--orders-day", "2026-11-11", "--out", w,
                           "--json")
    assert code == 0
    r = json.loads(out)
    assert r["regions"] == 4 and r["orders"]["profile"] == "peak"
    skus = read_skus(w / "skus.csv", wnet)
    assert sorted(skus.index) == sorted(set(pd.read_csv(w / "sales.csv")["sku"]))
    orders = pd.read_parquet(w / "orders.parquet")
    assert len(read_orders(w / "orders.parquet", wnet, skus)) == len(orders) == r["orders"]["orders"]
    truth = pd.read_csv(w / "truth.csv")
    day = truth[truth["date"] == "2026-11-11"].set_index(["region", "sku"])["units"]
    prov = dict(zip(wnet.places["station_id"], wnet.places["admin1"]))
    got = orders.assign(region=orders["dest_station"].map(prov)).groupby(["region", "sku"]).size()
    pd.testing.assert_series_equal(got.sort_index(), day[day > 0].sort_index(), check_names=False)
    assert (orders["created_minute"] < 60).mean() > 0.05          # Singles Day's midnight
    fc = tmp_path / "fc.csv"
    code, _, _ = run_cli(capsys, "sense", "forecast", "--sales", w / "sales.csv", "--signals",
                         w / "signals.csv", "--horizon", "3", "--network", net, "--out", fc, "--json")
    assert code == 0
    code, out, _ = run_cli(capsys, "plan", "placement", net, "--skus", w / "skus.csv", "--forecast",
                           fc, "--dates", "2026-11-11", "--day", "peak", "--budget-units", "1.3x",
                           "--out", tmp_path / "p.csv", "--json")
    assert code == 0
    f = pd.read_csv(fc)
    assert json.loads(out)["forecast_units"] == int(
        f[f["date"] == "2026-11-11"].groupby(["region", "sku"])["units_forecast"].sum().round().clip(0).sum())
    code, out, _ = run_cli(capsys, "fulfil", net, "--placement", tmp_path / "p.csv", "--skus",
                           w / "skus.csv", "--orders", w / "orders.parquet", "--out",
                           tmp_path / "served.csv", "--parcels", tmp_path / "parcels.parquet", "--json")
    assert code == 0
    served = json.loads(out)
    assert served["orders"] == len(orders) and served["from_warehouses"] > served["from_sellers"]
    code, out, _ = run_cli(capsys, "simulate", net, "--parcels", tmp_path / "parcels.parquet", "--json",
                           "--report", tmp_path / "day.html")
    assert code == 0 and json.loads(out)["parcels"] == len(orders)
    # the orders need the network's stations; their day lies in the true future
    code, _, err = run_cli(capsys, "sense", "generate", "--out", tmp_path / "x", "--orders-day",
                           "2026-11-11")
    assert code == 2 and not (tmp_path / "x").exists()
    assert_one_line_error(err, "--orders-day needs --network")
    code, _, err = run_cli(capsys, "sense", "generate", "--network", net, "--until", "2026-11-08",
                           "--orders-day", "2026-11-01", "--out", tmp_path / "y")
    assert code == 2 and not (tmp_path / "y").exists()
    assert_one_line_error(err, "--orders-day 2026-11-01", "2026-11-09..", "after --until 2026-11-08")
    code, _, err = run_cli(capsys, "sense", "generate", "--network", net, "--orders-day", "11/11",
                           "--out", tmp_path / "z")
    assert code == 2
    assert_one_line_error(err, "--orders-day", "YYYY-MM-DD")
    code, _, err = run_cli(capsys, "sense", "generate", "--network", net, "--orders-profile", "peak",
                           "--out", tmp_path / "z")
    assert code == 2 and not (tmp_path / "z").exists()
    assert_one_line_error(err, "--orders-profile goes with --orders-day")

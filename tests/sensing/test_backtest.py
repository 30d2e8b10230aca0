"""``parcelnet sense backtest``: no look-ahead, the seasonal-naive baseline by hand, the
signals' value on a generated world, and bad input refused in one line."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

from parcelnet.errors import ParameterError
from parcelnet.progress import RecordingProgress
from parcelnet.sensing import generate as G
from parcelnet.sensing.backtest import (DEPOSITS_30, SENSE_STAGES, _calendar, _deposit_line,
                                        _features, _first_target, _lad_line, backtest,
                                        forecast, make_panel, signals_lead, wape)
from tests.conftest import assert_one_line_error, run_cli
from tests.sensing.test_generate import POP, REGIONS

pytest.importorskip("lightgbm")


@pytest.fixture(scope="module")
def world():
    return G.generate_world(REGIONS, POP, skus=12, seed=7, until="2026-11-20")


def test_no_look_ahead(world):
    """The forecast of D at lead time 2 is the same whatever the sales after D - 2 are."""
    day = "2026-10-15"
    base = backtest(make_panel(world.sales, world.signals), day, day, 2)
    sales = world.sales.copy()
    after = pd.to_datetime(sales["date"]) > pd.Timestamp(day) - pd.Timedelta(days=2)
    sales.loc[after, "units"] = np.random.default_rng(0).integers(0, 1000, after.sum())
    changed = backtest(make_panel(sales, world.signals), day, day, 2)
    h2 = lambda f: f[f["horizon"] == 2]["units_forecast"].to_numpy()   # noqa: E731
    np.testing.assert_allclose(h2(base), h2(changed))
    h1 = lambda f: f[f["horizon"] == 1]["units_forecast"].to_numpy()   # noqa: E731
    assert not np.allclose(h1(base), h1(changed))                      # lead 1 sees D - 1


def test_no_look_ahead_in_the_signals(world):
    """In the pre-sale, where the deposits count, the forecast of D at lead time 2 is the
    same whatever the mentions and deposits after D - 2 are, and lead time 1 sees D - 1's."""
    day = "2026-11-05"
    panel = make_panel(world.sales, world.signals)
    assert panel.deposits[:, panel.dates.get_loc(pd.Timestamp(day)) - 2].sum() > 0
    base = backtest(panel, day, day, 2)
    assert base.attrs["signals_used"] == {day: True}
    signals = world.signals.copy()
    after = pd.to_datetime(signals["date"]) > pd.Timestamp(day) - pd.Timedelta(days=2)
    signals.loc[after, "mentions"] = np.random.default_rng(1).integers(0, 5000, after.sum())
    changed = backtest(make_panel(world.sales, signals), day, day, 2)
    h = lambda f, k: f[f["horizon"] == k]["units_forecast"].to_numpy()   # noqa: E731
    np.testing.assert_allclose(h(base, 2), h(changed, 2))
    assert not np.allclose(h(base, 1), h(changed, 1))


def test_no_look_ahead_on_singles_day(world):
    """Singles Day's forecast at lead time 2, where the deposits' line starts the trees, is
    the same whatever the sales, mentions and deposits after D - 2 are."""
    day = "2026-11-11"
    base = backtest(make_panel(world.sales, world.signals), day, day, 2)
    assert base.attrs["signals_used"] == {day: True}
    cut = pd.Timestamp(day) - pd.Timedelta(days=2)
    rng = np.random.default_rng(2)
    signals, sales = world.signals.copy(), world.sales.copy()
    after = pd.to_datetime(signals["date"]) > cut
    signals.loc[after, "mentions"] = rng.integers(0, 5000, after.sum())
    after = pd.to_datetime(sales["date"]) > cut
    sales.loc[after, "units"] = rng.integers(0, 1000, after.sum())
    changed = backtest(make_panel(sales, signals), day, day, 2)
    h2 = lambda f: f[f["horizon"] == 2]["units_forecast"].to_numpy()   # noqa: E731
    np.testing.assert_allclose(h2(base), h2(changed))


def test_deposit_line_by_hand():
    """For the mean, on Singles Day's rows the trees start from the least-squares line of
    the target on the deposits (clipped to the training range when forecasting); elsewhere
    from the mean."""
    cal = _calendar(pd.DatetimeIndex(["2025-11-10", "2025-11-11", "2026-11-11"]))
    x = np.arange(12, dtype=float)                        # 12 series' deposits over scale
    X = np.zeros((24, 30))
    X[:12, DEPOSITS_30] = 5.0                            # 11-10: no line
    X[12:, DEPOSITS_30] = x
    y = np.r_[np.full(12, 1.0), 2.0 + 0.5 * x]           # 11-11's units: 2 + 0.5 x exactly
    Xp = np.zeros((3, 30))
    Xp[:, DEPOSITS_30] = [4.0, 20.0, 3.0]
    start, start_p = _deposit_line(X, y, cal[[0] * 12 + [1] * 12], Xp, cal[[2, 2, 0]], "mean")
    np.testing.assert_allclose(start[12:], 2.0 + 0.5 * x)
    np.testing.assert_allclose(start[:12], y.mean())
    # 4 is inside the training range; 20 is clipped to its largest, 11; 11-10 takes the mean
    np.testing.assert_allclose(start_p, [4.0, 7.5, y.mean()])


def test_deposit_line_of_the_median_by_hand():
    """For the median, the line is the least-absolute-deviations line: one series far off
    the others' exact line does not move it, where it pulls the least-squares line up. The
    other rows start at the training targets' median."""
    cal = _calendar(pd.DatetimeIndex(["2025-11-10", "2025-11-11", "2026-11-11"]))
    x = np.arange(12, dtype=float)
    X = np.zeros((24, 30), np.float32)
    X[:12, DEPOSITS_30] = 5.0
    X[12:, DEPOSITS_30] = x
    y = np.r_[np.arange(12, dtype=float), 2.0 + 0.5 * x]
    y[17] += 40.0                                        # one series' Singles Day far above
    Xp = np.zeros((2, 30), np.float32)
    Xp[:, DEPOSITS_30] = [4.0, 3.0]
    rows, pred = cal[[0] * 12 + [1] * 12], cal[[2, 0]]
    start, start_p = _deposit_line(X, y, rows, Xp, pred, "median")
    line = 2.0 + 0.5 * x
    np.testing.assert_allclose(start[12:], line, atol=1e-9)
    np.testing.assert_allclose(start[:12], np.median(y))
    np.testing.assert_allclose(start_p, [4.0, np.median(y)], atol=1e-9)
    mean_start, _ = _deposit_line(X, y, rows, Xp, pred, "mean")
    assert mean_start[12] > line[0] + 1.0                # least squares is pulled by it
    # the median's line has the least sum of absolute deviations of the two
    assert np.abs(y[12:] - start[12:]).sum() < np.abs(y[12:] - mean_start[12:]).sum()


@pytest.mark.parametrize("seed", range(12))
def test_lad_line_against_a_linear_programme(seed):
    """The descent's line has the least sum of absolute deviations: as low as HiGHS's
    linear programme finds (an implementation apart), on heavy-tailed data, with ties in x
    on some draws."""
    from scipy import sparse
    from scipy.optimize import linprog
    rng = np.random.default_rng(seed)
    n = int(rng.integers(10, 400))
    x = rng.gamma(2.0, 1.0, n)
    if seed % 3 == 0:
        x = np.round(x)
    y = 1.0 + 2.0 * x + rng.standard_t(2, n)
    eye = sparse.identity(n, format="csr")
    a_eq = sparse.hstack([sparse.csr_matrix(np.c_[np.ones(n), x]), eye, -eye], format="csr")
    lp = linprog(np.r_[0.0, 0.0, np.ones(2 * n)], A_eq=a_eq, b_eq=y,
                 bounds=[(None, None)] * 2 + [(0, None)] * (2 * n), method="highs")
    slope, icpt = _lad_line(x, y)
    assert np.abs(y - icpt - slope * x).sum() == pytest.approx(lp.fun, rel=1e-9)


def test_deposits_column_is_the_thirty_days_deposits(world):
    """DEPOSITS_30, the column the deposits' line reads, is the pre-sale deposits paid in
    their season over the thirty days to the origin, over the scale: summed here from the
    signals table, apart from _features."""
    p = make_panel(world.sales, world.signals)
    d, h = int(np.flatnonzero(p.dates == "2026-11-11")[0]), 2
    targets = np.stack([np.arange(len(p.keys)), np.full(len(p.keys), d)], axis=1)
    X, scale = _features(p, targets, h, True, _calendar(p.dates))
    origin = p.dates[d - h]
    sig = world.signals.assign(date=pd.to_datetime(world.signals["date"]))
    dep = sig[(sig["kind"] == "pre-sale deposit") & (sig["date"] > origin - pd.Timedelta(days=30))
              & (sig["date"] <= origin) & (sig["date"] >= "2026-10-20")]
    paid = dep.groupby(["region", "sku"])["mentions"].sum()
    want = paid.reindex(pd.MultiIndex.from_frame(p.keys), fill_value=0).to_numpy() / scale
    assert want.max() > 0
    np.testing.assert_allclose(X[:, DEPOSITS_30], want, rtol=1e-6)


def test_the_scale_leaves_out_the_promotion_days(world):
    """The scale every column is over is 1 + the series' mean units over the 28 days to the
    origin, leaving out the promotion days: summed here from the sales table, apart from
    _features. So the days after Singles Day keep the level of the days before it, however
    high the day itself sold."""
    p = make_panel(world.sales, None)
    d, h = int(np.flatnonzero(p.dates == "2026-11-20")[0]), 3         # origin 11-17
    targets = np.stack([np.arange(len(p.keys)), np.full(len(p.keys), d)], axis=1)
    _, scale = _features(p, targets, h, False, _calendar(p.dates))
    origin = p.dates[d - h]
    s = world.sales.assign(date=pd.to_datetime(world.sales["date"]))
    win = s[(s["date"] > origin - pd.Timedelta(days=28)) & (s["date"] <= origin)
            & ~s["date"].isin(pd.to_datetime(["2026-11-11", "2026-11-12"]))]
    assert win["date"].nunique() == 26
    want = win.groupby(["region", "sku"])["units"].sum().reindex(
        pd.MultiIndex.from_frame(p.keys), fill_value=0).to_numpy() / 26 + 1
    np.testing.assert_allclose(scale, want, rtol=1e-12)
    spiked = world.sales.copy()
    spiked.loc[spiked["date"] == "2026-11-11", "units"] *= 50
    _, again = _features(make_panel(spiked, None), targets, h, False, _calendar(p.dates))
    np.testing.assert_array_equal(again, scale)


def test_singles_day_follows_the_deposits(world):
    """With signals, Singles Day's forecasts at lead times 1-3 are closer to the world's
    expected units than without: the deposits say which series surge."""
    lam = world.expected.set_index(["date", "region", "sku"])["expected"]
    err = {}
    for name, sig in (("sig", world.signals), ("nosig", None)):
        f = backtest(make_panel(world.sales, sig), "2026-11-11", "2026-11-11", 3,
                     signals=sig is not None)
        e = lam.reindex(pd.MultiIndex.from_frame(f[["date", "region", "sku"]])).to_numpy()
        err[name] = wape(e, f["units_forecast"].to_numpy())
    assert err["sig"] < 0.6 * err["nosig"]


def test_seasonal_naive_by_hand(world):
    p = make_panel(world.sales, None)
    f = backtest(p, "2026-10-15", "2026-10-16", 8, model="seasonal-naive")
    s = world.sales.set_index(["date", "region", "sku"])["units"]
    row = f[(f["date"] == "2026-10-16") & (f["horizon"] == 8)].iloc[0]
    assert row["units_forecast"] == s[("2026-10-02", row["region"], row["sku"])]   # 14 days back
    row = f[(f["date"] == "2026-10-16") & (f["horizon"] == 3)].iloc[0]
    assert row["units_forecast"] == s[("2026-10-09", row["region"], row["sku"])]   # 7 days back


def test_signals_help_around_bursts(world):
    """On a generated world, the model with signals has a lower WAPE than without in the
    days after the bursts, and than the seasonal naive overall."""
    p = make_panel(world.sales, world.signals)
    truth = world.sales.set_index(["date", "region", "sku"])["units"]
    out = {}
    for name, kw in (("sig", {}), ("nosig", {"signals": False}), ("naive", {"model": "seasonal-naive"})):
        f = backtest(make_panel(world.sales, world.signals if name == "sig" else None),
                     "2026-09-25", "2026-11-08", 3, **kw)
        f["actual"] = truth.reindex(pd.MultiIndex.from_frame(f[["date", "region", "sku"]])).to_numpy()
        out[name] = f
    near = set()
    for _, b in world.bursts.iterrows():
        for k in range(G.LAG, G.LAG + 6):
            near.add(((pd.Timestamp(b["date"]) + pd.Timedelta(days=k)).strftime("%Y-%m-%d"),
                      b["region"], b["sku"]))
    w = {}
    for name, f in out.items():
        m = np.array([k in near for k in zip(f["date"], f["region"], f["sku"])])
        w[name] = (wape(f["actual"][m], f["units_forecast"][m]), wape(f["actual"], f["units_forecast"]))
    assert w["sig"][0] < w["nosig"][0]
    assert w["sig"][1] < w["naive"][1]
    assert p.units.shape[0] == len(world.sales[["region", "sku"]].drop_duplicates())


def test_the_gate_opens_for_a_leading_signal_only(world):
    """The signals' columns enter where the signals lead the sales; a signal shuffled in
    time, or noise, leaves the forecasts those of the model without signals, bit for bit."""
    rng = np.random.default_rng(1)
    shuffled = world.signals.copy()
    shuffled["date"] = shuffled.groupby(["region", "sku"])["date"].transform(
        lambda s: rng.permutation(s.to_numpy()))
    noise = world.signals.assign(mentions=rng.poisson(G.BACKGROUND_MENTIONS, len(world.signals)))
    p = make_panel(world.sales, world.signals)
    last = p.dates.get_loc(pd.Timestamp("2026-10-01"))
    real = signals_lead(p, last)
    assert real.lead and real.z > 10
    for sig in (shuffled, noise):
        g = signals_lead(make_panel(world.sales, sig), last)
        assert not g.lead and g.z < 4, g
    window = ("2026-10-10", "2026-10-20")
    without = backtest(make_panel(world.sales, None), *window, 2, signals=False)
    off = backtest(make_panel(world.sales, shuffled), *window, 2)
    on = backtest(p, *window, 2)
    assert set(off.attrs["signals_used"].values()) == {False}
    assert set(on.attrs["signals_used"].values()) == {True}
    np.testing.assert_array_equal(off["units_forecast"], without["units_forecast"])
    assert not np.allclose(on["units_forecast"], without["units_forecast"])


@pytest.mark.parametrize("column, value, parts", [
    ("region", "Atlantis", ["line 2", "'region'", "Atlantis"]),
    ("date", "2026-13-01", ["line 2", "'date'", "not a date"]),
    ("units", "-4", ["line 2", "'units'", "below"]),
])
def test_bad_input(world, tmp_path, capsys, column, value, parts):
    sales = world.sales.head(50).copy()
    sales[column] = sales[column].astype(object)
    sales.loc[0, column] = value
    p = tmp_path / "sales.csv"
    sales.to_csv(p, index=False)
    code, _, err = run_cli(capsys, "sense", "backtest", "--sales", p, "--from", "2026-10-01",
                           "--to", "2026-10-02", "--out", tmp_path / "f.csv")
    assert code == 2
    assert_one_line_error(err, "sales.csv", *parts)
    assert not (tmp_path / "f.csv").exists()


def test_bad_window_dates(world, tmp_path, capsys):
    """A window day that is not a YYYY-MM-DD date is refused in one line naming its flag
    (the API: a ParameterError), before any work and with no output."""
    p = make_panel(world.sales, None)
    with pytest.raises(ParameterError, match="two dates"):
        backtest(p, "2026-10-01", "2026-13-01", 1)
    world.sales.to_csv(tmp_path / "sales.csv", index=False)
    for flag, window in (("--to", ("2026-10-01", "2026-13-25")),
                         ("--from", ("10/01/2026", "2026-10-25"))):
        code, _, err = run_cli(capsys, "sense", "backtest", "--sales", tmp_path / "sales.csv",
                               "--from", window[0], "--to", window[1], "--out", tmp_path / "f.csv")
        assert code == 2 and not (tmp_path / "f.csv").exists()
        assert_one_line_error(err, flag, "YYYY-MM-DD")


def test_window_too_early_names_the_earliest_start(world, tmp_path, capsys):
    """A window that starts before the features' history is refused in one line that names
    the first day a backtest can start, and that day itself is accepted; sales too short
    for any window say so."""
    p = make_panel(world.sales, None)
    need = _first_target(2) + 28 + 2
    earliest = (p.dates[0] + pd.Timedelta(days=need)).date().isoformat()
    before = (p.dates[0] + pd.Timedelta(days=need - 1)).date().isoformat()
    with pytest.raises(ParameterError,
                       match=f"starts too early \\({before}\\).*{earliest} at the earliest"):
        backtest(p, before, earliest, 2, signals=False)
    out = backtest(p, earliest, earliest, 2, signals=False)
    assert set(pd.to_datetime(out["date"])) == {pd.Timestamp(earliest)}
    short = world.sales[pd.to_datetime(world.sales["date"]) < p.dates[0] + pd.Timedelta(days=need)]
    short.to_csv(tmp_path / "sales.csv", index=False)
    last = short["date"].max()
    code, _, err = run_cli(capsys, "sense", "backtest", "--sales", tmp_path / "sales.csv",
                           "--from", last, "--to", last, "--horizon", "2",
                           "--out", tmp_path / "f.csv")
    assert code == 2 and not (tmp_path / "f.csv").exists()
    assert_one_line_error(err, f"the sales cover {need} days", f"needs {need} days of sales")


def test_forecast_is_the_backtest_at_the_cut(world):
    """The forward forecast of the h-th day after the sales' last day is the backtest's
    lead-h forecast of that day made on the full history: the same model, trained on the
    same targets, from the same features."""
    cut = "2026-10-31"
    hist = world.sales[world.sales["date"] <= cut]
    sig = world.signals[world.signals["date"] <= cut]
    full = make_panel(world.sales, world.signals)
    for statistic in ("mean", "median"):
        f = forecast(make_panel(hist, sig), 2, statistic=statistic)
        assert sorted(set(f["date"])) == ["2026-11-01", "2026-11-02"]
        assert len(f) == 2 * len(hist[["region", "sku"]].drop_duplicates())
        assert list(f.columns) == ["date", "region", "sku", "units_forecast"]
        for h, day in ((1, "2026-11-01"), (2, "2026-11-02")):
            b = backtest(full, day, day, 2, statistic=statistic)
            b = b[b["horizon"] == h].set_index(["region", "sku"])["units_forecast"]
            got = f[f["date"] == day].set_index(["region", "sku"])["units_forecast"]
            np.testing.assert_allclose(got.sort_index(), b.sort_index())


def test_the_median_and_the_mean(world):
    """The median (the backtest's default) has the lower WAPE on the draws, which the
    median minimises, and it lies below the mean (the forward forecast's): a day's units
    are skewed upward, by the noise and by bursts not yet seen. Defaults as documented."""
    p = make_panel(world.sales, world.signals)
    truth = world.sales.set_index(["date", "region", "sku"])["units"]
    got = {}
    for statistic in ("median", "mean"):
        f = backtest(p, "2026-09-25", "2026-10-24", 2, statistic=statistic)
        y = truth.reindex(pd.MultiIndex.from_frame(f[["date", "region", "sku"]])).to_numpy()
        got[statistic] = (wape(y, f["units_forecast"]), f["units_forecast"].sum())
    assert got["median"][0] < got["mean"][0]
    assert got["median"][1] < got["mean"][1]
    default = backtest(p, "2026-09-25", "2026-09-25", 1)
    median = backtest(p, "2026-09-25", "2026-09-25", 1, statistic="median")
    np.testing.assert_array_equal(default["units_forecast"], median["units_forecast"])
    with pytest.raises(ParameterError, match="unknown statistic 'mode'"):
        backtest(p, "2026-09-25", "2026-09-25", 1, statistic="mode")


def test_forecast_cli(world, tmp_path, capsys):
    world.sales.to_csv(tmp_path / "sales.csv", index=False)
    world.signals.to_csv(tmp_path / "signals.csv", index=False)
    code, out, _ = run_cli(capsys, "sense", "forecast", "--sales", tmp_path / "sales.csv",
                           "--signals", tmp_path / "signals.csv", "--horizon", "2",
                           "--out", tmp_path / "fc.csv", "--json")
    assert code == 0
    got = json.loads(out)
    assert (got["from"], got["to"], got["signals"]) == ("2026-11-21", "2026-11-22", True)
    assert got["statistic"] == "mean"                   # what placement stocks for
    fc = pd.read_csv(tmp_path / "fc.csv")
    assert list(fc.columns) == ["date", "region", "sku", "units_forecast"]   # placement's table
    assert abs(fc["units_forecast"].sum() - got["units_forecast"]) < 1e-6 * got["units_forecast"]
    code, _, err = run_cli(capsys, "sense", "forecast", "--sales", tmp_path / "sales.csv",
                           "--horizon", "0", "--out", tmp_path / "fc2.csv")
    assert code == 2 and "--horizon" in err and not (tmp_path / "fc2.csv").exists()
    with pytest.raises(SystemExit) as e:                # argparse's choices: one line
        run_cli(capsys, "sense", "forecast", "--sales", tmp_path / "sales.csv",
                "--statistic", "mode", "--out", tmp_path / "fc2.csv")
    assert e.value.code == 2 and not (tmp_path / "fc2.csv").exists()
    assert_one_line_error(capsys.readouterr().err, "--statistic", "mode")


@pytest.mark.long
def test_fits_at_once_survive():
    """LightGBM keeps one thread count per process and each call sets it; a prediction
    without num_threads set it back to every core under the other fits, which then wrote
    past their per-thread buffers: these 1,000 fits at once (with sparse columns, as the
    deposits are) died of a segfault on 4 tries of 5 that way. The backtest's own fit and
    forecast (_train_predict) survive them. In a child process, so that a crash fails this
    test and not the whole run."""
    code = textwrap.dedent("""
        import numpy as np, lightgbm as lgb
        from parcelnet.sensing.backtest import _run, _train_predict
        rng = np.random.default_rng(0)
        X = np.round(rng.random((20000, 40)) * 20).astype(np.float32)
        X[:, 30:] *= rng.random((20000, 10)) < 0.03
        y = rng.random(len(X))
        def fit(i):
            return lambda: _train_predict(lgb, X, y, None, X[:5], None, "median", i, 1, rounds=1)
        print(len(_run([fit(i) for i in range(1000)], 3)))
    """)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert (r.returncode, r.stdout.strip()) == (0, "1000"), (r.returncode, r.stderr[-2000:])


def test_the_same_forecasts_whatever_the_workers(world, tmp_path, capsys):
    """The fits run ``workers`` at once, each LightGBM on the cores over ``workers``: one at
    a time on every core and three at once on one thread each give the same forecasts, bit
    for bit. Workers below one are refused in one line, in the API and in the CLI."""
    p = make_panel(world.sales, world.signals)
    one = backtest(p, "2026-10-20", "2026-11-12", 3, refit=10, workers=1)
    assert len(one) == 24 * 3 * len(p.keys)                 # 3 blocks x 3 lead times: 9 fits
    rec = RecordingProgress()
    pd.testing.assert_frame_equal(one, backtest(p, "2026-10-20", "2026-11-12", 3, refit=10,
                                                workers=3, progress=rec))
    # one unit a fit, as each ends, in one stage that closes
    assert rec.events[0] == ("start", SENSE_STAGES[0], 9) and rec.done(SENSE_STAGES[0]) == 9
    assert rec.events[-1] == ("finish", SENSE_STAGES[0], None) and len(rec.events) == 11
    rec = RecordingProgress()
    pd.testing.assert_frame_equal(forecast(p, 3, workers=1, progress=rec),
                                  forecast(p, 3, workers=3))
    assert rec.stages() == [SENSE_STAGES[0]] and rec.done(SENSE_STAGES[0]) == 3
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ParameterError, match="workers"):
            backtest(p, "2026-10-20", "2026-10-21", 1, workers=bad)
    world.sales.to_csv(tmp_path / "sales.csv", index=False)
    code, _, err = run_cli(capsys, "sense", "backtest", "--sales", tmp_path / "sales.csv",
                           "--from", "2026-10-20", "--to", "2026-10-21", "--workers", "0",
                           "--out", tmp_path / "f.csv")
    assert code == 2 and not (tmp_path / "f.csv").exists()
    assert_one_line_error(err, "--workers", "at least 1")

"""``parcelnet sense score``: WAPE by window and lead time checked by hand on a small case and
against a loop written apart from the module on a generated world; bad input refused in one
line."""

from __future__ import annotations

import datetime as dt
import json

import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pytest

from parcelnet.errors import ParameterError, ValidationError
from parcelnet.sensing import generate as G
from parcelnet.sensing.backtest import backtest, make_panel
from parcelnet.sensing.score import score_forecasts
from parcelnet.sensing.tables import read_backtest
from tests.conftest import assert_one_line_error, run_cli
from tests.sensing.test_generate import POP, REGIONS

ZJ, GD = "Zhejiang", "Guangdong"
COLS = ["date", "region", "sku", "horizon", "units_forecast"]


def _sales():
    rows = [("2026-11-04", ZJ, "K1", 10), ("2026-11-05", ZJ, "K1", 20),
            ("2026-11-06", ZJ, "K1", 30), ("2026-11-07", ZJ, "K1", 10),
            ("2026-11-10", ZJ, "K1", 60), ("2026-11-10", ZJ, "K1", 40),   # summed: 100
            ("2026-11-14", ZJ, "K1", 10), ("2026-11-05", GD, "K1", 0)]
    return pd.DataFrame(rows, columns=["date", "region", "sku", "units"])


def _forecasts():
    """Two backtests: rows r1..r7 in both, r8 only in the first, r9 (no sales) in both."""
    keys = [("2026-11-04", ZJ, "K1", 1), ("2026-11-05", ZJ, "K1", 1),   # r1, r2
            ("2026-11-06", ZJ, "K1", 3), ("2026-11-07", ZJ, "K1", 1),   # r3, r4
            ("2026-11-10", ZJ, "K1", 1), ("2026-11-14", ZJ, "K1", 1),   # r5, r6
            ("2026-11-05", GD, "K1", 1)]                                # r7
    f1 = [12, 15, 30, 11, 80, 10, 1]
    f2 = [10, 20, 24, 10, 90, 14, 0]
    a = pd.DataFrame([(*k, v) for k, v in zip(keys, f1)]
                     + [("2026-11-05", GD, "K1", 2, 5), ("2026-11-20", ZJ, "K1", 1, 9)], columns=COLS)
    b = pd.DataFrame([(*k, v) for k, v in zip(keys, f2)] + [("2026-11-20", ZJ, "K1", 1, 9)],
                     columns=COLS)
    return a, b


BURSTS = pd.DataFrame([("2026-11-04", ZJ, "K1", 500.0)], columns=["date", "region", "sku", "strength"])


def test_by_hand():
    """Near the burst of 11-04 with a window of 2 days: 11-04 (unseen at lead time 1),
    11-05 (seen at lead time 1: its origin 11-04 is the burst's day) and 11-06 (unseen at
    lead time 3: its origin is 11-03); 11-07 is quiet, 11-10 a promotion day. The sales of
    11-10 are summed; rows without sales or not in both tables are left out."""
    a, b = _forecasts()
    r = score_forecasts(_sales(), {"a": a, "b": b}, bursts=BURSTS, burst_days=2, baseline="b")
    assert r.rows == 7 and r.left_out == {"a": 2, "b": 1}
    assert r.rows_by_window == {"all": 7, "promotions": 1, "bursts": 3, "bursts_seen": 1,
                                "bursts_unseen": 2, "quiet": 3}
    assert r.units_by_window["promotions"] == 100 and r.units_by_window["quiet"] == 20
    sa, sb = r.scores
    want_a = {"all": 29 / 180, "promotions": 20 / 100, "bursts": 7 / 60, "bursts_seen": 5 / 20,
              "bursts_unseen": 2 / 40, "quiet": 2 / 20}
    want_b = {"all": 20 / 180, "promotions": 10 / 100, "bursts": 6 / 60, "bursts_seen": 0.0,
              "bursts_unseen": 6 / 40, "quiet": 4 / 20}
    assert sa.wape == pytest.approx(want_a) and sb.wape == pytest.approx(want_b)
    assert sa.wape_by_horizon == pytest.approx({1: 29 / 150, 3: 0 / 30})
    assert sb.wape_by_horizon == pytest.approx({1: 14 / 150, 3: 6 / 30})
    assert sa.bias == pytest.approx(159 / 180) and sb.bias == pytest.approx(168 / 180)
    g = r.gain["a"]
    assert g["all"] == pytest.approx(1 - 29 / 20) and g["promotions"] == pytest.approx(-1.0)
    assert g["bursts_unseen"] == pytest.approx(1 - 2 / 6)
    assert g["bursts_seen"] is None                 # the baseline is exact there
    assert list(r.gain) == ["a"]
    json.dumps(r.to_dict(), allow_nan=False)


def test_window_edges_and_no_bursts():
    """With a window of 1 day the burst covers 11-04 and 11-05 only, so 11-06 is quiet;
    without bursts every day but the promotions' is quiet; an empty window has no WAPE."""
    a, b = _forecasts()
    r = score_forecasts(_sales(), {"a": a, "b": b}, bursts=BURSTS, burst_days=1)
    assert r.rows_by_window["bursts"] == 2 and r.rows_by_window["quiet"] == 4
    assert r.gain == {} and r.baseline is None
    r = score_forecasts(_sales(), {"a": a}, burst_days=1)
    assert list(r.rows_by_window) == ["all", "promotions", "quiet"]
    assert r.rows_by_window["quiet"] == 7 and r.rows == 8        # a alone: r8 counts
    far = a[a["date"] != "2026-11-10"]
    assert score_forecasts(_sales(), {"a": far}).scores[0].wape["promotions"] is None
    r = score_forecasts(_sales(), {"a": a}, bursts=BURSTS.iloc[:0])     # a world without bursts
    assert r.rows_by_window["bursts"] == 0 and r.scores[0].wape["bursts"] is None
    assert r.rows_by_window["quiet"] == 7


def _oracle(sales, tables, bursts, burst_days, baseline):
    """WAPE by window, written apart from the module: plain loops over dicts and dates."""
    units = {}
    for d, r, k, u in sales[["date", "region", "sku", "units"]].itertuples(index=False):
        units[(d, r, k)] = units.get((d, r, k), 0.0) + float(u)
    starts = {}
    for d, r, k in bursts[["date", "region", "sku"]].itertuples(index=False):
        starts.setdefault((r, k), []).append(dt.date.fromisoformat(d))
    promo = set()
    for m, d in ((11, 11), (11, 12), (6, 18), (12, 12)):
        for s in (-1, 0, 1):
            x = dt.date(2026, m, d) + dt.timedelta(days=s)
            promo.add((x.month, x.day))
    fc = [{(d, r, k, int(h)): float(v) for d, r, k, h, v in t[COLS].itertuples(index=False)}
          for t in tables.values()]
    common = [key for key in fc[0] if all(key in f for f in fc) and key[:3] in units]
    sums = {}
    for key in common:
        d, r, k, h = key
        day = dt.date.fromisoformat(d)
        past = [b for b in starts.get((r, k), []) if b <= day]
        since = (day - max(past)).days if past else None
        is_promo = (day.month, day.day) in promo
        near = since is not None and since <= burst_days and not is_promo
        wins = ["all", f"h{h}"]
        wins += (["promotions"] if is_promo else []) + (["quiet"] if not near and not is_promo else [])
        wins += (["bursts", "bursts_seen" if since >= h else "bursts_unseen"] if near else [])
        y = units[key[:3]]
        for w in wins:
            s = sums.setdefault(w, [0.0, [0.0] * len(fc)])
            s[0] += y
            for i, f in enumerate(fc):
                s[1][i] += abs(f[key] - y)
    wape = {w: [e / s[0] for e in s[1]] for w, s in sums.items()}
    return len(common), wape


def test_against_loops_on_a_generated_world():
    """On a generated world's backtests (the seasonal naive, and the same scaled by a
    pseudo-random factor per row), every WAPE and gain equals the loops'."""
    w = G.generate_world(REGIONS, POP, skus=6, seed=11, until="2026-11-23")
    naive = backtest(make_panel(w.sales, None), "2026-09-01", "2026-11-22", 5,
                     model="seasonal-naive")
    rng = np.random.default_rng(3)
    other = naive.assign(units_forecast=naive["units_forecast"] * rng.uniform(0.7, 1.3, len(naive)))
    other = other.iloc[rng.permutation(len(other))[: len(other) - 40]]   # some rows missing
    tables = {"naive": naive, "other": other}
    r = score_forecasts(w.sales, tables, bursts=w.bursts, burst_days=6, baseline="naive")
    n, want = _oracle(w.sales, tables, w.bursts, 6, "naive")
    assert r.rows == n == len(other)
    assert r.rows_by_window["promotions"] > 0 and r.rows_by_window["bursts_seen"] > 0
    assert r.rows_by_window["bursts_unseen"] > 0
    for i, s in enumerate(r.scores):
        for k, v in s.wape.items():
            assert v == pytest.approx(want[k][i], rel=1e-12), (s.name, k)
        for h, v in s.wape_by_horizon.items():
            assert v == pytest.approx(want[f"h{h}"][i], rel=1e-12), (s.name, h)
    for k, v in r.gain["other"].items():
        assert v == pytest.approx(1 - want[k][1] / want[k][0], rel=1e-9)


def test_api_errors():
    a, b = _forecasts()
    with pytest.raises(ParameterError, match="baseline 'c'"):
        score_forecasts(_sales(), {"a": a}, baseline="c")
    with pytest.raises(ParameterError, match="at least 0"):
        score_forecasts(_sales(), {"a": a}, burst_days=-1)
    with pytest.raises(ParameterError, match="two forecasts of 2026-11-04, Zhejiang, K1"):
        score_forecasts(_sales(), {"a": pd.concat([a, a.head(1)])})
    with pytest.raises(ValidationError, match="no forecast in a is of a day, region and SKU with sales$"):
        score_forecasts(_sales(), {"a": a[a["date"] == "2026-11-20"]})


def _files(tmp_path):
    a, b = _forecasts()
    _sales().to_csv(tmp_path / "sales.csv", index=False)
    a.to_csv(tmp_path / "with.csv", index=False)
    b.to_csv(tmp_path / "without.csv", index=False)
    BURSTS.to_csv(tmp_path / "bursts.csv", index=False)
    return tmp_path


def test_cli(tmp_path, capsys):
    p = _files(tmp_path)
    args = ["sense", "score", "--sales", p / "sales.csv", "--forecasts", p / "with.csv",
            "--baseline", p / "without.csv", "--bursts", p / "bursts.csv", "--burst-days", "2"]
    code, out, _ = run_cli(capsys, *args, "--json")
    assert code == 0
    r = json.loads(out)
    assert r["rows"] == 7 and r["baseline"] == "without.csv" and r["chart"] is None
    assert [s["name"] for s in r["scores"]] == ["with.csv", "without.csv"]
    # the baseline among the forecasts too, written another way: scored once, in order
    code, out, _ = run_cli(capsys, "sense", "score", "--sales", p / "sales.csv", "--forecasts",
                           p / "with.csv", f"{p}/../{p.name}/without.csv", "--baseline",
                           p / "without.csv", "--json")
    assert code == 0
    assert [s["name"] for s in json.loads(out)["scores"]] == ["with.csv", "without.csv"]
    assert r["gain"]["with.csv"]["bursts"] == pytest.approx(1 - 7 / 6)
    assert r["scores"][0]["wape_by_horizon"]["3"] == 0.0
    code, out, _ = run_cli(capsys, *args)
    assert code == 0
    assert "gain: with" in out and "-16.7%" in out and "  seen" in out
    assert "with.csv 2 rows" in out.replace("\n", " ")          # r8 and r9 not scored
    code, out, _ = run_cli(capsys, *args, "--chart", p / "score.png")
    assert code == 0 and f"chart -> {p / 'score.png'}" in out.replace("\n", "")
    h, w = mpimg.imread(p / "score.png").shape[:2]
    assert (w, h) == (1210, 506)                        # 11 x 4.6 inches at 110 dpi


@pytest.mark.parametrize("edit, parts", [
    (("with.csv", "2026-11-04,Zhejiang,K1,1,12", "2026-11-04,Zhejiang,K1,1,12\n"
      "2026-11-04,Zhejiang,K1,1,13"), ("with.csv", "line 3", "horizon", "second forecast")),
    (("bursts.csv", "Zhejiang", "Atlantis"), ("bursts.csv", "line 2", "region", "Atlantis")),
    (("bursts.csv", "2026-11-04", "2026-11-4x"), ("bursts.csv", "line 2", "date")),
    (("with.csv", "2026-11-04,Zhejiang,K1,1,12", "2026-11-04,Zhejiang,K1,0,12"),
     ("with.csv", "line 2", "horizon")),
    (("sales.csv", "2026-11-04,Zhejiang,K1,10", "2026-11-04,Zhejiang,K1,-1"),
     ("sales.csv", "line 2", "units")),
])
def test_cli_bad_input(tmp_path, capsys, edit, parts):
    p = _files(tmp_path)
    name, old, new = edit
    text = (p / name).read_text()
    assert old in text
    (p / name).write_text(text.replace(old, new, 1))
    code, out, err = run_cli(capsys, "sense", "score", "--sales", p / "sales.csv", "--forecasts",
                             p / "with.csv", p / "without.csv", "--bursts", p / "bursts.csv")
    assert code == 2 and out == ""
    assert_one_line_error(err, *parts)


def test_cli_a_bursts_file_of_no_bursts(tmp_path, capsys):
    p = _files(tmp_path)
    (p / "bursts.csv").write_text("date,region,sku,strength\n")
    code, out, _ = run_cli(capsys, "sense", "score", "--sales", p / "sales.csv", "--forecasts",
                           p / "with.csv", "--bursts", p / "bursts.csv", "--json")
    assert code == 0 and json.loads(out)["rows_by_window"]["bursts"] == 0


def test_cli_bad_options(tmp_path, capsys):
    p = _files(tmp_path)
    base = ["sense", "score", "--sales", p / "sales.csv", "--forecasts", p / "with.csv"]
    code, _, err = run_cli(capsys, *base, "--burst-days", "-2")
    assert code == 2
    assert_one_line_error(err, "--burst-days", "at least 0")
    (p / "sub").mkdir()
    (p / "sub" / "with.csv").write_text((p / "without.csv").read_text())
    code, _, err = run_cli(capsys, *base, p / "sub" / "with.csv")
    assert code == 2
    assert_one_line_error(err, "--forecasts", "same name")
    code, _, err = run_cli(capsys, *base, p / "missing.csv")
    assert code == 2
    assert_one_line_error(err, "missing.csv")
    (p / "late.csv").write_text("date,region,sku,horizon,units_forecast\n"
                                "2026-12-01,Zhejiang,K1,1,5\n")
    code, _, err = run_cli(capsys, *base, p / "late.csv")
    assert code == 2
    assert_one_line_error(err, "with.csv, late.csv", "with sales and held by every file")
    code, _, err = run_cli(capsys, *base, "--chart", p / "score.jpg")
    assert code == 2 and not (p / "score.jpg").exists()
    assert_one_line_error(err, "--chart", ".png")


def test_read_backtest_refuses_a_second_forecast_of_a_row(tmp_path):
    a, _ = _forecasts()
    pd.concat([a, a.iloc[[3]]]).to_csv(tmp_path / "f.csv", index=False)
    with pytest.raises(ValidationError, match="line 11.*horizon.*second forecast"):
        read_backtest(tmp_path / "f.csv", [ZJ, GD])


def test_nothing_sold_has_no_wape_and_still_draws(tmp_path):
    """Days that sold nothing give no WAPE and no bias (not a division by zero), and the
    chart draws them without a warning."""
    import warnings

    from parcelnet.viz.sensing_chart import render_score_chart
    a, _ = _forecasts()
    zero = _sales().assign(units=0)
    r = score_forecasts(zero, {"a": a})
    assert set(r.scores[0].wape.values()) == {None} and r.scores[0].bias is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        render_score_chart(r, tmp_path / "z.png")
    assert (tmp_path / "z.png").stat().st_size > 0

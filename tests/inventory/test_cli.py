"""``parcelnet fulfil``: files in, files out, the parcels file taken by ``parcelnet
simulate``, and bad input refused in one line naming file, line and field."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from parcelnet.network.pnf import write_pnf
from tests.conftest import assert_one_line_error, run_cli
from tests.inventory.test_fulfil import SKUS, _write, small


@pytest.fixture()
def files(tmp_path):
    net = write_pnf(small(), tmp_path / "net")
    orders = [(1, 480, "tea", "S1", 1), (2, 480, "tea", "S2", 2), (3, 540, "pen", "S3", 1)]
    s, o, p = _write(tmp_path, SKUS, orders, [("WA", "tea", 1), ("WC", "pen", 1)])
    return tmp_path, net, s, o, p


def test_fulfil_and_simulate(files, capsys):
    tmp, net, s, o, p = files
    code, out, _ = run_cli(capsys, "fulfil", net, "--placement", p, "--skus", s, "--orders", o,
                           "--out", tmp / "served.csv", "--parcels", tmp / "parcels.parquet", "--json")
    assert code == 0
    r = json.loads(out)
    assert (r["orders"], r["from_warehouses"], r["from_sellers"]) == (3, 2, 1)
    t = pd.read_csv(tmp / "served.csv")
    assert list(t.columns) == ["order_id", "fulfilled_from", "promise_minute"]
    assert t["fulfilled_from"].tolist() == ["WA", "V", "WC"]
    code, out, _ = run_cli(capsys, "simulate", net, "--parcels", tmp / "parcels.parquet", "--json",
                           "--report", tmp / "day.html")
    assert code == 0 and json.loads(out)["parcels"] == 3
    code, out, _ = run_cli(capsys, "fulfil", net, "--placement", p, "--skus", s, "--orders", o,
                           "--out", tmp / "served.parquet")
    assert code == 0 and "promised within 24 h" in out
    assert pd.read_parquet(tmp / "served.parquet")["fulfilled_from"].tolist() == ["WA", "V", "WC"]


@pytest.mark.parametrize("table, row, parts", [
    ("orders", (4, 480, "mug", "S1", 1), ["orders.csv", "line 5", "'sku'", "unknown SKU 'mug'"]),
    ("orders", (4, 480, "tea", "S9", 1), ["orders.csv", "line 5", "'dest_station'", "S9"]),
    ("orders", (4, 480, "tea", "H", 1), ["orders.csv", "line 5", "'dest_station'", "'H'"]),
    ("orders", (4, -5, "tea", "S1", 1), ["orders.csv", "line 5", "'created_minute'", "below 0"]),
    ("orders", (4, "8am", "tea", "S1", 1), ["orders.csv", "line 5", "'created_minute'", "8am"]),
    ("orders", (4, 480, "tea", "S1", 0), ["orders.csv", "line 5", "'quantity'", "below 1"]),
    ("orders", (1, 480, "tea", "S1", 1), ["orders.csv", "line 5", "'order_id'", "twice"]),
    ("placement", ("WZ", "tea", 1), ["placement.csv", "line 4", "'warehouse_id'", "WZ"]),
    ("placement", ("H", "tea", 1), ["placement.csv", "line 4", "'warehouse_id'", "not a warehouse"]),
    ("placement", ("WB", "tea", -1), ["placement.csv", "line 4", "'units'", "below 0"]),
    ("placement", ("WA", "tea", 3), ["placement.csv", "line 4", "'sku'", "earlier row"]),
    ("skus", ("cup", "nowhere", 1.0), ["skus.csv", "line 4", "'seller_facility'", "nowhere"]),
    ("skus", ("cup", "V", -2), ["skus.csv", "line 4", "'unit_cube_litres'", "> 0"]),
])
def test_bad_input(files, capsys, table, row, parts):
    tmp, net, s, o, p = files
    path = {"orders": o, "placement": p, "skus": s}[table]
    df = pd.read_csv(path, dtype=str)
    df.loc[len(df)] = [str(x) for x in row]
    df.to_csv(path, index=False)
    before = (tmp / "served.csv").exists()
    code, _, err = run_cli(capsys, "fulfil", net, "--placement", p, "--skus", s, "--orders", o,
                           "--out", tmp / "served.csv")
    assert code == 2
    assert_one_line_error(err, *parts)
    assert (tmp / "served.csv").exists() == before            # nothing written


def test_missing_column(files, capsys):
    tmp, net, s, o, p = files
    pd.read_csv(o).drop(columns=["quantity"]).to_csv(o, index=False)
    code, _, err = run_cli(capsys, "fulfil", net, "--placement", p, "--skus", s, "--orders", o,
                           "--out", tmp / "served.csv")
    assert code == 2
    assert_one_line_error(err, "orders.csv", "line 1", "quantity")

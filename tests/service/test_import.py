"""``parcelnet ops import``: shipments from a CSV file through the API. Each row succeeds or
gets its own error, named by line and column; the good rows are kept; the same file again
creates nothing twice."""

from __future__ import annotations

import csv
import json

import pandas as pd

from tests.conftest import assert_one_line_error, run_cli

HEADER = ["order_no", "sender_name", "sender_phone", "sender_address", "recipient_name",
          "recipient_phone", "recipient_address", "weight_g", "length_mm", "width_mm", "height_mm",
          "contents", "carrier", "reference", "pieces"]
SENDER = ["张三", "13800138000", "浙江省杭州市西湖区文三路90号"]
GOOD = ["李四", "13900139000", "北京市朝阳区建国路88号1号楼101室"]


def write(path, rows, header=HEADER, encoding="utf-8-sig"):         # as Excel saves UTF-8
    with open(path, "w", encoding=encoding, newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)
    return path


def rows():
    return [
        ["A1", *SENDER, *GOOD, "1200", "300", "200", "100", "图书", "sf", "ref-1", ""],
        ["A2", *SENDER, "王五", "12345", GOOD[2], "800", "200", "150", "100", "茶叶", "sf", "ref-2", ""],
        ["A3", *SENDER, "赵六", "13700137000", "火星市奥林匹斯山1号", "500", "100", "100", "100", "书", "sf",
         "ref-3", ""],
        ["A4", *SENDER, *GOOD, "1300", "300", "200", "100", "两件", "sf", "ref-4", "500;800"],
        ["A5", *SENDER, *GOOD, "heavy", "300", "200", "100", "图书", "sf", "ref-5", ""],
    ]


def test_each_row_is_created_or_refused_on_its_own_and_again_nothing_is_doubled(capsys, tmp_path, live):
    url, svc = live
    key = svc.keys["shop"]["Authorization"].split()[1]
    src = write(tmp_path / "orders.csv", rows())
    code, out, err = run_cli(capsys, "ops", "import", src, "--url", url, "--key", key)
    assert code == 1, err                              # some rows were refused
    assert "2 of 5 shipments created as shop, 3 rows refused" in out
    got = pd.read_csv(tmp_path / "orders.results.csv", dtype=str, keep_default_na=False)
    assert got["line"].tolist() == ["2", "3", "4", "5", "6"]
    assert got["reference"].tolist() == ["ref-1", "ref-2", "ref-3", "ref-4", "ref-5"]
    ok = got[got["error"] == ""]
    assert ok["reference"].tolist() == ["ref-1", "ref-4"]
    errors = dict(zip(got["reference"], got["error"]))
    assert errors["ref-2"].startswith("recipient_phone: ")
    assert errors["ref-3"].startswith("recipient_address: unknown place")
    assert errors["ref-5"].startswith("weight_g: ")
    # one line per refused row on stderr, naming the file, the line and the column
    assert f"{src}, line 3, field 'recipient_phone'" in err
    assert f"{src}, line 4, field 'recipient_address'" in err
    assert f"{src}, line 6, field 'weight_g'" in err
    assert "columns not imported: order_no" in err
    # the created shipments are the merchant's, as the file gave them
    for _, r in ok.iterrows():
        s = svc.get(f"/v1/shipments/{r['waybill']}").json()
        assert s["reference"] == r["reference"] and s["sort_code"] == r["sort_code"]
        assert s["promise"]["promise_at"] == r["promise_at"]
        assert s["carrier"] == "sf"
    multi = svc.get(f"/v1/shipments/{ok['waybill'].iloc[1]}").json()
    assert len(multi["pieces"]) == 2
    listed = svc.get("/v1/shipments?limit=500").json()["shipments"]
    assert len(listed) == 2
    # the same file again: the same waybills, no new shipment
    code, out, err = run_cli(capsys, "ops", "import", src, "--url", url, "--key", key, "--json",
                             "--out", tmp_path / "again.csv")
    assert code == 1
    again = json.loads(out)
    assert (again["rows"], again["created"], again["failed"]) == (5, 2, 3)
    assert [r["line"] for r in again["refused"]] == [3, 4, 6]
    assert pd.read_csv(tmp_path / "again.csv", dtype=str, keep_default_na=False).equals(got)
    assert len(svc.get("/v1/shipments?limit=500").json()["shipments"]) == 2
    # the refused rows fixed, in a file of their own: created, exit code 0
    fixed = rows()
    fixed[1][5], fixed[2][6], fixed[4][7] = "13600136000", GOOD[2], "1500"
    code, out, err = run_cli(capsys, "ops", "import", write(tmp_path / "fixed.csv", [fixed[i] for i in (1, 2, 4)]),
                             "--url", url, "--key", key)
    assert code == 0, err
    assert "3 of 3 shipments created" in out
    assert len(svc.get("/v1/shipments?limit=500").json()["shipments"]) == 5


def test_a_bad_file_or_key_is_one_line_and_creates_nothing(capsys, tmp_path, live):
    url, svc = live
    key = svc.keys["shop"]["Authorization"].split()[1]
    src = write(tmp_path / "orders.csv", [r[:6] + r[7:] for r in rows()],
                header=HEADER[:6] + HEADER[7:])                        # no recipient_address
    code, _, err = run_cli(capsys, "ops", "import", src, "--url", url, "--key", key)
    assert code == 2
    assert_one_line_error(err, str(src), "line 1", "field 'recipient_address'", "missing column")
    src = write(tmp_path / "empty.csv", [])
    code, _, err = run_cli(capsys, "ops", "import", src, "--url", url, "--key", key)
    assert code == 2
    assert_one_line_error(err, "empty.csv", "no shipments")
    (tmp_path / "gbk.csv").write_bytes(",".join(HEADER).encode() + b"\n" + "张三".encode("gbk") + b"\n")
    code, _, err = run_cli(capsys, "ops", "import", tmp_path / "gbk.csv", "--url", url, "--key", key)
    assert code == 2
    assert_one_line_error(err, "gbk.csv", "line 2", "not UTF-8")
    good = write(tmp_path / "good.csv", rows()[:1])
    carrier = svc.keys["sf"]["Authorization"].split()[1]
    code, _, err = run_cli(capsys, "ops", "import", good, "--url", url, "--key", carrier)
    assert code == 2
    assert_one_line_error(err, "--key belongs to sf, a carrier, not a merchant")
    code, _, err = run_cli(capsys, "ops", "import", good, "--url", url, "--key", "pn_00000000_secret")
    assert code == 2
    assert_one_line_error(err, "HTTP 401", "unknown API key")
    code, _, err = run_cli(capsys, "ops", "import", good, "--url", url, "--key", key, "--out", good)
    assert code == 2
    assert_one_line_error(err, "is the input file")
    assert svc.get("/v1/shipments?limit=500").json()["shipments"] == []


def test_the_services_field_names_become_the_files_columns():
    from parcelnet_service.importer import _column
    assert _column("recipient.phone: String should match pattern") == "recipient_phone: String should match pattern"
    assert _column("parcel.weight_g: Input should be less than or equal to 70000") == \
        "weight_g: Input should be less than or equal to 70000"
    assert _column("pieces.1.weight_g: Input should be a valid integer") == "pieces: Input should be a valid integer"
    assert _column("service_level: next_day is not possible") == "service_level: next_day is not possible"
    assert _column("recipient.address: unknown place: no province") == "recipient_address: unknown place: no province"
    assert _column("no field named here") == "no field named here"

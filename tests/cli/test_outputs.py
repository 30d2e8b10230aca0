"""Output paths, one behaviour for every command: a missing folder is created; a path that
cannot be written is one line before any work; a failed write leaves no temporary file."""

from __future__ import annotations

import pytest

from parcelnet.files import leftovers
from tests.conftest import FIXTURES, assert_one_line_error, run_cli

TINY = FIXTURES / "tiny"


@pytest.fixture()
def day(tmp_path):
    p = tmp_path / "day.csv"
    p.write_text("parcel_id,created_minute,origin_facility,dest_station\n1,1000,A,B\n2,1000,A,B\n")
    return p


@pytest.mark.long
def test_missing_output_folders_are_created(capsys, tmp_path, day):
    deep = tmp_path / "new" / "deeper"
    q = tmp_path / "q.csv"
    q.write_text("query_id,origin,destination,created_minute\nq1,A,B,1000\n")
    cases = [
        ["simulate", TINY, "--parcels", day, "--out", deep / "r.csv", "--report", deep / "r.html"],
        ["promise", TINY, "--batch", q, "--out", deep / "answers.csv"],
        ["coverage", TINY, "--map", deep / "map", "--json"],
        ["demand", TINY, "--parcels", 100, "--out", deep / "d.parquet"],
        ["plan", "capacity", TINY, "--parcels", day, "--out", deep / "net", "--json"],
        ["export", TINY, "--out", deep / "copy"],
    ]
    for args in cases:
        code, _, err = run_cli(capsys, *args)
        assert code == 0, (args, err)
    names = {p.name for p in deep.iterdir()}
    assert {"r.csv", "r.html", "answers.csv", "map.png", "map.html", "d.parquet", "net",
            "copy"} <= names
    assert leftovers(deep) == [] and leftovers(deep / "net") == []


def test_an_unwritable_output_fails_before_the_work(capsys, tmp_path, day):
    blocker = tmp_path / "file"
    blocker.write_text("")
    for args in (["simulate", TINY, "--parcels", day, "--out", blocker / "x" / "r.csv"],
                 ["demand", TINY, "--parcels", 10, "--out", blocker / "d.parquet"],
                 ["plan", "capacity", TINY, "--parcels", day, "--out", blocker / "net"]):
        code, out, err = run_cli(capsys, *args)
        assert code == 2 and out == ""
        assert_one_line_error(err, "--out", "cannot create its folder")


def test_an_answers_file_in_the_way_of_a_folder_leaves_nothing(capsys, tmp_path):
    q = tmp_path / "q.csv"
    q.write_text("query_id,origin,destination,created_minute\nq1,A,B,1000\n")
    (tmp_path / "answers.csv").mkdir()
    code, _, err = run_cli(capsys, "promise", TINY, "--batch", q, "--out", tmp_path / "answers.csv")
    assert code == 2
    assert_one_line_error(err, "answers.csv", "is a folder")
    assert leftovers(tmp_path) == []

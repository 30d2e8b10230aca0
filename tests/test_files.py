"""Writing outputs: folders are created, a file appears only when complete, and a failed write
leaves nothing behind (files.py and every writer built on it)."""

from __future__ import annotations

import pytest

from parcelnet.errors import ValidationError
from parcelnet.files import atomic_path, check_writable, leftovers, write_text
from parcelnet.network.pnf import load_network, write_bundle, write_pnf
from tests.conftest import FIXTURES


def test_a_missing_folder_is_created(tmp_path):
    p = write_text(tmp_path / "a" / "b" / "x.txt", "hi")
    assert p.read_text() == "hi" and leftovers(p.parent) == []


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    p = write_text(tmp_path / "x.txt", "old")
    with pytest.raises(RuntimeError):
        with atomic_path(p) as tmp:
            tmp.write_text("half")
            raise RuntimeError("disk full")
    assert p.read_text() == "old" and leftovers(tmp_path) == []


def test_a_folder_in_the_way_is_one_clear_error(tmp_path):
    (tmp_path / "x.csv").mkdir()
    with pytest.raises(ValidationError, match="is a folder, not a file"):
        with atomic_path(tmp_path / "x.csv"):
            pass
    with pytest.raises(ValidationError, match="is a folder"):
        check_writable(tmp_path / "x.csv")
    (tmp_path / "f").write_text("")
    with pytest.raises(ValidationError, match="cannot create its folder"):
        check_writable(tmp_path / "f" / "sub" / "y.csv")


def test_a_bundle_that_fails_midway_leaves_nothing(tmp_path, monkeypatch):
    import pyarrow.parquet as pq
    net = load_network(FIXTURES / "tiny")
    calls = []

    def fail(*a, **k):
        calls.append(1)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        return real(*a, **k)
    real = pq.write_table
    monkeypatch.setattr(pq, "write_table", fail)
    with pytest.raises(OSError):
        write_bundle(net, tmp_path / "net.pnfz")
    assert list(tmp_path.iterdir()) == []


def test_a_network_folder_that_fails_midway_keeps_the_old_files(tmp_path, monkeypatch):
    net = load_network(FIXTURES / "tiny")
    folder = write_pnf(net, tmp_path / "net")
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    import parcelnet.network.pnf as pnf
    real = pnf.write_csv

    def fail(df, path):
        if "trips" in path.name:
            raise OSError(28, "No space left on device")
        real(df, path)
    monkeypatch.setattr(pnf, "write_csv", fail)
    with pytest.raises(OSError):
        write_pnf(net.with_capacities(net.timetable.trip_capacity * 2), folder)
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before

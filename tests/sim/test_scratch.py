"""The day's per-parcel arrays in files (parcelnet.sim.scratch): the same answers, bit for
bit, single or split, and nothing left behind in the folder."""

from __future__ import annotations

import os

import numpy as np
import pytest

from parcelnet.errors import ValidationError
from parcelnet.sim.partition import Split
from parcelnet.sim.scratch import check_scratch, day_array
from parcelnet.sim.stream import simulate_day


def test_a_day_array_in_a_file_is_filled_writable_and_unnamed(tmp_path):
    a = day_array(1000, np.int32, -1, tmp_path)
    assert a.dtype == np.int32 and a.shape == (1000,) and (a == -1).all()
    a[10:20] = 7
    assert a[15] == 7 and a.sum() == -990 + 70
    assert type(a) is np.ndarray and a.flags.writeable
    assert list(tmp_path.iterdir()) == []           # unnamed: nothing to clean up
    assert (day_array(5, np.int16, None, tmp_path) == 0).all()
    assert len(day_array(0, np.int64, -1, tmp_path)) == 0
    assert (day_array(4, np.int64, -1) == -1).all()     # no scratch: in memory


def test_a_full_disk_is_refused_when_the_array_is_made(tmp_path, monkeypatch):
    """The space is reserved up front (posix_fallocate): a full disk is one clear error when
    the array is made, not a SIGBUS when the run first writes a page it cannot place. (The
    disk's refusal is simulated: filling a shared disk would fail other processes too.)"""
    import errno

    def full(fd, offset, size):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    monkeypatch.setattr(os, "posix_fallocate", full)
    with pytest.raises(ValidationError, match="scratch: 4,000 bytes in .*: No space left on device"):
        day_array(1000, np.int32, None, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_bad_scratch_folders_are_refused_in_one_line(tmp_path):
    with pytest.raises(ValidationError, match="scratch: .*missing is not a directory"):
        check_scratch(tmp_path / "missing")
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(ValidationError, match="not a directory"):
        day_array(10, np.int32, -1, f)
    with pytest.raises(ValidationError, match="^--scratch: "):
        check_scratch(f, "--scratch")
    if os.geteuid() != 0:                  # root writes anywhere
        ro = tmp_path / "ro"
        ro.mkdir(mode=0o500)
        with pytest.raises(ValidationError, match="not writable"):
            check_scratch(ro)


@pytest.mark.parametrize("split", [None, Split(k=2)], ids=["single", "split in two"])
def test_a_day_with_its_arrays_in_files_is_the_day_in_memory(tiny, tmp_path, split):
    want = simulate_day(tiny, 20_000, "peak", seed=9, split=split)
    got = simulate_day(tiny, 20_000, "peak", seed=9, split=split, scratch=tmp_path)
    for f in ("promise", "delivered", "created", "dest"):
        np.testing.assert_array_equal(getattr(got, f), getattr(want, f), err_msg=f)
    for f in ("backlog_peak", "left_behind", "hourly", "trip_boarded", "trip_peak", "sort_peak",
              "last_minute"):
        np.testing.assert_array_equal(getattr(got.raw, f), getattr(want.raw, f), err_msg=f)
    k_got, k_want = got.kpis().to_dict(), want.kpis().to_dict()
    k_got.pop("seconds"), k_want.pop("seconds")
    assert k_got == k_want
    assert (want.delivered >= 0).sum() > 10_000
    assert list(tmp_path.iterdir()) == []

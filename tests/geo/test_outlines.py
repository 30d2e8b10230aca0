"""Tests for parcelnet.geo.outlines (packaged data only)."""

import numpy as np
import pytest

from parcelnet.errors import NotFoundError
from parcelnet.geo import load_outlines, load_places


def _check(outlines):
    for name, rings in outlines:
        assert isinstance(name, str) and name
        assert rings
        for r in rings:
            assert isinstance(r, np.ndarray) and r.ndim == 2 and r.shape[1] == 2
            assert r.shape[0] >= 4
            assert np.all(np.abs(r[:, 0]) <= 180) and np.all(np.abs(r[:, 1]) <= 90)


def test_cn_outlines_match_admin1():
    outlines = load_outlines("CN")
    _check(outlines)
    names = [n for n, _ in outlines]
    assert len(names) == 31 == len(set(names))
    assert set(names) == set(load_places("CN")["admin1"])
    zj = dict(outlines)["Zhejiang"]
    pts = np.vstack(zj)
    assert 118 < pts[:, 0].mean() < 123 and 27 < pts[:, 1].mean() < 31.5


def test_us_outlines_are_states():
    outlines = load_outlines("US")
    _check(outlines)
    names = {n for n, _ in outlines}
    assert len(names) == 51 and {"California", "Alaska", "Hawaii"} <= names
    assert names <= set(load_places("US")["admin1"])


def test_other_country_single_entry():
    outlines = load_outlines("DE")
    _check(outlines)
    assert [n for n, _ in outlines] == ["Germany"]
    pts = np.vstack(outlines[0][1])
    assert 5 < pts[:, 0].min() < 7 and 14 < pts[:, 0].max() < 16


def test_unknown_country():
    with pytest.raises(NotFoundError):
        load_outlines("XX")


def test_cn_places_lie_in_their_province_outline():
    from matplotlib.path import Path

    cn = load_places("CN")
    pts = cn[["lon", "lat"]].to_numpy()
    inside = np.zeros(len(cn), dtype=bool)
    for name, rings in load_outlines("CN"):
        mine = (cn["admin1"] == name).to_numpy()
        for r in rings:  # the sign of radius that grows a path depends on orientation
            path = Path(r)
            inside[mine] |= (path.contains_points(pts[mine], radius=0.05)
                             | path.contains_points(pts[mine], radius=-0.05))
    # only small islands (Zhoushan, Changhai, Kinmen, Xisha/Nansha, ...) may fall outside
    assert inside.sum() >= 2830

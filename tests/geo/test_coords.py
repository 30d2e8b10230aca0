"""Tests for parcelnet.geo.coords."""

import numpy as np
import pytest

from parcelnet.geo import gcj02_to_wgs84, haversine_km, pairwise_km, wgs84_to_gcj02


def test_tiananmen_gcj02_to_wgs84():
    lon, lat = gcj02_to_wgs84(116.403963, 39.915119)
    assert haversine_km(lat, lon, 39.913729, 116.397726) * 1000 < 5.0
    # the offset itself is several hundred metres
    assert haversine_km(lat, lon, 39.915119, 116.403963) * 1000 > 300


def test_round_trip_below_one_metre():
    rng = np.random.default_rng(42)
    lon, lat = rng.uniform(73.7, 134.8, 5000), rng.uniform(18.2, 53.4, 5000)
    back_lon, back_lat = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
    assert np.max(haversine_km(lat, lon, back_lat, back_lon)) * 1000 < 1.0
    g_lon, g_lat = wgs84_to_gcj02(*gcj02_to_wgs84(lon, lat))
    assert np.max(haversine_km(lat, lon, g_lat, g_lon)) * 1000 < 1.0


def test_outside_china_unchanged():
    lon, lat = np.array([2.35, -74.0, 151.2]), np.array([48.85, 40.7, -33.9])
    for f in (gcj02_to_wgs84, wgs84_to_gcj02):
        out_lon, out_lat = f(lon, lat)
        np.testing.assert_array_equal(out_lon, lon)
        np.testing.assert_array_equal(out_lat, lat)


def test_haversine_known_distance_and_broadcast():
    # Beijing - Shanghai ~ 1067 km
    assert haversine_km(39.9042, 116.4074, 31.2304, 121.4737) == pytest.approx(1067.3, abs=3)
    d = haversine_km(np.zeros((3, 1)), np.zeros((3, 1)), np.zeros((1, 4)), np.arange(4.0))
    assert d.shape == (3, 4)
    assert d[0, 1] == pytest.approx(111.195, abs=0.01)  # one degree on the equator


def test_pairwise_symmetric_zero_diagonal():
    lat = np.array([39.9, 31.2, 22.5, 30.6])
    lon = np.array([116.4, 121.5, 114.1, 114.3])
    d = pairwise_km(lat, lon)
    assert d.shape == (4, 4)
    np.testing.assert_allclose(d, d.T)
    assert np.all(np.diag(d) == 0)
    assert d[0, 1] == pytest.approx(haversine_km(lat[0], lon[0], lat[1], lon[1]))

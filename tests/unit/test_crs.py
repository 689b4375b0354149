"""CRS conversions against published test vectors, round trips and input parsing."""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import Geod

from gridmap import crs
from gridmap.errors import InvalidInput

GEOD = Geod(ellps="WGS84")

# (wgs84 lon, lat) -> (gcj02 lon, lat): the eviltransform reference vectors, published with
# that library's tests and reproduced by independent ports in many languages.
WGS_GCJ = [
    ((121.5272106, 31.1774276), (121.531541859215, 31.17530398364597)),  # Shanghai
    ((113.912316, 22.543847), (113.9171764808363, 22.540796131694766)),  # Shenzhen
    ((116.377817, 39.911954), (116.38404722455657, 39.91334545536069)),  # Beijing
]
# (gcj02) <-> (bd09): the vectors of the widely used coordtransform library.
GCJ_BD = [((116.404, 39.915), (116.41036949371029, 39.92133699351021))]
BD_GCJ = [((116.404, 39.915), (116.39762729119315, 39.90865673957631))]


def metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    return float(GEOD.inv(a[0], a[1], b[0], b[1])[2])


@pytest.mark.parametrize(("wgs", "gcj"), WGS_GCJ)
def test_wgs84_to_gcj02_matches_reference(wgs, gcj):
    assert crs.wgs84_to_gcj02(*wgs) == pytest.approx(gcj, abs=1e-9)


@pytest.mark.parametrize(("wgs", "gcj"), WGS_GCJ)
def test_gcj02_to_wgs84_inverts_reference(wgs, gcj):
    assert metres(crs.gcj02_to_wgs84(*gcj), wgs) < 0.01


@pytest.mark.parametrize(("gcj", "bd"), GCJ_BD)
def test_gcj02_to_bd09_matches_reference(gcj, bd):
    assert crs.gcj02_to_bd09(*gcj) == pytest.approx(bd, abs=1e-9)


@pytest.mark.parametrize(("bd", "gcj"), BD_GCJ)
def test_bd09_to_gcj02_matches_reference(bd, gcj):
    # The reference uses Baidu's closed-form inverse (~0.2 m off); ours is refined to exact.
    assert metres(crs.bd09_to_gcj02(*bd), gcj) < 0.3
    assert crs.gcj02_to_bd09(*crs.bd09_to_gcj02(*bd)) == pytest.approx(bd, abs=1e-9)


def test_offset_in_shenyang_has_the_documented_size():
    # SOURCES.md: in central Shenyang GCJ-02 minus WGS84 is about +0.0061° lon, +0.0024° lat.
    glon, glat = crs.wgs84_to_gcj02(123.43, 41.80)
    assert glon - 123.43 == pytest.approx(0.0061, abs=0.0004)
    assert glat - 41.80 == pytest.approx(0.0024, abs=0.0004)
    assert 450 < metres((123.43, 41.80), (glon, glat)) < 700


def test_round_trips_within_a_metre_over_shenyang():
    rng = np.random.default_rng(7)
    lon = rng.uniform(122.4, 123.8, 2000)
    lat = rng.uniform(41.1, 43.0, 2000)
    for forward, inverse in ((crs.wgs84_to_gcj02, crs.gcj02_to_wgs84),
                             (crs.wgs84_to_bd09, crs.bd09_to_wgs84)):
        back_lon, back_lat = inverse(*forward(lon, lat))
        _, _, dist = GEOD.inv(lon, lat, back_lon, back_lat)
        assert np.max(dist) < 0.01


def test_vectorised_equals_scalar():
    lon = np.array([123.40, 123.45, 123.50])
    lat = np.array([41.78, 41.80, 41.82])
    vlon, vlat = crs.wgs84_to_bd09(lon, lat)
    for i in range(3):
        assert (vlon[i], vlat[i]) == pytest.approx(crs.wgs84_to_bd09(lon[i], lat[i]), abs=1e-12)


def test_outside_china_is_unchanged():
    assert crs.wgs84_to_gcj02(2.35, 48.85) == (2.35, 48.85)
    assert crs.gcj02_to_wgs84(-104.9903, 39.7392) == pytest.approx((-104.9903, 39.7392))


@pytest.mark.parametrize("name", ["wgs84", "cgcs2000", "EPSG:4490"])
def test_to_wgs84_identity_for_geodetic_systems(name):
    assert crs.to_wgs84(123.4, 41.8, name) == (123.4, 41.8)


def test_to_wgs84_dispatches_on_crs():
    gcj = crs.wgs84_to_gcj02(123.4, 41.8)
    bd = crs.wgs84_to_bd09(123.4, 41.8)
    assert metres(crs.to_wgs84(*gcj, "gcj02"), (123.4, 41.8)) < 0.01
    assert metres(crs.to_wgs84(*bd, "BD-09"), (123.4, 41.8)) < 0.01


def test_unknown_crs_is_a_clear_error():
    with pytest.raises(InvalidInput, match="未知坐标系"):
        crs.parse_crs("mercator")


@pytest.mark.parametrize(("lon", "lat"), [(200.0, 41.0), (123.0, -95.0), (float("nan"), 1.0)])
def test_invalid_coordinates_rejected(lon, lat):
    with pytest.raises(InvalidInput):
        crs.validate_lonlat(lon, lat)

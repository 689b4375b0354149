"""CRS conversions against published test vectors, round trips and input parsing."""

from __future__ import annotations

import numpy as np
import pytest
from pyproj import CRS, Geod, Transformer

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


# --- the metric CRS --------------------------------------------------------------------------------

# Shenyang's administrative extent (all districts and counties), WGS84.
SHENYANG = (122.42, 41.20, 123.81, 43.03)
BAR = 1e-4  # 0.01 %


@pytest.mark.parametrize(("lon", "epsg", "cm"), [
    (123.4, 4550, 123), (121.5, 4550, 123), (121.49, 4549, 120), (116.4, 4548, 117),
    (73.5, 4534, 75), (75.0, 4534, 75), (135.0, 4554, 135), (136.5, 4554, 135)])
def test_gauss_kruger_zone_is_the_nearest_central_meridian(lon: float, epsg: int, cm: int) -> None:
    assert crs.gauss_kruger_epsg(lon) == epsg and crs.gauss_kruger_crs(lon) == f"EPSG:{epsg}"
    zone = CRS.from_epsg(epsg)
    assert zone.name == f"CGCS2000 / 3-degree Gauss-Kruger CM {cm}E"
    origin = next(p for p in zone.coordinate_operation.params if p.name == "Longitude of natural origin")
    assert origin.value == cm and abs(lon - cm) <= 1.5


@pytest.mark.parametrize("lon", [73.4, 136.6, 10.0, float("nan")])
def test_longitudes_outside_the_series_are_refused(lon: float) -> None:
    with pytest.raises(InvalidInput, match="3"):
        crs.gauss_kruger_epsg(lon)


def _segments(extent: tuple[float, float, float, float]) -> list[tuple[float, float, float, float]]:
    """E-W and N-S segments over ``extent``: 1 km pieces on a lattice and city-wide spans."""
    minx, miny, maxx, maxy = extent
    out = []
    for lon in np.linspace(minx, maxx, 7):
        for lat in np.linspace(miny, maxy, 7):
            out.append((lon, lat, lon + 0.012, lat))  # ~1 km east
            out.append((lon, lat, lon, lat + 0.009))  # ~1 km north
    for lat in np.linspace(miny, maxy, 4):
        out.append((minx, lat, maxx, lat))
    for lon in np.linspace(minx, maxx, 4):
        out.append((lon, miny, lon, maxy))
    return out


def _worst_relative_error(metric: str, extent: tuple[float, float, float, float]) -> float:
    to = Transformer.from_crs("EPSG:4326", metric, always_xy=True)
    worst = 0.0
    for x0, y0, x1, y1 in _segments(extent):
        (px0, px1), (py0, py1) = to.transform([x0, x1], [y0, y1])
        planar = float(np.hypot(px1 - px0, py1 - py0))
        geodesic = metres((x0, y0), (x1, y1))
        worst = max(worst, abs(planar / geodesic - 1))
    return worst


def test_chosen_zone_measures_shenyang_within_a_hundredth_of_a_percent() -> None:
    centre = (SHENYANG[0] + SHENYANG[2]) / 2
    chosen = crs.gauss_kruger_crs(centre)
    assert chosen == "EPSG:4550"
    assert _worst_relative_error(chosen, SHENYANG) < BAR
    # The old constant, CM 120°E, fails the same bar: up to ~0.12 % long in the east of the city.
    assert _worst_relative_error("EPSG:4549", SHENYANG) > 5 * BAR


def test_the_issue_segment_measures_true_in_4550() -> None:
    a, b = (123.40, 41.80), (123.41, 41.80)  # the 831.10 m east-west segment of issue 7
    assert metres(a, b) == pytest.approx(831.10, abs=0.01)
    lengths = {}
    for code in ("EPSG:4549", "EPSG:4550"):
        (x0, x1), (y0, y1) = Transformer.from_crs("EPSG:4326", code, always_xy=True).transform(
            [a[0], b[0]], [a[1], b[1]])
        lengths[code] = float(np.hypot(x1 - x0, y1 - y0))
    assert lengths["EPSG:4549"] == pytest.approx(831.92, abs=0.01)
    assert lengths["EPSG:4550"] == pytest.approx(831.11, abs=0.01)

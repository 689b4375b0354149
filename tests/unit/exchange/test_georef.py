"""CRSs of files: EPSG codes and China's shifted datums, and the mistakes they invite."""

from __future__ import annotations

import numpy as np
import pyproj
import pytest
import shapely

from gridmap import crs as datums
from gridmap.errors import InvalidInput
from gridmap.exchange import georef


def test_crs_names_and_codes() -> None:
    assert georef.parse("EPSG:4549").crs == pyproj.CRS("EPSG:4549")
    assert georef.parse("4550").label == "EPSG:4550"
    assert georef.parse("cgcs2000").crs == pyproj.CRS("EPSG:4490")
    assert georef.parse("GCJ-02").datum == "gcj02" and georef.parse("bd09").crs is None
    with pytest.raises(InvalidInput, match="EPSG"):
        georef.parse("EPSG:999999")
    assert georef.resolve(None, "EPSG:4326", "f").datum == "wgs84"
    assert georef.resolve("gcj02", "EPSG:4326", "f").datum == "gcj02"  # --crs wins
    with pytest.raises(InvalidInput, match="--crs"):
        georef.resolve(None, None, "grids.shp")


def test_gauss_kruger_metres_come_back_to_the_same_degrees() -> None:
    lonlat = shapely.Point(123.43, 41.80)
    to_gk = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:4550", always_xy=True)
    projected = shapely.Point(*to_gk.transform(lonlat.x, lonlat.y))
    back = georef.apparent_lonlat(np.array([projected], dtype=object), georef.parse("EPSG:4550"))
    assert back[0].distance(lonlat) < 1e-9


def test_shifted_datums_convert_with_our_own_code() -> None:
    truth = np.array([[123.43, 41.80]])
    gx, gy = datums.wgs84_to_gcj02(truth[:, 0], truth[:, 1])
    amap = np.array([shapely.Point(float(gx[0]), float(gy[0]))], dtype=object)
    back = georef.to_wgs84(georef.apparent_lonlat(amap, georef.parse("gcj02")), "gcj02")
    assert abs(back[0].x - 123.43) < 1e-8 and abs(back[0].y - 41.80) < 1e-8


def test_metres_labelled_as_degrees_and_swapped_axes() -> None:
    wgs = georef.parse("EPSG:4326")
    metres = np.array([shapely.Point(41_500_000.0, 4_630_000.0)] * 3, dtype=object)
    assert [p.code for p in georef.coordinate_problems(metres, wgs)] == ["projected_as_degrees"]
    swapped = np.array([shapely.Point(41.80, 123.43), shapely.Point(41.81, 123.44)], dtype=object)
    assert [p.code for p in georef.coordinate_problems(swapped, wgs)] == ["lat_lon_swapped"]
    right = np.array([shapely.Point(123.43, 41.80)], dtype=object)
    assert georef.coordinate_problems(right, wgs) == []


def _medians_to_streets(spacing: tuple[float, float],
                        seed: int) -> tuple[dict[str, float], np.ndarray]:
    """Median metres to irregular north-south streets ``spacing`` degrees apart, for each
    datum's positions of points put 20 m east of a street and given in GCJ-02."""
    rng = np.random.default_rng(seed)
    xs = 123.30 + np.cumsum(rng.uniform(*spacing, 80))
    lon = rng.choice(xs[5:-5], 200) + 0.00024
    lat = rng.uniform(41.70, 41.90, 200)
    glon, glat = datums.wgs84_to_gcj02(lon, lat)
    where = georef.hypotheses(np.column_stack([glon, glat]))
    geod = pyproj.Geod(ellps="WGS84")

    def median_m(p: np.ndarray) -> float:
        nearest = xs[np.abs(p[:, [0]] - xs[None, :]).argmin(axis=1)]
        _, _, dist = geod.inv(p[:, 0], p[:, 1], nearest, p[:, 1])
        return float(np.median(dist))

    return {datum: median_m(p) for datum, p in where.items()}, np.column_stack([glon, glat])


def test_gcj02_labelled_as_wgs84_is_found_and_the_offset_said() -> None:
    """Facilities 20 m off sparse streets (0.5–1.5 km apart), in GCJ-02, labelled WGS84."""
    medians, sample = _medians_to_streets((0.006, 0.018), seed=1)
    assert medians["gcj02"] < 25 < 2.5 * medians["gcj02"] + 25 < medians["wgs84"]
    where = georef.hypotheses(sample)
    shifts = georef.shift_metres(where, "wgs84")
    fit = georef.Fit(georef.Basis.STREETS, medians, 200)
    problem = georef.datum_problem("wgs84", fit, shifts)
    assert problem is not None and problem.code == "datum_mismatch"
    assert "--crs gcj02" in problem.en and "the streets" in problem.en
    east, north = shifts["gcj02"]  # GCJ-02 moves Shenyang some 500 m
    assert 300 < np.hypot(east, north) < 800 and f"{np.hypot(east, north):.0f} m" in problem.en
    # Declared right, or too few points to tell: nothing to say.
    assert georef.datum_problem("gcj02", fit, georef.shift_metres(where, "gcj02")) is None
    assert georef.datum_problem("wgs84", georef.Fit(fit.basis, medians, 5), shifts) is None


def test_dense_streets_tell_nothing_and_so_raise_nothing() -> None:
    """In a dense network (80–250 m) a 500 m shift still lands near some street: no verdict,
    and above all no false alarm; the same features or parent areas decide instead."""
    medians, sample = _medians_to_streets((0.001, 0.003), seed=2)
    where = georef.hypotheses(sample)
    fit = georef.Fit(georef.Basis.STREETS, medians, 200)
    assert georef.datum_problem("gcj02", fit, georef.shift_metres(where, "gcj02")) is None
    by_parent = georef.Fit(georef.Basis.PARENT, {"wgs84": 410.0, "gcj02": 0.0, "bd09": 900.0},
                           200)
    problem = georef.datum_problem("wgs84", by_parent, georef.shift_metres(where, "wgs84"))
    assert problem is not None and "their parent areas" in problem.en

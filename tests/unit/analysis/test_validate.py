"""The metric-CRS check every analysis runs: projected, in metres, and not Mercator."""

from __future__ import annotations

import geopandas as gpd
import pyproj
import pytest
import shapely

from gridmap.analysis import _validate
from gridmap.analysis.graph import build_graph


def _check(crs: str) -> tuple[pyproj.CRS | None, list[str]]:
    problems = _validate.Problems("test")
    return _validate.metric_crs(crs, problems), problems.items


@pytest.mark.parametrize("crs", ["EPSG:3857", "EPSG:900913", "EPSG:3395", "ESRI:54004",
                                 "+proj=merc +lon_0=123 +datum=WGS84 +units=m"])
def test_mercator_and_web_mercator_are_refused(crs: str) -> None:
    parsed, problems = _check(crs)
    assert parsed is None
    assert len(problems) == 1 and "Mercator" in problems[0] and "Gauss-Kruger" in problems[0]


@pytest.mark.parametrize("crs", ["EPSG:4550", "EPSG:4549", "EPSG:4534", "EPSG:4554", "EPSG:32651",
                                 "EPSG:2062", "EPSG:29873"])
def test_local_projections_in_metres_are_accepted(crs: str) -> None:
    # Gauss-Kruger / UTM (transverse Mercator), Lambert conformal and oblique Mercator are local.
    parsed, problems = _check(crs)
    assert problems == [] and parsed is not None and parsed.is_projected


@pytest.mark.parametrize(("crs", "says"), [("EPSG:4326", "geographic"), ("EPSG:2264", "not metres"),
                                           ("EPSG:999999", "not a valid CRS")])
def test_geographic_feet_and_unknown_are_refused(crs: str, says: str) -> None:
    parsed, problems = _check(crs)
    assert parsed is None and len(problems) == 1 and says in problems[0]


def test_build_graph_refuses_web_mercator() -> None:
    nodes = gpd.GeoDataFrame({"node_id": [1, 2]}, geometry=shapely.points([(123.4, 41.8), (123.41, 41.8)]),
                             crs="EPSG:4326")
    edges = gpd.GeoDataFrame({"source": [1], "target": [2], "length_m": [830.0]},
                             geometry=[shapely.LineString([(123.4, 41.8), (123.41, 41.8)])], crs="EPSG:4326")
    with pytest.raises(_validate.AnalysisInputError, match="Mercator"):
        build_graph(nodes, edges, crs="EPSG:3857")
    assert build_graph(nodes, edges, crs="EPSG:4550").n_edges == 1

"""The two real inputs of the demo generator (see geodata/README.md) and the article figures."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridmap.crs import SRID, gauss_kruger_crs, gcj02_to_wgs84

GEODATA = Path(__file__).resolve().parents[3] / "geodata"  # the checkout's copy (editable install)
DISTRICTS_FILE = "shenyang_districts_gcj02.geojson"
DIVISIONS_FILE = "shenyang_admin_divisions_nbs2023.csv"

SHENHE, DADONG = "210103", "210104"
URBAN = ("210102", "210103", "210104", "210105", "210106")  # whole outline is built up
SUBURBAN = ("210111", "210112", "210113", "210114")  # 苏家屯 浑南 沈北 于洪
DEMO_DISTRICTS = (SHENHE, DADONG)

# Figures from the articles in the project's seeds.
GRID_TOTALS = {SHENHE: 1439, DADONG: 1360}  # "实名制编入1439个网格"; "划分设置1360个网格"
# Dadong: "75.5万大东人". Shenhe: no article figure; 700,000 is an assumption of the same order.
RESIDENT_TOTALS = {DADONG: 755_000, SHENHE: 700_000}


@cache
def districts_wgs84(root: Path = GEODATA) -> gpd.GeoDataFrame:
    """All 13 real district outlines converted from GCJ-02 to WGS84: code, name, geometry."""
    raw = gpd.read_file(root / DISTRICTS_FILE)
    geoms = shapely.transform(raw.geometry.to_numpy(), _gcj_to_wgs)
    geoms = shapely.make_valid(geoms)
    frame = gpd.GeoDataFrame(
        {"code": raw["adcode"].astype(str).to_numpy(), "name": raw["name"].to_numpy()},
        geometry=[shapely.multipolygons(shapely.get_parts(g)) for g in geoms],
        crs=f"EPSG:{SRID}",
    )
    return frame.sort_values("code", ignore_index=True)


def _gcj_to_wgs(xy: np.ndarray) -> np.ndarray:
    lon, lat = gcj02_to_wgs84(xy[:, 0], xy[:, 1])
    return np.column_stack([lon, lat])


@cache
def metric_crs(root: Path = GEODATA) -> str:
    """The plane the city is drawn in: the CGCS2000 3-degree Gauss-Kruger zone nearest the
    centre of its real outlines (EPSG:4550 for Shenyang), so lengths measured there, such as the
    streets' ``length_m`` the routing adds up, are true to 0.01 %."""
    minx, _, maxx, _ = districts_wgs84(root).total_bounds
    return gauss_kruger_crs((minx + maxx) / 2)


def districts_metric(root: Path = GEODATA) -> gpd.GeoDataFrame:
    """District outlines in the city's metric CRS (:func:`metric_crs`)."""
    return districts_wgs84(root).to_crs(metric_crs(root))


@cache
def divisions(root: Path = GEODATA) -> pd.DataFrame:
    """NBS 2023 division codes (all columns as str)."""
    return pd.read_csv(root / DIVISIONS_FILE, dtype=str, keep_default_na=False)

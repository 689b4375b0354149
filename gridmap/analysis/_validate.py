"""Input checks shared by the analysis functions: collect every problem, then raise once.

Modelled on osmnx's ``_validate.py``: a caller fixing bad data should see the whole list of what
is wrong in one run, not one problem per attempt.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import geopandas as gpd
import pandas as pd
import pyproj


class AnalysisInputError(ValueError):
    """Input data for an analysis is unusable; ``problems`` lists every reason found."""

    def __init__(self, what: str, problems: Sequence[str]) -> None:
        self.problems: tuple[str, ...] = tuple(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{what}: {len(self.problems)} problem(s):\n{lines}")


class Problems:
    """Accumulates validation messages; ``raise_if_any`` raises them together."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.items: list[str] = []

    def add(self, message: str) -> None:
        """Record one problem."""
        self.items.append(message)

    def raise_if_any(self) -> None:
        """Raise :class:`AnalysisInputError` listing all recorded problems, if there are any."""
        if self.items:
            raise AnalysisInputError(self.what, self.items)


def metric_crs(crs: str | pyproj.CRS, problems: Problems) -> pyproj.CRS | None:
    """Parse ``crs`` and check it is projected in metres and not Mercator; record a problem otherwise."""
    try:
        parsed = pyproj.CRS.from_user_input(crs)
    except pyproj.exceptions.CRSError:
        problems.add(f"target crs {crs!r} is not a valid CRS")
        return None
    if not parsed.is_projected:
        problems.add(f"target crs {parsed.to_string()} is geographic; distances need a projected metric CRS")
        return None
    units = {axis.unit_name for axis in parsed.axis_info}
    if units - {"metre", "meter"}:
        problems.add(f"target crs {parsed.to_string()} has units {sorted(units)}, not metres")
        return None
    method = _projection_method(parsed)
    if _is_normal_mercator(method):
        problems.add(f"target crs {parsed.to_string()} is a Mercator projection ({method}): its "
                     "scale grows with latitude (x1.34 at 41.8°N), so its metres are not ground "
                     "metres; measure in a local Gauss-Kruger or UTM zone (gridmap.crs.gauss_kruger_crs)")
        return None
    return parsed


def _projection_method(crs: pyproj.CRS) -> str:
    """The name of the map projection under ``crs`` ('' if it has none)."""
    base = crs.source_crs if crs.is_bound and crs.source_crs is not None else crs
    operation = base.coordinate_operation
    return operation.method_name if operation is not None else ""


def _is_normal_mercator(method: str) -> bool:
    """Mercator and Web (pseudo-)Mercator; transverse and oblique Mercator are local and fine."""
    name = method.lower()
    return "mercator" in name and "transverse" not in name and "oblique" not in name


def has_crs(frame: gpd.GeoDataFrame | gpd.GeoSeries, name: str, problems: Problems) -> bool:
    """Record a problem if ``frame`` has no CRS (coordinates would be meaningless)."""
    if frame.crs is None:
        problems.add(f"{name} has no CRS; set one (e.g. frame.set_crs('EPSG:4326'))")
        return False
    return True


def columns(frame: pd.DataFrame, name: str, required: Iterable[str], problems: Problems) -> bool:
    """Record a problem naming every required column missing from ``frame``."""
    missing = [c for c in required if c not in frame.columns]
    if missing:
        problems.add(f"{name} lacks column(s) {missing}; it has {list(frame.columns)}")
        return False
    return True


def geometry_types(
    geoms: gpd.GeoSeries, name: str, allowed: tuple[str, ...], problems: Problems, *, allow_missing: bool
) -> bool:
    """Record problems for null/empty geometries (unless allowed) and for disallowed types."""
    ok = True
    missing = geoms.isna() | geoms.is_empty
    if not allow_missing and missing.any():
        problems.add(f"{name} has {int(missing.sum())} null or empty geometries (first at row "
                     f"{_first_label(geoms.index[missing.to_numpy()])})")
        ok = False
    bad = ~missing & ~geoms.geom_type.isin(allowed)
    if bad.any():
        kinds = sorted(set(geoms.geom_type[bad]))
        problems.add(f"{name} has {int(bad.sum())} geometries of type {kinds}; expected {list(allowed)}")
        ok = False
    return ok


def _first_label(index: pd.Index) -> object:
    return index[0] if len(index) else None

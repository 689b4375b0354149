"""A small coverage report built in code (two communities, six buildings, two facilities), for
the report tests that need no database."""

from __future__ import annotations

from typing import Any

from gridmap.reports.document import CoverageReport, Totals

LON, LAT = 123.43, 41.79
D = 0.004  # a community is about 330 m wide here


def _square(x: float, y: float, size: float) -> dict[str, Any]:
    ring = [[x, y], [x + size, y], [x + size, y + size], [x, y + size], [x, y]]
    return {"type": "Polygon", "coordinates": [ring]}


def _community(i: int, name: str, status: str) -> dict[str, Any]:
    x = LON + i * D
    return {"type": "Feature", "geometry": {"type": "MultiPolygon",
                                            "coordinates": [_square(x, LAT, D)["coordinates"]]},
            "properties": {"code": f"21010300100{i}", "name": name, "status": status,
                           "label_lon": x + D / 2, "label_lat": LAT + D / 2}}


def _building(i: int, band: str) -> dict[str, Any]:
    x = LON + 0.0005 + i * 0.0012
    return {"type": "Feature", "geometry": _square(x, LAT + 0.001, 0.0004),
            "properties": {"code": f"B{i}", "name": f"{i + 1}号楼", "band": band,
                           "distance_m": 200.0 * (i + 1)}}


def sample_report() -> CoverageReport:
    """The sample: 2 communities (one a GB 50180 gap), 6 buildings in 3 bands, 2 facilities."""
    bands = ["covered", "covered", "near_miss", "far", "far", "covered"]
    return CoverageReport(
        area_code="210103", area_name="沈河区", facility_type="elderly_care",
        facility_type_name="养老服务设施", circle="15min", circle_name="15分钟生活圈",
        max_distance_m=1000.0, computed_at="2026-11-30 10:00", generated_at="2026-11-30 11:00",
        generated_by="planner1",
        totals=Totals(buildings=6, buildings_covered=3, residents=600, residents_covered=300,
                      elderly=120, elderly_covered=50),
        communities=[_community(0, "文艺路社区", "covered"), _community(1, "万柳塘社区", "gap")],
        buildings=[_building(i, band) for i, band in enumerate(bands)],
        facilities=[{"code": "F1", "name": "文艺路养老站", "lon": LON + 0.001, "lat": LAT + 0.002},
                    {"code": "F2", "name": "万柳塘养老站", "lon": LON + 0.006, "lat": LAT + 0.003}],
        worst=[{"code": "210103001001", "name": "万柳塘社区", "elderly": 70,
                "elderly_covered": 20, "elderly_rate": 20 / 70, "residents_rate": 0.4}],
        audit=[{"code": "210103001001", "name": "万柳塘社区", "status": "gap",
                "residents": 300, "residents_share": 0.4, "elderly": 70, "elderly_covered": 20}],
        sites=[{"rank": 1, "lon": LON + 0.007, "lat": LAT + 0.001, "elderly_gain": 30,
                "community": "万柳塘社区", "street": "万柳塘路"}],
    )

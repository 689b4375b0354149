"""A coverage report gathered from a real run on the test district, drawn as a PDF and as the
offline map (issue 13, planners' reports).

One run (elder-care stations, 15-minute circle) is computed and committed for the module (the
report reads through its own sessions); it is deleted again afterwards.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path

import pypdf
import pytest
from sqlalchemy import Engine, text

from gridmap.access import Principal, Role
from gridmap.coverage.services.compute import compute
from gridmap.db import make_session_factory
from gridmap.errors import Forbidden, InvalidInput
from gridmap.reports import html_map, pdf
from gridmap.reports.services import content

TYPE, CIRCLE = "elder_care_station", "15min"
DISTRICT, OTHER_DISTRICT = "210103", "210104"
PLANNER = Principal(account_id=1, role=Role.PLANNER, area_code=DISTRICT, username="planner1")
NODE_MODULES = Path(__file__).resolve().parents[3] / "node_modules"


@pytest.fixture(scope="module")
def run(engine: Engine) -> Iterator[int]:
    """A committed run of the type and circle; yields its id."""
    report = compute(make_session_factory(engine), TYPE, CIRCLE)
    yield report.run_id
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM coverage_run WHERE id = :r"), {"r": report.run_id})


@pytest.fixture(scope="module")
def community(engine: Engine, run: int) -> str:
    """The community with the most uncovered elderly in the run."""
    with engine.connect() as conn:
        return str(conn.execute(text(
            "SELECT code FROM coverage_area WHERE run_id = :r AND level = 'community' "
            "ORDER BY elderly - elderly_covered DESC, code LIMIT 1"), {"r": run}).scalar_one())


def test_a_community_report_holds_its_buildings_facilities_and_sites(
        engine: Engine, run: int, community: str) -> None:
    area = content.area_of(PLANNER, community)
    report = content.gather(make_session_factory(engine), PLANNER, facility_type=TYPE,
                            circle=CIRCLE, area=area, sites=3, maker="planner1")
    with engine.connect() as conn:
        row = conn.execute(text(
            "SELECT c.name, a.buildings, a.elderly, a.elderly_covered FROM coverage_area a "
            "JOIN community c ON c.code = a.code WHERE a.run_id = :r AND a.code = :c"),
            {"r": run, "c": community}).one()
    assert report.area_name == row.name and report.totals.buildings == row.buildings
    assert (report.totals.elderly, report.totals.elderly_covered) == (row.elderly,
                                                                      row.elderly_covered)
    assert len(report.buildings) == row.buildings
    assert {f["properties"]["band"] for f in report.buildings} <= {"covered", "near_miss", "far"}
    assert [f["properties"]["code"] for f in report.communities] == [community]
    assert 1 <= len(report.sites) <= 3 and report.worst[0]["code"] == community
    assert "养老" in report.facility_type_name or report.facility_type_name

    pages = [p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf.render(report))).pages]
    assert len(pages) == 3 and row.name in pages[0] and "GB 50180" in pages[1]
    page = html_map.build(report, assets_dir=NODE_MODULES)
    assert html_map.external_links(page) == [] and json.dumps(row.name)[1:-1] in page


def test_a_report_stays_inside_the_planners_district(run: int) -> None:
    with pytest.raises(Forbidden):
        content.area_of(PLANNER, OTHER_DISTRICT)
    with pytest.raises(InvalidInput):
        content.area_of(PLANNER, "21010300100100101")
    assert content.area_of(PLANNER, None) == DISTRICT
    with pytest.raises(InvalidInput):
        content.area_of(Principal(account_id=2, role=Role.PLANNER, username="city"), None)

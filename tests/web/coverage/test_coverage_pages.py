"""The coverage pages get the server's limits through the page config, never as copies."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from gridmap.coverage.services.compute import NEAR_MISS_FACTOR
from gridmap.coverage.services.queries import CATCHMENT_MAX_BBOX_M

STATIC = Path(__file__).resolve().parents[3] / "gridmap" / "static" / "js"


def _config(html: str) -> dict[str, Any]:
    found = re.search(r'<script type="application/json" id="gm-page-config">(.*?)</script>', html,
                      re.S)
    assert found is not None
    return dict(json.loads(found.group(1)))


@pytest.mark.parametrize("path", ["/coverage", "/coverage/audit"])
def test_pages_carry_the_limits(planner: Any, path: str) -> None:
    response = planner.get(path)
    assert response.status_code == 200
    limits = _config(response.data.decode())["limits"]
    assert limits["catchmentMaxM"] == CATCHMENT_MAX_BBOX_M
    assert limits["nearMissFactor"] == NEAR_MISS_FACTOR
    assert limits["siteK"] == {"min": 1, "max": 30, "default": 10}
    assert limits["areaCodeMaxLength"] == 15 and limits["minShare"] == 0.9


def test_templates_render_the_limits_they_are_given(planner: Any) -> None:
    page = planner.get("/coverage").data.decode()
    assert re.search(r'id="gcv-site-k"[^>]*min="1"\s+max="30"', page)
    audit = planner.get("/coverage/audit").data.decode()
    # (The area is a name picked from a list now, so no code length is rendered.)
    assert 'value="0.9"' in audit


def test_scripts_copy_no_server_number() -> None:
    script = (STATIC / "coverage.js").read_text(encoding="utf-8")
    assert "5000" not in script and not re.search(r"\*\s*1\.5\b", script)
    assert "LIMITS.catchmentMaxM" in script and "LIMITS.nearMissFactor" in script


def test_planning_tools_show_for_planners_only(planner: Any, client_as: Any) -> None:
    page = planner.get("/coverage").data.decode()
    config = _config(page)
    assert 'id="gcv-plan"' in page and config["planner"] is True and config["area"] == "210103"
    officer = client_as("data_officer").get("/coverage").data.decode()
    assert 'id="gcv-plan"' not in officer and "GB 50180" in officer
    assert _config(officer)["planner"] is False and _config(officer)["area"] is None


def test_the_audit_page_starts_in_the_readers_area(planner: Any) -> None:
    page = planner.get("/coverage/audit").data.decode()
    # The picker (by name) starts on the reader's area, which the page hands to the script.
    assert _config(page)["area"] == "210103"
    assert 'id="gca-area"' in page and 'pattern="' not in page

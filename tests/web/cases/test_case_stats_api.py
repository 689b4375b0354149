"""The statistics API and dashboard page over HTTP (the figures themselves are tested on known
cases in tests/db/cases/test_case_stats.py; who may see which area in test_case_scope.py)."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def planner(api, login):  # type: ignore[no-untyped-def]
    """The test client signed in as the test district's planner (statistics, no case rows)."""
    api.environ_base["HTTP_AUTHORIZATION"] = login("planner", area="210103")["Authorization"]
    return api


@pytest.mark.parametrize("qs", ["level=x&code=1", "level=district&code=abc",
                                "level=district&code=210103&from=2020-1", "level=grid&code=210103"])
def test_api_rejects_bad_parameters(planner: Any, qs: str) -> None:
    response = planner.get(f"/api/cases/stats?{qs}")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "invalid_input"


def test_api_and_page(planner: Any) -> None:
    response = planner.get("/api/cases/stats?level=district&code=210103&from=2020-01&to=2020-02")
    assert response.status_code == 200
    body = response.get_json()
    assert body["unit"]["name"] == "沈河区" and [m["month"] for m in body["months"]] == ["2020-01", "2020-02"]
    assert planner.get("/api/cases/stats?level=district&code=999999").status_code == 403  # not theirs
    page = planner.get("/cases/dashboard")
    assert page.status_code == 200 and "统计分析" in page.get_data(as_text=True)
    assert planner.get("/cases/dashboard?lang=en").get_data(as_text=True).count("Statistics") >= 1


def test_an_unknown_unit_in_the_area_is_404(api, login) -> None:  # type: ignore[no-untyped-def]
    city = login("planner")  # the whole city: the unit is theirs to ask for, and does not exist
    assert api.get("/api/cases/stats?level=district&code=999999", headers=city).status_code == 404

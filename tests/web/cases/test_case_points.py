"""The case map's points API: bbox, the board's filters, the overdue flag, the cap, and 400s.

Each test runs the app's sessions inside one connection whose transaction is rolled back at the
end (fixture ``tx`` in tests/web/conftest.py), so the cases filed here never outlive the test. Other
cases may exist in the shared test database, so assertions are about this test's cases only.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import text

from gridmap.cases.repositories import points as case_points

URL = "/api/cases/points"


@pytest.fixture
def api(api, login):  # type: ignore[no-untyped-def]
    """The test client signed in as the district centre over every test grid (沈河区)."""
    api.environ_base["HTTP_AUTHORIZATION"] = login("district_centre", area="210103")["Authorization"]
    return api


def _file(api: Any, grid: dict[str, Any], category: str = "heating") -> int:
    response = api.post("/api/cases", json={
        "category": category, "description": "案件地图测试", "lon": grid["lon"],
        "lat": grid["lat"], "grid_code": grid["code"], "confirm_new": True,
        "client_token": str(uuid.uuid4())})
    assert response.status_code == 201, response.data[:400]
    return int(response.get_json()["case_id"])


def _bbox(grid: dict[str, Any], pad: float = 0.0005) -> str:
    return f"{grid['lon'] - pad},{grid['lat'] - pad},{grid['lon'] + pad},{grid['lat'] + pad}"


def _points(api: Any, **args: str) -> dict[str, Any]:
    response = api.get(URL, query_string=args)
    assert response.status_code == 200, response.data[:400]
    body = response.get_json()
    assert set(body) == {"points", "truncated"}
    return dict(body)


def _ids(body: dict[str, Any]) -> set[int]:
    return {p[0] for p in body["points"]}


def test_points_are_compact_rows_and_the_bbox_filters(api, grids) -> None:  # type: ignore[no-untyped-def]
    ids = [_file(api, g) for g in grids]
    body = _points(api, bbox=_bbox(grids[0]))
    assert ids[0] in _ids(body) and not _ids(body) & set(ids[1:])
    row = next(p for p in body["points"] if p[0] == ids[0])
    assert row == [ids[0], pytest.approx(grids[0]["lon"], abs=1e-6),
                   pytest.approx(grids[0]["lat"], abs=1e-6), "reported", 0]
    assert body["truncated"] is False
    # Without a bbox: the whole filtered set.
    assert set(ids) <= _ids(_points(api))


def test_board_filters_apply(api, grids) -> None:  # type: ignore[no-untyped-def]
    heating, water = _file(api, grids[0], "heating"), _file(api, grids[1], "water_supply")
    assert heating in _ids(_points(api, state="reported,dispatched"))
    assert not _ids(_points(api, state="closed")) & {heating, water}
    by_category = _ids(_points(api, category="water_supply"))
    assert water in by_category and heating not in by_category
    by_grid = _ids(_points(api, grid=grids[1]["code"]))
    assert water in by_grid and heating not in by_grid
    assert not _ids(_points(api, **{"from": "2000-01-01", "to": "2000-01-02"})) & {heating, water}


def test_overdue_flag_and_filter(api, tx, grids) -> None:  # type: ignore[no-untyped-def]
    late, fresh = _file(api, grids[0]), _file(api, grids[1])
    tx.execute(text("""UPDATE "case" SET resolve_by = now() - interval '1 day' WHERE id = :id"""),
               {"id": late})
    flags = {p[0]: p[4] for p in _points(api)["points"]}
    assert flags[late] == 1 and flags[fresh] == 0
    overdue = _ids(_points(api, overdue="1"))
    assert late in overdue and fresh not in overdue


def test_truncated_at_the_cap_newest_first(api, grids, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    ids = [_file(api, grids[0]) for _ in range(3)]
    monkeypatch.setattr(case_points, "POINT_CAP", 2)
    body = _points(api, bbox=_bbox(grids[0]), category="heating")
    assert body["truncated"] is True
    assert [p[0] for p in body["points"]] == sorted(ids, reverse=True)[:2]
    monkeypatch.setattr(case_points, "POINT_CAP", 20_000)
    assert _points(api, bbox=_bbox(grids[0]), category="heating")["truncated"] is False


@pytest.mark.parametrize(("args", "fragment"), [
    ({"bbox": "1,2,3"}, "bbox"),
    ({"bbox": "a,b,c,d"}, "bbox"),
    ({"bbox": "124,42,123,41"}, "bbox"),
    ({"bbox": "123,41,200,42"}, ""),
    ({"state": "bogus"}, "bogus"),
    ({"grid": "123"}, "grid"),
    ({"from": "yesterday"}, "from"),
    ({"category": "DROP TABLE"}, "category"),
])
def test_bad_parameters_are_400_with_a_message(api, args, fragment) -> None:  # type: ignore[no-untyped-def]
    response = api.get(URL, query_string=args)
    assert response.status_code == 400, response.data[:400]
    error = response.get_json()["error"]
    assert error["code"] == "invalid_input"
    assert fragment in error["message"] and error["message"]

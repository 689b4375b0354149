"""The case API over HTTP: intake's status codes, workflow actions, the board's CSV and GeoJSON
exports, and the /media path guard, each as a signed-in person (bearer headers from ``crew`` in
tests/web/cases/conftest.py). Scope, privacy and refusals by role are in test_case_scope.py.

Each test runs the app's sessions in one rolled-back transaction (``api``/``tx`` in
tests/web/conftest.py); photos go to a temporary media folder (``media``), so nothing outlives a
test. Other cases may exist in the shared database, so assertions are about this test's cases.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import text

from gridmap.cases.services.board import CSV_COLUMNS


def _form(grid: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"category": "heating", "description": "暖气不热", "lon": grid["lon"], "lat": grid["lat"],
            "grid_code": grid["code"], **extra}


def _post(api: Any, who: dict[str, str], body: dict[str, Any]) -> Any:
    return api.post("/api/cases", json=body, headers=who)


def _error(response: Any, status: int, code: str) -> str:
    assert response.status_code == status, response.data[:400]
    error = response.get_json()["error"]
    assert error["code"] == code and error["message"]
    return str(error["message"])


@pytest.fixture
def grid(grids: list[dict[str, Any]]) -> dict[str, Any]:
    return grids[1]


@pytest.fixture
def people(crew, grid: dict[str, Any]) -> dict[str, dict[str, str]]:  # type: ignore[no-untyped-def]
    """Headers of the grid's worker, its heating staff and the staff over it."""
    return dict(crew(grid["code"]))


def _created(api: Any, grid: dict[str, Any], people: dict[str, dict[str, str]], *,
             by: str = "worker", **extra: Any) -> int:
    response = _post(api, people[by], _form(grid, confirm_new=True, **extra))
    assert response.status_code == 201, response.data[:400]
    body = response.get_json()
    assert body["status"] == "created" and isinstance(body["case_id"], int)
    return int(body["case_id"])


# --- POST /api/cases -------------------------------------------------------------------------

def test_created_is_201_and_a_repeated_token_200_with_the_same_case(api, grid, people) -> None:
    token = str(uuid.uuid4())
    case_id = _created(api, grid, people, client_token=token)
    again = _post(api, people["worker"], _form(grid, confirm_new=True, client_token=token))
    assert again.status_code == 200
    assert again.get_json() == {"status": "existing", "case_id": case_id}


def test_the_reporter_is_the_signed_in_person(api, tx, grid, people) -> None:
    case_id = _created(api, grid, people, by="community")
    created_by, actor = tx.execute(text("""
        SELECT c.created_by, e.actor_id FROM "case" c JOIN case_event e ON e.case_id = c.id
        WHERE c.id = :id"""), {"id": case_id}).one()
    account_person = tx.execute(text(
        "SELECT person_id FROM account WHERE area_code = :a AND role = 'community_staff'"),
        {"a": grid["code"][:12]}).scalar_one()
    assert created_by == actor == account_person


def test_a_point_between_grids_is_409_choose_grid_for_staff_over_both(api, crew, edge) -> None:
    response = _post(api, crew(edge["a"])["centre"], {
        "category": "heating", "description": "暖气不热", "lon": edge["lon"], "lat": edge["lat"]})
    assert response.status_code == 409, response.data[:400]
    body = response.get_json()
    assert body["status"] == "choose_grid" and body["case_id"] is None
    assert {edge["a"], edge["b"]} <= {c["code"] for c in body["candidates"]}


def test_a_grid_worker_at_the_edge_is_offered_only_their_own_grid(api, tx, crew, edge) -> None:
    """On the boundary each worker is asked to confirm their own grid (never offered the
    neighbour's), and the case is filed there."""
    body = {"category": "heating", "description": "暖气不热", "lon": edge["lon"],
            "lat": edge["lat"], "confirm_new": True}
    for mine in (edge["a"], edge["b"]):
        worker = crew(mine)["worker"]
        response = _post(api, worker, body)
        if response.status_code == 409:  # the point is not exactly inside their grid: confirm
            assert [c["code"] for c in response.get_json()["candidates"]] == [mine]
            response = _post(api, worker, {**body, "grid_code": mine})
        assert response.status_code == 201, response.data[:400]
        grid = tx.execute(text('SELECT grid_code FROM "case" WHERE id = :i'),
                          {"i": response.get_json()["case_id"]}).scalar_one()
        assert grid == mine
    refused = _post(api, crew(edge["a"])["worker"], {**body, "grid_code": edge["b"]})
    assert "do not work in that grid" in _error(refused, 403, "forbidden")


def test_possible_duplicates_409_then_linked_200(api, grid, people) -> None:
    first = _created(api, grid, people)
    shown = _post(api, people["worker"], _form(grid))
    assert shown.status_code == 409, shown.data[:400]
    body = shown.get_json()
    assert body["status"] == "possible_duplicates" and body["case_id"] is None
    assert first in [c["id"] for c in body["candidates"]]
    linked = _post(api, people["worker"], _form(grid, link_to=first, description="楼上也不热"))
    assert linked.status_code == 200
    assert linked.get_json() == {"status": "linked", "case_id": first}


def test_linking_into_a_rated_case_is_400_and_it_is_not_offered(api, grid, people) -> None:
    case_id = _created(api, grid, people)
    for person, action, params in [("worker", "dispatch", {"department": "heating"}),
                                   ("heating", "start", {}), ("heating", "resolve", {"note": "修好"}),
                                   ("community", "verify", {}),
                                   ("worker", "rate", {"rating": "satisfied"})]:
        _act(api, case_id, people[person], action, **params)
    shown = _post(api, people["worker"], _form(grid))
    offered = shown.get_json().get("candidates", []) if shown.status_code == 409 else []
    assert case_id not in [c["id"] for c in offered]
    if shown.status_code == 201:  # nothing else nearby: filed as a case of its own
        assert shown.get_json()["status"] == "created"
    message = _error(_post(api, people["worker"], _form(grid, link_to=case_id)), 400,
                     "invalid_input")
    assert "已评价" in message and "file a new case" in message


@pytest.mark.parametrize(("change", "words"), [
    ({"category": "unicorns"}, "未知的案件类别"),
    ({"description": " "}, "请填写问题描述"),
    ({"lon": "east"}, "lon"),
    ({"crs": "mars"}, "坐标系"),
])
def test_bad_input_is_400_with_a_message(api, grid, people, change, words) -> None:
    message = _error(_post(api, people["worker"], _form(grid, confirm_new=True, **change)), 400,
                     "invalid_input")
    assert words in message


def test_actor_id_is_ignored_the_signed_in_person_acts(api, tx, grid, people, grids) -> None:
    """An ``actor_id`` naming someone else changes nothing: the account is the reporter."""
    other = tx.execute(text("SELECT person_id FROM grid_member WHERE grid_code = :g"),
                       {"g": grids[0]["code"]}).scalar_one()
    case_id = _created(api, grid, people, actor_id=other)
    created_by = tx.execute(text('SELECT created_by FROM "case" WHERE id = :i'),
                            {"i": case_id}).scalar_one()
    assert created_by != other


# --- POST /api/cases/<id>/actions ------------------------------------------------------------

def _act(api: Any, case_id: int, who: dict[str, str], action: str, *, version: int | None = None,
         **params: Any) -> dict[str, Any]:
    response = _try(api, case_id, who, action, version=version, **params)
    assert response.status_code == 200, response.data[:400]
    return dict(response.get_json())


def _try(api: Any, case_id: int, who: dict[str, str], action: str, *, version: int | None = None,
         **params: Any) -> Any:
    if version is None:
        version = api.get(f"/api/cases/{case_id}", headers=who).get_json()["version"]
    return api.post(f"/api/cases/{case_id}/actions", headers=who,
                    json={"action": action, "version": version, **params})


def test_an_action_answers_200_with_the_new_state(api, grid, people) -> None:
    case_id = _created(api, grid, people)
    body = _act(api, case_id, people["worker"], "dispatch", version=1, department="heating")
    assert (body["id"], body["state"], body["version"]) == (case_id, "dispatched", 2)
    assert body["owner_department"] == "heating" and "start" not in body["allowed_actions"]
    assert "start" in api.get(f"/api/cases/{case_id}",
                              headers=people["heating"]).get_json()["allowed_actions"]


def test_a_stale_version_is_409(api, grid, people) -> None:
    case_id = _created(api, grid, people)
    _act(api, case_id, people["worker"], "dispatch", version=1, department="heating")
    stale = _try(api, case_id, people["community"], "cancel", version=1, reason="invalid")
    assert "已被他人更新" in _error(stale, 409, "conflict")
    assert api.get(f"/api/cases/{case_id}", headers=people["worker"]).get_json()["state"] == \
        "dispatched"


def test_a_person_who_may_not_act_is_403(api, grid, people) -> None:
    case_id = _created(api, grid, people)
    _act(api, case_id, people["worker"], "dispatch", version=1, department="heating")
    refused = _try(api, case_id, people["heating"], "cancel", reason="invalid")
    assert "may cancel" in _error(refused, 403, "forbidden")


def test_an_unknown_action_or_a_missing_version_is_400(api, grid, people) -> None:
    case_id = _created(api, grid, people)
    assert "unknown action" in _error(_try(api, case_id, people["worker"], "teleport", version=1),
                                      400, "invalid_input")
    missing = api.post(f"/api/cases/{case_id}/actions", headers=people["worker"],
                       json={"action": "dispatch"})
    assert "version" in _error(missing, 400, "invalid_input")


# --- exports ---------------------------------------------------------------------------------

FORMULA = "=HYPERLINK(\"http://example.invalid\",\"点我\")"


def test_csv_export_is_filtered_masked_and_formula_safe(api, crew, grid, people, grids) -> None:
    ours = _created(api, grid, people, description=FORMULA, reporter_phone="13812345678")
    _created(api, grids[0], crew(grids[0]["code"]))  # another grid: filtered out
    response = api.get("/api/cases.csv", query_string={"grid": grid["code"]},
                       headers=people["centre"])
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    raw = response.get_data(as_text=True)
    assert raw.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(raw[1:])))
    assert rows and list(rows[0]) == list(CSV_COLUMNS)
    assert {r["grid_code"] for r in rows} == {grid["code"]}  # filtered
    mine = next(r for r in rows if r["id"] == str(ours))
    assert mine["description"] == "'" + FORMULA  # shown as text, never run as a formula
    assert mine["reporter_phone"] == "138****5678"
    assert "13812345678" not in raw
    assert response.headers["Cache-Control"] == "private, no-store"


def test_geojson_export_is_valid_filtered_and_masked(api, grid, people) -> None:
    ours = _created(api, grid, people, reporter_phone="13812345678")
    response = api.get("/api/cases.geojson", query_string={"grid": grid["code"]},
                       headers=people["worker"])
    assert response.status_code == 200 and response.mimetype == "application/geo+json"
    body = json.loads(response.get_data(as_text=True))
    assert body["type"] == "FeatureCollection"
    assert body["numberReturned"] == len(body["features"]) >= 1
    for f in body["features"]:
        assert f["type"] == "Feature" and f["geometry"]["type"] == "Point"
        assert f["id"] == f["properties"]["id"] and f["properties"]["grid_code"] == grid["code"]
        phone = f["properties"]["reporter_phone"]
        assert "lon" not in f["properties"] and (phone == "" or "*" in phone)
    mine = next(f for f in body["features"] if f["id"] == ours)
    assert mine["geometry"]["coordinates"] == pytest.approx([grid["lon"], grid["lat"]], abs=1e-9)
    assert mine["properties"]["reporter_phone"] == "138****5678"
    assert mine["properties"]["state"] == "reported" and mine["properties"]["overdue"] is False


def test_exports_refuse_bad_filters(api, people) -> None:
    for url in ("/api/cases.csv", "/api/cases.geojson"):
        answer = api.get(url, query_string={"grid": "123"}, headers=people["centre"])
        assert "grid" in _error(answer, 400, "invalid_input")


# --- /media ----------------------------------------------------------------------------------

def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (20, 120, 200)).save(out, "PNG")
    return out.getvalue()


def test_a_stored_photo_is_served(api, grid, people, media) -> None:
    form = {k: str(v) for k, v in _form(grid, confirm_new="true").items()}
    form["photos"] = (io.BytesIO(_png()), "a.png")  # type: ignore[assignment]
    response = api.post("/api/cases", data=form, content_type="multipart/form-data",
                        headers=people["worker"])
    assert response.status_code == 201, response.data[:400]
    photo = api.get(f"/api/cases/{response.get_json()['case_id']}",
                    headers=people["worker"]).get_json()["photos"][0]
    served = {}
    for url in (photo["url"], photo["thumb_url"]):
        answer = api.get(url, headers=people["worker"])
        served[url] = (answer.status_code, answer.mimetype, answer.get_data())
        answer.close()  # a file response holds the file open until closed
    assert served[photo["url"]][:2] == (200, "image/png")
    # Re-encoded without metadata: the same pixels, not necessarily the same bytes.
    with Image.open(io.BytesIO(served[photo["url"]][2])) as stored:
        assert stored.tobytes() == Image.open(io.BytesIO(_png())).tobytes()
    assert served[photo["thumb_url"]][:2] == (200, "image/jpeg")


@pytest.mark.parametrize("path", [
    "cases/../secret.txt", "cases/1/../../secret.txt", "secret.txt", "other/secret.txt",
    "%2Fetc%2Fpasswd", "cases/%2E%2E/secret.txt",
])
def test_media_serves_nothing_outside_its_cases_folder(api, login, media, path) -> None:
    (media / "secret.txt").write_text("not for you")
    (media / "other").mkdir()
    (media / "other" / "secret.txt").write_text("not for you")
    response = api.get(f"/media/{path}", follow_redirects=True, headers=login("admin"))
    status, data = response.status_code, response.get_data()
    response.close()
    assert status == 404 and b"not for you" not in data

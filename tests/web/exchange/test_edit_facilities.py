"""Editing facilities through the API: add, move, update, retire — checked, kept inside one's
territory, and each recorded with who and what it was before and after."""

from __future__ import annotations

from collections.abc import Callable

from flask.testing import FlaskClient
from sqlalchemy import Connection, text

from gridmap import crs as datums


def _inside(tx: Connection) -> tuple[str, float, float]:
    code, x, y = tx.execute(text(
        "SELECT code, ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) "
        "FROM community ORDER BY code LIMIT 1")).one()
    return str(code), float(x), float(y)


def test_add_move_update_retire_each_recorded(api: FlaskClient, tx: Connection,
                                              login: Callable[..., dict[str, str]]) -> None:
    community, x, y = _inside(tx)
    officer = login("data_officer", area=community[:6])
    added = api.post("/api/edits/facilities", headers=officer, json={
        "type": "elder_care_station", "name": "新建养老站", "capacity": 20, "lon": x, "lat": y})
    assert added.status_code == 201, added.get_json()
    facility = added.get_json()["facility"]
    code = facility["code"]
    assert code.startswith(f"F{community}-") and facility["community_code"] == community
    # Moved by a position picked on Amap (GCJ-02): stored in WGS84, to the centimetre.
    gx, gy = datums.wgs84_to_gcj02(x + 0.0003, y)
    moved = api.post(f"/api/edits/facilities/{code}", headers=officer, json={
        "op": "move", "lon": float(gx), "lat": float(gy), "crs": "gcj02"}).get_json()["facility"]
    assert abs(moved["lon"] - (x + 0.0003)) < 1e-7 and abs(moved["lat"] - y) < 1e-7
    updated = api.post(f"/api/edits/facilities/{code}", headers=officer, json={
        "op": "update", "name": "改名养老站", "hours": "08:00-18:00"}).get_json()["facility"]
    assert (updated["name"], updated["hours"], updated["capacity"]) == ("改名养老站",
                                                                       "08:00-18:00", 20)
    retired = api.post(f"/api/edits/facilities/{code}", headers=officer, json={"op": "retire"})
    assert retired.status_code == 200
    assert tx.execute(text("SELECT count(*) FROM facility WHERE code = :c"),
                      {"c": code}).scalar_one() == 0
    history = api.get(f"/api/edits/facilities/changes?code={code}",
                      headers=officer).get_json()["changes"]
    assert [c["op"] for c in history] == ["retire", "update", "move", "add"]
    assert history[0]["before"]["name"] == "改名养老站" and history[0]["after"] is None
    assert history[-1]["before"] is None and history[-1]["after"]["name"] == "新建养老站"
    assert {c["changed_by"] for c in history} == {history[0]["changed_by"]}
    # The coverage of elder-care stations now rests on changed data.
    assert tx.execute(text("SELECT version FROM data_version WHERE layer = 'facilities' "
                           "AND key = 'elder_care_station'")).scalar_one() >= 4


def test_edits_stay_inside_the_territory_and_the_rules(api: FlaskClient, tx: Connection,
                                                       login: Callable[..., dict[str, str]]
                                                       ) -> None:
    community, x, y = _inside(tx)
    elsewhere = login("data_officer", area="210104")
    before = tx.execute(text("SELECT count(*) FROM data_change")).scalar_one()
    for body, status in (
            ({"type": "elder_care_station", "name": "x", "lon": x, "lat": y}, 403),
            ({"type": "spaceport", "name": "x", "lon": x, "lat": y}, 400),
            ({"type": "elder_care_station", "name": "x", "lon": 116.4, "lat": 39.9}, 400),
            ({"type": "elder_care_station", "name": " ", "lon": x, "lat": y}, 400),
            ({"type": "elder_care_station", "name": "x", "lon": x}, 400)):
        who = elsewhere if status == 403 else login("admin")
        answer = api.post("/api/edits/facilities", headers=who, json=body)
        assert answer.status_code == status, (body, answer.get_json())
        assert answer.get_json()["error"]["message"]
    code = tx.execute(text("SELECT code FROM facility WHERE community_code = :c LIMIT 1"),
                      {"c": community}).scalar_one()
    assert api.post(f"/api/edits/facilities/{code}", headers=elsewhere,
                    json={"op": "retire"}).status_code == 404
    assert api.post(f"/api/edits/facilities/{code}", headers=login("planner"),
                    json={"op": "retire"}).status_code == 403
    assert api.post("/api/edits/facilities/NO-SUCH", headers=login("admin"),
                    json={"op": "update", "name": "x"}).status_code == 404
    assert api.post(f"/api/edits/facilities/{code}", headers=login("admin"),
                    json={"op": "fly"}).status_code == 400
    assert tx.execute(text("SELECT count(*) FROM data_change")).scalar_one() == before

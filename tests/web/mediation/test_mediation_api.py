"""The mediation API on the real PostGIS: the privacy matrix (no unmasked party for other
communities' staff, grid workers, department staff who do not mediate, planners, data officers,
administrators or the public), logged reveals, the steps all or nothing with 409 for a step the
state does not allow, referrals up the three levels, disputes from a case, and the counts."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Connection, text

from gridmap.accounts.credentials import digest

PUBLIC, WORKER, OTHER_WORKER, COMMUNITY, SUBDISTRICT, DISTRICT = (
    "public", "worker", "other_worker", "community", "subdistrict", "district")
OTHER_COMMUNITY, DEPARTMENT, MEDIATOR, PLANNER, DATA_OFFICER, ADMIN = (
    "other_community", "department", "mediator", "planner", "data_officer", "admin")
PRINCIPALS = (PUBLIC, WORKER, OTHER_WORKER, COMMUNITY, SUBDISTRICT, DISTRICT, OTHER_COMMUNITY,
              DEPARTMENT, MEDIATOR, PLANNER, DATA_OFFICER, ADMIN)
SEES = {COMMUNITY, SUBDISTRICT, DISTRICT, MEDIATOR}
"""Who sees the dispute's parties unmasked (written out, not computed)."""
COUNTS_ONLY = {PLANNER, DATA_OFFICER, ADMIN}


@dataclass
class World:
    """A community point with one dispute, the points above it, and every principal."""

    community: str = ""
    points: dict[str, int] = field(default_factory=dict)
    dispute: int = 0
    names: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    addresses: list[str] = field(default_factory=list)
    headers: dict[str, dict[str, str]] = field(default_factory=dict)
    usernames: dict[str, str] = field(default_factory=dict)
    grid: dict[str, Any] = field(default_factory=dict)


def _username(tx: Connection, headers: dict[str, str]) -> str:
    secret = headers["Authorization"].removeprefix("Bearer ")
    return str(tx.execute(text("SELECT a.username FROM api_token t JOIN account a ON "
                               "a.id = t.account_id WHERE t.digest = :d"),
                          {"d": digest(secret)}).scalar_one())


def _pick(tx: Connection) -> tuple[dict[str, Any], dict[str, Any]]:
    rows = tx.execute(text("""
        SELECT DISTINCT ON (left(m.grid_code, 9)) m.grid_code, m.person_id,
               ST_X(ST_PointOnSurface(g.geom)) AS lon, ST_Y(ST_PointOnSurface(g.geom)) AS lat
        FROM grid_member m JOIN grid g ON g.code = m.grid_code
        WHERE m.role = 'grid_worker'
        ORDER BY left(m.grid_code, 9), m.grid_code LIMIT 2""")).mappings().all()
    return dict(rows[0]), dict(rows[1])


def _points(tx: Connection, community: str) -> dict[str, int]:
    rows = tx.execute(text("SELECT level, facility_id FROM mediation_point WHERE area_code IN "
                           "(:c, :s, :d)"), {"c": community, "s": community[:9],
                                             "d": community[:6]}).all()
    return {str(level): int(point) for level, point in rows}


def new_dispute(api: FlaskClient, w: World, headers: dict[str, str], **extra: Any) -> Any:
    tag = uuid.uuid4().hex[:8]
    names = [f"申请{tag}", f"被申{tag}"]
    digits = str(uuid.uuid4().int)
    phones = [f"1370{digits[:7]}", f"1590{digits[7:14]}"]
    addresses = [f"和睦里{tag}号楼301", f"和睦里{tag}号楼401"]
    body = {"kind": "neighbour", "summary": f"楼上漏水 {tag}",
            "party_role": ["applicant", "respondent"], "party_name": names,
            "party_phone": phones, "party_address": addresses, **extra}
    response = api.post(f"/api/mediation/points/{w.points['community']}/disputes",
                        headers=headers, json=body)
    return response, names, phones, addresses


@pytest.fixture
def world(api: FlaskClient, tx: Connection, login: Callable[..., dict[str, str]]) -> World:
    a, b = _pick(tx)
    w = World(community=a["grid_code"][:12], grid=a)
    w.points = _points(tx, w.community)
    assert set(w.points) == {"community", "subdistrict", "district"}
    other = b["grid_code"][:12]
    w.headers = {
        PUBLIC: {}, WORKER: login("grid_worker", person_id=a["person_id"]),
        OTHER_WORKER: login("grid_worker", person_id=b["person_id"]),
        COMMUNITY: login("community_staff", area=w.community),
        SUBDISTRICT: login("subdistrict_staff", area=w.community[:9]),
        DISTRICT: login("district_centre", area=w.community[:6]),
        OTHER_COMMUNITY: login("community_staff", area=other),
        DEPARTMENT: login("department_staff", department="housing"),
        MEDIATOR: login("department_staff", department="housing"),
        PLANNER: login("planner", area=w.community[:6]),
        DATA_OFFICER: login("data_officer", area=w.community[:6]),
        ADMIN: login("admin"),
    }
    w.usernames = {who: _username(tx, h) for who, h in w.headers.items() if h}
    response, w.names, w.phones, w.addresses = new_dispute(
        api, w, w.headers[COMMUNITY], mediators=[w.usernames[MEDIATOR]])
    assert response.status_code == 201, response.get_json()
    w.dispute = response.get_json()["id"]
    return w


def _reads(w: World) -> dict[str, str]:
    return {"list": f"/api/mediation/points/{w.points['community']}/disputes",
            "detail": f"/api/mediation/disputes/{w.dispute}",
            "points": f"/api/mediation/points?community={w.community}",
            "counts": f"/api/mediation/counts?community={w.community}",
            "reference": "/api/mediation/reference"}


def _expected(read: str, who: str) -> int:
    if read in ("counts", "reference"):
        return 200
    if who == PUBLIC:
        return 401
    return 403 if who in COUNTS_ONLY else 200


def test_privacy_matrix_no_unmasked_party_outside_the_point_and_its_mediators(
        api: FlaskClient, world: World) -> None:
    failures = []
    secrets = [*world.names, *world.phones, *world.addresses]
    for read, url in _reads(world).items():
        for who in PRINCIPALS:
            response = api.get(url, headers=world.headers[who])
            body = response.get_data(as_text=True)
            if response.status_code != _expected(read, who):
                failures.append(f"{who} {read}: {response.status_code} {body[:160]!r}")
            leaked = [s for s in secrets if s in body or s in re.sub(r"\D", "", body)]
            sees = who in SEES and read in ("list", "detail")
            if sees and len(leaked) != len(secrets):
                failures.append(f"{who} {read} should see every party: {leaked}")
            if not sees and leaked:
                failures.append(f"LEAK {who} {read}: {leaked}")
            if response.status_code == 200 and read == "detail" and not sees:
                answer = response.get_json()
                if answer["summary"] is not None or not answer["masked"]:
                    failures.append(f"{who} detail: free text or unmasked flag shown")
    assert not failures, "\n".join(failures)


def test_masked_parties_keep_their_shape(api: FlaskClient, world: World) -> None:
    answer = api.get(_reads(world)["detail"], headers=world.headers[WORKER]).get_json()
    assert answer["masked"] is True and answer["actions"] == []
    first = answer["parties"][0]
    assert first["role"] == "applicant" and first["name"] == world.names[0][0] + "***"
    assert re.fullmatch(r"137\*{4}\d{4}", first["phone"]), first["phone"]


def test_every_reveal_is_logged_and_masked_views_are_not(api: FlaskClient, world: World,
                                                         tx: Connection) -> None:
    def logged() -> int:
        return int(tx.execute(text("SELECT count(*) FROM audit_log WHERE action = "
                                   "'dispute_parties_viewed'")).scalar_one())

    before = logged()
    for who in (COMMUNITY, MEDIATOR):
        assert api.get(_reads(world)["detail"], headers=world.headers[who]).status_code == 200
    assert api.get(_reads(world)["list"], headers=world.headers[SUBDISTRICT]).status_code == 200
    assert logged() == before + 3
    row = tx.execute(text("SELECT target_kind, target_id FROM audit_log WHERE action = "
                          "'dispute_parties_viewed' ORDER BY id DESC LIMIT 1")).one()
    assert tuple(row) == ("mediation_point", str(world.points["community"]))
    for who in (WORKER, OTHER_COMMUNITY, DEPARTMENT):
        assert api.get(_reads(world)["detail"], headers=world.headers[who]).status_code == 200
        assert api.get(_reads(world)["list"], headers=world.headers[who]).status_code == 200
    assert logged() == before + 3


def _step(api: FlaskClient, w: World, who: str, dispute: int | None = None,
          **body: Any) -> Any:
    return api.post(f"/api/mediation/disputes/{dispute or w.dispute}/steps",
                    headers=w.headers[who], json=body)


def _today() -> str:
    from datetime import UTC, datetime

    from gridmap.mediation.rules import city_today

    return city_today(datetime.now(UTC)).isoformat()


def test_session_then_agreement_with_409_for_steps_out_of_turn(api: FlaskClient, world: World,
                                                               tx: Connection) -> None:
    early = _step(api, world, COMMUNITY, action="agree", note="双方和解")
    assert early.status_code == 409, early.get_json()
    assert "accepted" in early.get_json()["error"]["message"]
    assert _step(api, world, WORKER, action="session", note="x", held_on=_today(),
                 present=["调解员甲"]).status_code == 403
    bad = _step(api, world, MEDIATOR, action="session", held_on="2000-01-01", present=[])
    assert bad.status_code == 400
    message = bad.get_json()["error"]["message"]
    assert "held_on" in message and "present" in message and "note" in message
    done = _step(api, world, MEDIATOR, action="session", note="双方陈述", held_on=_today(),
                 present=["调解员甲", "楼长乙"])
    assert done.status_code == 200, done.get_json()
    assert done.get_json()["state"] == "in_mediation"
    assert _step(api, world, MEDIATOR, action="refer_up", note="x").status_code == 403
    agreed = _step(api, world, MEDIATOR, action="agree", note="楼上承担维修费用")
    assert agreed.status_code == 200 and agreed.get_json()["state"] == "agreed"
    assert _step(api, world, COMMUNITY, action="session", note="x", held_on=_today(),
                 present=["甲"]).status_code == 409
    detail = api.get(_reads(world)["detail"], headers=world.headers[COMMUNITY]).get_json()
    assert [e["action"] for e in detail["events"]] == ["create", "session", "agree"]
    assert detail["outcome_note"] == "楼上承担维修费用" and detail["closed_at"]
    assert detail["sessions"][0]["mediators"] == ["调解员甲", "楼长乙"]
    assert detail["actions"] == []


def test_referral_up_the_three_levels(api: FlaskClient, world: World) -> None:
    assert _step(api, world, COMMUNITY, action="refer_up").status_code == 400  # no reason
    up = _step(api, world, COMMUNITY, action="refer_up", note="涉及多个社区")
    assert up.status_code == 200, up.get_json()
    second = up.get_json()["referred_to"]
    mine = api.get(f"/api/mediation/disputes/{second}", headers=world.headers[COMMUNITY])
    answer = mine.get_json()
    assert answer["state"] == "pending" and answer["masked"] is True  # not their point
    assert answer["referred_from"] == world.dispute
    assert _step(api, world, COMMUNITY, second, action="accept").status_code == 403
    assert _step(api, world, SUBDISTRICT, second, action="session", note="x", held_on=_today(),
                 present=["甲"]).status_code == 409  # accept first
    assert _step(api, world, SUBDISTRICT, second, action="accept").status_code == 200
    theirs = api.get(f"/api/mediation/disputes/{second}", headers=world.headers[SUBDISTRICT])
    assert [p["name"] for p in theirs.get_json()["parties"]] == world.names
    third = _step(api, world, SUBDISTRICT, second, action="refer_up", note="重大疑难")
    assert third.status_code == 200
    top = third.get_json()["referred_to"]
    assert _step(api, world, DISTRICT, top, action="accept").status_code == 200
    last = _step(api, world, DISTRICT, top, action="refer_up", note="x")
    assert last.status_code == 409 and "court" in last.get_json()["error"]["message"]
    court = _step(api, world, DISTRICT, top, action="refer_court", note="引导诉讼")
    assert court.get_json()["state"] == "referred_to_court"
    first = api.get(_reads(world)["detail"], headers=world.headers[COMMUNITY]).get_json()
    assert first["state"] == "referred_up" and first["referred_to"] == second


def test_a_step_is_all_or_nothing(api: FlaskClient, world: World, tx: Connection) -> None:
    def counts() -> tuple[int, ...]:
        return tuple(tx.execute(text(
            "SELECT (SELECT count(*) FROM dispute), (SELECT count(*) FROM dispute_event), "
            "(SELECT count(*) FROM dispute_session), (SELECT count(*) FROM dispute_party)")).one())

    before = counts()
    # No point above: the referral is refused after its checks, and nothing is written.
    tx.execute(text("DELETE FROM mediation_point WHERE area_code = :s"),
               {"s": world.community[:9]})
    refused = _step(api, world, COMMUNITY, action="refer_up", note="上交")
    assert refused.status_code == 409, refused.get_json()
    assert counts() == before
    state = tx.execute(text("SELECT state FROM dispute WHERE id = :i"),
                       {"i": world.dispute}).scalar_one()
    assert state == "accepted"
    unknown = _step(api, world, COMMUNITY, action="session", note="x", held_on=_today(),
                    present=["甲"], mediators=["no-such-account"])
    assert unknown.status_code == 400 and counts() == before
    assert _step(api, world, COMMUNITY, action="dance").status_code == 400


def test_accepting_checks_every_field_at_once(api: FlaskClient, world: World) -> None:
    response = api.post(f"/api/mediation/points/{world.points['community']}/disputes",
                        headers=world.headers[COMMUNITY],
                        json={"kind": "no_such", "summary": "", "party_role": ["applicant"],
                              "party_name": ["甲"], "mediators": [world.usernames[PLANNER]]})
    assert response.status_code == 400
    fields = response.get_json()["error"]
    message = fields["message"]
    assert message.index("(") > 0 and re.match(r"^[\u4e00-\u9fff]", message)
    for word in ("unknown kind", "summary", "parties", "mediate"):
        assert word in message, message
    for who, status in ((OTHER_COMMUNITY, 403), (WORKER, 403), (PLANNER, 403), (PUBLIC, 401)):
        got = new_dispute(api, world, world.headers[who])[0].status_code
        assert got in ({status, 403} if who == PUBLIC else {status}), (who, got)
    # A sub-district point needs the community where the dispute arose, inside its area.
    sub = api.post(f"/api/mediation/points/{world.points['subdistrict']}/disputes",
                   headers=world.headers[SUBDISTRICT],
                   json={"kind": "family", "summary": "赡养", "party_role": ["applicant",
                                                                            "respondent"],
                         "party_name": ["甲", "乙"], "community": "210199001001"})
    assert sub.status_code == 400 and "community" in sub.get_json()["error"]["message"]


def test_a_case_becomes_a_dispute_once(api: FlaskClient, world: World) -> None:
    g = world.grid
    filed = api.post("/api/cases", headers=world.headers[WORKER], json={
        "category": "neighbour_dispute", "description": "楼上噪音 转评理说事", "lon": g["lon"],
        "lat": g["lat"], "grid_code": g["grid_code"], "confirm_new": True})
    assert filed.status_code == 201, filed.get_json()
    case_id = filed.get_json()["case_id"]
    response, *_ = new_dispute(api, world, world.headers[COMMUNITY], case_id=case_id)
    assert response.status_code == 201, response.get_json()
    detail = api.get(f"/api/mediation/disputes/{response.get_json()['id']}",
                     headers=world.headers[COMMUNITY]).get_json()
    assert detail["case_id"] == case_id and detail["community_code"] == world.community
    again, *_ = new_dispute(api, world, world.headers[COMMUNITY], case_id=case_id)
    assert again.status_code == 409
    hidden, *_ = new_dispute(api, world, world.headers[COMMUNITY], case_id=2**40)
    assert hidden.status_code == 400 and "case" in hidden.get_json()["error"]["message"]


def test_counts_public_suppressed_staff_exact(api: FlaskClient, world: World) -> None:
    public = api.get(_reads(world)["counts"]).get_json()
    point = next(p for p in public["points"] if p["id"] == world.points["community"])
    assert point["open"] is None and point["month"]["received"] is None  # 1: suppressed
    assert "lon" not in point
    community = next(c for c in public["communities"] if c["code"] == world.community)
    assert community["year"]["received"] is None
    assert all(v is None or v == 0 or v >= 5 for p in public["points"]
               for v in (p["open"], p["year"]["received"], p["year"]["agreed"]))
    staff = api.get(_reads(world)["points"], headers=world.headers[WORKER]).get_json()
    mine = next(p for p in staff["points"] if p["id"] == world.points["community"])
    assert mine["open"] == 1 and mine["month"]["received"] == 1 and mine["lon"]
    assert {p["level"] for p in staff["points"]} == {"community", "subdistrict", "district"}
    assert mine["staff"] is False
    own = api.get(_reads(world)["points"], headers=world.headers[COMMUNITY]).get_json()
    assert next(p for p in own["points"] if p["id"] == world.points["community"])["staff"]


def test_a_point_with_disputes_cannot_be_retired(api: FlaskClient, world: World, tx: Connection,
                                                 login: Callable[..., dict[str, str]]) -> None:
    code = tx.execute(text("SELECT code FROM facility WHERE id = :i"),
                      {"i": world.points["community"]}).scalar_one()
    officer = login("data_officer", area=world.community[:6])
    refused = api.post(f"/api/edits/facilities/{code}", headers=officer, json={"op": "retire"})
    assert refused.status_code == 409, refused.get_json()
    assert tx.execute(text("SELECT count(*) FROM mediation_point WHERE facility_id = :i"),
                      {"i": world.points["community"]}).scalar_one() == 1

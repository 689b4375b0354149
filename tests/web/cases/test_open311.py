"""Open311 GeoReport v2: services, filing and reading requests, open/closed, errors — per the spec.

Each test runs the app's sessions inside one connection whose transaction is rolled back at the
end (requests commit to savepoints), so the cases and append-only events a test files through the
API never outlive it, and no test depends on another's data.
"""

from __future__ import annotations

import threading
import time
import uuid
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from gridmap.cases.privacy import PUBLIC_GRID_DEG
from gridmap.crs import wgs84_to_gcj02

BASE = "/open311/v2"
FULL_WIDTH = str.maketrans("０１２３４５６７８９", "0123456789")
HALF_CELL = PUBLIC_GRID_DEG / 2 + 1e-9  # public points are snapped to this grid
SERVICE_FIELDS = {"service_code", "service_name", "description", "metadata", "type", "keywords",
                  "group"}

REQUEST_FIELDS = {"service_request_id", "status", "status_notes", "service_name", "service_code",
                  "description", "agency_responsible", "service_notice", "requested_datetime",
                  "updated_datetime", "expected_datetime", "address", "address_id", "zipcode",
                  "lat", "long", "media_url"}


CLIENT_NAME = "测试客户端"
_KEY: dict[str, str] = {}
"""The API key of this test's client (made in the test's transaction by :func:`_client_key`)."""


@pytest.fixture(autouse=True)
def _client_key(request: pytest.FixtureRequest) -> None:
    """Every test posts as a client holding a live key, unless it passes ``api_key`` itself."""
    _KEY.clear()
    if "tx" not in request.fixturenames and "api" not in request.fixturenames:
        return
    tx = request.getfixturevalue("tx")
    _KEY["key"] = _new_client(tx)


def _new_client(tx, name: str = CLIENT_NAME) -> str:  # type: ignore[no-untyped-def]
    from gridmap.accounts import credentials

    secret, digest, prefix = credentials.new_secret("gmk")
    tx.execute(text("INSERT INTO open311_client (name, digest, prefix) VALUES (:n, :d, :p)"),
               {"n": name, "d": digest, "p": prefix})
    return secret


def _post(api, fmt: str = "json", **form: Any):  # type: ignore[no-untyped-def]
    form.setdefault("api_key", _KEY.get("key"))
    return api.post(f"{BASE}/requests.{fmt}",
                    data={k: str(v) for k, v in form.items() if v is not None})


def _file(api, grid: dict[str, Any], code: str = "stairwell_lighting", **extra: Any) -> str:  # type: ignore[no-untyped-def]
    form = {"service_code": code, "lat": grid["lat"], "long": grid["lon"],
            "description": "3号楼2单元楼道灯不亮", **extra}
    response = _post(api, **form)
    assert response.status_code == 200, response.data[:400]
    body = response.get_json()
    assert isinstance(body, list) and len(body) == 1
    assert set(body[0]) == {"service_request_id", "service_notice", "account_id"}
    assert body[0]["account_id"] is None
    return str(body[0]["service_request_id"])


def _one(api, request_id: str, **args: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    response = api.get(f"{BASE}/requests/{request_id}.json", query_string=args)
    assert response.status_code == 200, response.data[:400]
    body = response.get_json()
    assert isinstance(body, list) and len(body) == 1
    return dict(body[0])


def _ids(api, **args: str) -> list[str]:  # type: ignore[no-untyped-def]
    response = api.get(f"{BASE}/requests.json", query_string=args)
    assert response.status_code == 200, response.data[:400]
    return [r["service_request_id"] for r in response.get_json()]


def _xml(response) -> ET.Element:  # type: ignore[no-untyped-def]
    assert response.mimetype == "text/xml"
    assert response.mimetype_params.get("charset", "").lower() == "utf-8"
    assert response.data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    return ET.fromstring(response.data)


def _act(api, case_id: str, who: dict[str, str], action: str, **params: Any) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    version = api.get(f"/api/cases/{case_id}", headers=who).get_json()["version"]
    response = api.post(f"/api/cases/{case_id}/actions", headers=who,
                        json={"action": action, "version": version, **params})
    assert response.status_code == 200, response.data[:400]
    return dict(response.get_json())


@pytest.fixture
def staff(login) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Headers of the district centre over the test grids: staff see the stored case."""
    return dict(login("district_centre", area="210103"))


def _configure(api, monkeypatch: pytest.MonkeyPatch, **changes: Any) -> None:  # type: ignore[no-untyped-def]
    """Change the app's settings for this test only."""
    extensions = api.application.extensions
    monkeypatch.setitem(extensions, "gridmap.settings",
                        replace(extensions["gridmap.settings"], **changes))


def _w3c(value: str) -> datetime:
    parsed = datetime.fromisoformat(value)
    assert parsed.tzinfo is not None, value
    return parsed


# --- services ------------------------------------------------------------------------------------

def test_service_list_json_has_the_spec_fields(api, engine) -> None:
    body = api.get(f"{BASE}/services.json").get_json()
    with engine.connect() as conn:
        active = conn.execute(text("SELECT code, name_zh FROM case_category WHERE active "
                                   "ORDER BY sort_order")).all()
    assert [s["service_code"] for s in body] == [code for code, _ in active]
    for service, (_, name_zh) in zip(body, active, strict=True):
        assert set(service) == SERVICE_FIELDS
        assert service["service_name"] == name_zh
        assert service["metadata"] is False and service["type"] == "realtime"
        assert isinstance(service["keywords"], str) and service["group"]
        assert "小时内响应" in service["description"]
    heating = next(s for s in body if s["service_code"] == "heating")
    assert heating["description"] == "4 小时内响应，48 小时内办结"


def test_service_list_in_english(api) -> None:
    body = api.get(f"{BASE}/services.json?locale=en_US").get_json()
    assert next(s for s in body if s["service_code"] == "gas")["service_name"] == "Gas"


def test_service_list_xml_is_well_formed(api) -> None:
    root = _xml(api.get(f"{BASE}/services.xml"))
    assert root.tag == "services"
    services = root.findall("service")
    assert len(services) == len(api.get(f"{BASE}/services.json").get_json())
    for service in services:
        assert {child.tag for child in service} == SERVICE_FIELDS
        assert service.findtext("metadata") == "false"
    codes = {s.findtext("service_code"): s.findtext("service_name") for s in services}
    assert codes["stairwell_lighting"] == "楼道照明"


def test_service_definition(api) -> None:
    assert api.get(f"{BASE}/services/heating.json").get_json() == {
        "service_code": "heating", "attributes": []}
    root = _xml(api.get(f"{BASE}/services/heating.xml"))
    assert root.tag == "service_definition" and root.findtext("service_code") == "heating"
    assert root.find("attributes") is not None and len(root.find("attributes")) == 0


# --- POST service request ------------------------------------------------------------------------

def test_post_files_a_case_in_the_right_grid(api, grids, tx, staff) -> None:
    grid = grids[0]
    request_id = _file(api, grid, first_name="三", last_name="张", phone="13812345678",
                       address_string="和平北大街 1 号", email="a@b.cn")
    case = api.get(f"/api/cases/{request_id}", headers=staff).get_json()
    assert case["grid_code"] == grid["code"] and case["category"] == "stairwell_lighting"
    assert case["channel"] == "resident" and case["state"] == "reported"
    assert case["reporter_name"] == "张三" and case["reporter_phone"] == "138****5678"
    assert case["address"] == "和平北大街 1 号"
    assert case["lon"] == pytest.approx(grid["lon"], abs=1e-9)
    assert case["events"][0]["action"] == "report"
    # Filed by the client's own person, owned (like every new case) by the grid's worker.
    assert case["events"][0]["actor_name"] == f"Open311: {CLIENT_NAME}"
    owner = tx.execute(text('SELECT owner_person_id FROM "case" WHERE id = :id'),
                       {"id": int(request_id)}).scalar_one()
    worker = tx.execute(text("SELECT person_id FROM grid_member WHERE grid_code = :g "
                             "AND role = 'grid_worker'"), {"g": grid["code"]}).scalar_one()
    assert owner == worker


def test_a_client_files_as_one_person_made_at_first_use(api, grids, tx) -> None:
    assert tx.execute(text("SELECT person_id FROM open311_client WHERE name = :n"),
                      {"n": CLIENT_NAME}).scalar_one() is None
    first, second = _file(api, grids[0]), _file(api, grids[1], code="heating")
    client = tx.execute(text("SELECT person_id, last_used_at FROM open311_client WHERE name = :n"),
                        {"n": CLIENT_NAME}).one()
    assert client.person_id is not None and client.last_used_at is not None
    person = tx.execute(text("SELECT name, role FROM person WHERE id = :p"),
                        {"p": client.person_id}).one()
    assert tuple(person) == (f"Open311: {CLIENT_NAME}", "staff")
    created_by = tx.execute(text('SELECT DISTINCT created_by FROM "case" WHERE id IN (:a, :b)'),
                            {"a": int(first), "b": int(second)}).scalars().all()
    assert created_by == [client.person_id]


@pytest.mark.parametrize("key", [None, "", "gmk_not-a-key", "x" * 500])
@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_post_without_a_live_key_is_403_in_the_spec_format(api, grids, tx, key, fmt) -> None:
    before = tx.execute(text('SELECT count(*) FROM "case"')).scalar_one()
    response = _post(api, fmt, service_code="gas", lat=grids[0]["lat"], long=grids[0]["lon"],
                     api_key=key)
    assert response.status_code == 403
    if fmt == "json":
        (error,) = response.get_json()
        assert error["code"] == 403 and "api_key" in error["description"]
    else:
        error = _xml(response).find("error")
        assert error.findtext("code") == "403" and "api_key" in error.findtext("description")
    assert tx.execute(text('SELECT count(*) FROM "case"')).scalar_one() == before


def test_a_revoked_key_is_refused_and_others_still_work(api, grids, tx) -> None:
    other = _new_client(tx, "另一个客户端")
    form = {"service_code": "gas", "lat": grids[0]["lat"], "long": grids[0]["lon"]}
    assert _post(api, **form).status_code == 200
    tx.execute(text("UPDATE open311_client SET revoked_at = now() WHERE name = :n"),
               {"n": CLIENT_NAME})
    assert _post(api, **form).status_code == 403
    assert _post(api, **form, api_key=other).status_code == 200


def test_the_key_is_checked_before_the_request(api) -> None:
    assert _post(api, service_code="gas", api_key=None).status_code == 403
    assert _post(api, service_code="gas").status_code == 400  # with a key: the spec's 400


def test_get_needs_no_key(api, grids) -> None:
    request_id = _file(api, grids[0])
    _KEY.clear()
    assert api.get(f"{BASE}/requests/{request_id}.json").status_code == 200
    assert api.get(f"{BASE}/services.json").status_code == 200


def test_post_converts_gcj02_with_the_crs_extension(api, grids, staff) -> None:
    grid = grids[1]
    gcj_lon, gcj_lat = wgs84_to_gcj02(grid["lon"], grid["lat"])
    request_id = _file(api, {"lon": float(gcj_lon), "lat": float(gcj_lat)}, crs="gcj02")
    case = api.get(f"/api/cases/{request_id}", headers=staff).get_json()  # staff see the point
    assert case["lon"] == pytest.approx(grid["lon"], abs=1e-7)
    assert case["lat"] == pytest.approx(grid["lat"], abs=1e-7)
    assert case["grid_code"] == grid["code"]
    found = _one(api, request_id)  # the public sees it snapped
    assert found["long"] == pytest.approx(grid["lon"], abs=HALF_CELL)
    assert found["lat"] == pytest.approx(grid["lat"], abs=HALF_CELL)


def test_post_without_description_uses_the_service_name(api, grids, staff) -> None:
    response = _post(api, service_code="gas", lat=grids[0]["lat"], long=grids[0]["lon"])
    assert response.status_code == 200
    request_id = response.get_json()[0]["service_request_id"]
    case = api.get(f"/api/cases/{request_id}", headers=staff).get_json()
    assert case["description"] == "燃气"


def test_post_xml_response(api, grids, staff) -> None:
    response = _post(api, "xml", service_code="heating", lat=grids[0]["lat"],
                     long=grids[0]["lon"], description="暖气不热 <b>&</b>")
    assert response.status_code == 200
    root = _xml(response)
    assert root.tag == "service_requests"
    (item,) = root.findall("request")
    assert item.findtext("service_request_id", "").isdigit()
    assert item.findtext("service_notice") == "4 小时内响应，48 小时内办结"
    assert item.find("account_id") is not None and item.findtext("account_id") == ""
    request_id = item.findtext("service_request_id")
    case = api.get(f"/api/cases/{request_id}", headers=staff).get_json()
    assert case["description"] == "暖气不热 <b>&</b>"  # stored for staff as written
    found = _xml(api.get(f"{BASE}/requests/{request_id}.xml")).find("request")
    assert found.find("description") is not None and found.findtext("description") == ""


def test_token_makes_a_repeated_post_return_the_same_id(api, grids) -> None:
    first = _file(api, grids[0], token="tok-1", device_id="phone-a")
    assert _file(api, grids[0], token="tok-1", device_id="phone-a") == first
    assert _file(api, grids[0], token="tok-1", device_id="phone-b") != first
    assert _file(api, grids[0]) != first


def test_two_identical_posts_at_once_make_one_case(app, engine, grids, monkeypatch,  # type: ignore[no-untyped-def]
                                                   delete_cases) -> None:
    """Two POSTs with one token race through real, committed transactions: intake serialises
    them on the token (an advisory lock), so both answer with the same id and one case exists.

    The first insert is held open for a while, so the second request is certainly in flight
    before the first commits: without the lock both would insert and one would fail on the
    unique token (a 500).
    """
    from gridmap.accounts import credentials
    from gridmap.cases.open311.services import _client_token
    from gridmap.cases.repositories import cases as repo

    device, token = "race-device", f"race-{uuid.uuid4().hex}"
    stored = _client_token(device, token)
    # The requests commit for real, so their client must exist outside any test transaction.
    key, digest, prefix = credentials.new_secret("gmk")
    with engine.begin() as conn:
        client_id = conn.execute(text(
            "INSERT INTO open311_client (name, digest, prefix) VALUES ('race', :d, :p) "
            "RETURNING id"), {"d": digest, "p": prefix}).scalar_one()
    real_insert = repo.insert_case

    def slow_insert(session, values, lon, lat):  # type: ignore[no-untyped-def]
        case_id = real_insert(session, values, lon, lat)
        time.sleep(0.4)  # the lock (and the uncommitted row) are held meanwhile
        return case_id

    monkeypatch.setattr(repo, "insert_case", slow_insert)
    form = {"service_code": "heating", "lat": str(grids[1]["lat"]), "long": str(grids[1]["lon"]),
            "description": "暖气不热", "device_id": device, "token": token, "api_key": key}
    barrier, answers = threading.Barrier(2), []

    def post() -> None:
        client = app.test_client()
        barrier.wait(timeout=10)
        answers.append(client.post(f"{BASE}/requests.json", data=form))

    threads = [threading.Thread(target=post) for _ in range(2)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert [a.status_code for a in answers] == [200, 200], [a.data[:300] for a in answers]
        ids = {a.get_json()[0]["service_request_id"] for a in answers}
        with engine.connect() as conn:
            stored_ids = conn.execute(text('SELECT id FROM "case" WHERE client_token = :t'),
                                      {"t": stored}).scalars().all()
        assert len(ids) == 1 and [str(i) for i in stored_ids] == list(ids)
    finally:
        with engine.connect() as conn:
            delete_cases(conn.execute(text(
                'SELECT id FROM "case" WHERE client_token = :t'), {"t": stored}).scalars().all())
        with engine.begin() as conn:
            person = conn.execute(text("DELETE FROM open311_client WHERE id = :c "
                                       "RETURNING person_id"), {"c": client_id}).scalar_one()
            conn.execute(text("DELETE FROM person WHERE id = :p"), {"p": person})


# --- GET service requests ------------------------------------------------------------------------

def test_every_field_of_a_request_has_the_spec_type(api, grids) -> None:
    request_id = _file(api, grids[0], address_string="大西路 5 号")
    found = _one(api, request_id)
    assert set(found) == REQUEST_FIELDS
    assert found["service_request_id"] == request_id and found["status"] == "open"
    assert found["service_code"] == "stairwell_lighting" and found["service_name"] == "楼道照明"
    assert found["status_notes"] == "已上报"
    assert found["agency_responsible"] == grids[0]["name"]
    assert found["service_notice"] == "24 小时内响应，72 小时内办结"
    requested, expected = _w3c(found["requested_datetime"]), _w3c(found["expected_datetime"])
    _w3c(found["updated_datetime"])
    assert abs(requested - datetime.now(UTC)) < timedelta(minutes=5)
    assert expected - requested == pytest.approx(timedelta(hours=72), abs=timedelta(seconds=1))
    assert found["address"] == "大西路"  # the street, not the house number
    assert found["address_id"] is None and found["zipcode"] is None and found["media_url"] is None
    assert isinstance(found["lat"], float) and isinstance(found["long"], float)
    assert found["lat"] == pytest.approx(grids[0]["lat"], abs=HALF_CELL)


def test_single_request_xml(api, grids) -> None:
    request_id = _file(api, grids[0])
    root = _xml(api.get(f"{BASE}/requests/{request_id}.xml"))
    assert root.tag == "service_requests"
    (item,) = root.findall("request")
    assert [child.tag for child in item] == [
        "service_request_id", "status", "status_notes", "service_name", "service_code",
        "description", "agency_responsible", "service_notice", "requested_datetime",
        "updated_datetime", "expected_datetime", "address", "address_id", "zipcode", "lat",
        "long", "media_url"]
    assert item.findtext("status") == "open" and float(item.findtext("lat", "")) > 41


def test_phones_are_never_exposed(api, grids) -> None:
    request_id = _file(api, grids[0], phone="13812345678",
                       description="楼道灯坏了，请联系 13987654321")
    found = _one(api, request_id)
    assert "13812345678" not in str(found) and "13987654321" not in str(found)
    assert "139****4321" not in str(found) and found["description"] is None


@pytest.mark.parametrize(("written", "masked"), [
    ("138-1234-5678", "138****5678"), ("138 1234 5678", "138****5678"),
    ("+86 138 1234 5678", "+86 138****5678"), ("１３８１２３４５６７８", "138****5678"),
    ("024-2345-6789", "024****6789"),
])
def test_phone_variants_appear_in_no_format(api, grids, written: str, masked: str) -> None:
    """A phone in the text or the address is not shown in any form, not even masked."""
    request_id = _file(api, grids[0], description=f"请回电 {written}",
                       address_string=f"大西路 5 号 {written}")
    national = "".join(c for c in written.translate(FULL_WIDTH) if c.isdigit())[-11:]
    for fmt in ("json", "xml"):
        body = api.get(f"{BASE}/requests/{request_id}.{fmt}").data.decode()
        assert written not in body and national not in body and masked not in body
        assert "请回电" not in body
    found = _one(api, request_id)
    assert found["description"] is None and found["address"] == "大西路"


def test_public_view_shows_none_of_the_residents_text(api, grids) -> None:
    """Names, phones, house numbers and family details in a resident's words stay with staff:
    neither the list nor the single view shows any of them, in JSON or XML."""
    private = ("王秀英", "13987654321", "7号楼", "302室", "独居老人")
    request_id = _file(api, grids[1], code="heating",
                       description="王秀英，和平北大街7号楼3单元302室，独居老人，暖气不热，"
                                   "电话 13987654321")
    views = [f"{BASE}/requests/{request_id}.{fmt}" for fmt in ("json", "xml")]
    views += [f"{BASE}/requests.{fmt}?service_request_id={request_id}" for fmt in ("json", "xml")]
    views += [f"{BASE}/requests.{fmt}?service_code=heating" for fmt in ("json", "xml")]
    for path in views:
        response = api.get(path)
        assert response.status_code == 200, path
        body = response.data.decode()
        assert request_id in body, path
        for word in (*private, "7654321", "****"):
            assert word not in body, (path, word)
    for path in views[:4]:
        if ".json" in path:
            (found,) = api.get(path).get_json()
            assert found["description"] is None and found["media_url"] is None
        else:
            (item,) = _xml(api.get(path)).findall("request")
            assert item.find("description") is not None and item.findtext("description") == ""
            assert item.find("media_url") is not None and item.findtext("media_url") == ""


def test_public_view_has_no_reporter_and_a_snapped_point(api, grids, staff) -> None:
    request_id = _file(api, grids[1], first_name="三", last_name="张", phone="13812345678",
                       address_string="和平北大街 1 号")
    for fmt in ("json", "xml"):
        body = api.get(f"{BASE}/requests/{request_id}.{fmt}").data.decode()
        assert "张三" not in body and "12345678" not in body and "1 号" not in body
    found = _one(api, request_id)
    for shown in (found["lat"], found["long"]):
        assert round(shown / PUBLIC_GRID_DEG) * PUBLIC_GRID_DEG == pytest.approx(shown, abs=1e-9)
    exact = api.get(f"/api/cases/{request_id}", headers=staff).get_json()
    assert (found["long"], found["lat"]) != (exact["lon"], exact["lat"])
    assert found["long"] == pytest.approx(exact["lon"], abs=HALF_CELL)
    assert found["lat"] == pytest.approx(exact["lat"], abs=HALF_CELL)


def test_filter_by_ids_overrides_the_other_filters(api, grids) -> None:
    a, b = _file(api, grids[0]), _file(api, grids[1], code="heating")
    assert _ids(api, service_request_id=f"{a},{b}") == [b, a]
    assert _ids(api, service_request_id=f"{a}, {b}", service_code="gas", status="closed") == [b, a]
    assert _ids(api, service_request_id="999999999999") == []


def test_filter_by_service_code(api, grids) -> None:
    a, b = _file(api, grids[0]), _file(api, grids[0], code="heating")
    lighting = _ids(api, service_code="stairwell_lighting")
    assert a in lighting and b not in lighting
    both = _ids(api, service_code="stairwell_lighting,heating")
    assert a in both and b in both and both.index(b) < both.index(a)  # newest first


def test_status_open_and_closed_follow_the_workflow(api, crew, grids) -> None:
    grid = grids[2]
    people = crew(grid["code"])
    worker, secretary = people["worker"], people["community"]
    kept, sent = _file(api, grid, code="cityscape"), _file(api, grid, code="cityscape")
    _act(api, kept, worker, "dispatch")
    _act(api, kept, worker, "start")
    _act(api, kept, worker, "resolve", note="已清理，回访电话 13512345678")
    assert _one(api, kept)["status_notes"] == "已处置"  # the handler's note is internal
    listing = api.get(f"{BASE}/requests.xml", query_string={"service_request_id": kept}).data
    assert "已清理".encode() not in listing and b"5678" not in listing
    _act(api, kept, secretary, "verify")
    _act(api, kept, worker, "rate", rating="satisfied")
    assert _one(api, kept)["status"] == "open"  # rated is not yet closed
    assert _act(api, kept, worker, "close")["state"] == "closed"
    detail = _act(api, sent, worker, "dispatch",
                  department=api.get(f"/api/cases/{sent}", headers=worker).get_json()
                  ["enrolled_departments"][0]["code"])
    closed = _one(api, kept)
    assert closed["status"] == "closed" and closed["status_notes"] == "已结案"
    assert closed["agency_responsible"] == grid["name"]
    open_ = _one(api, sent)
    assert open_["status"] == "open" and open_["status_notes"] == "已分派"
    assert open_["agency_responsible"] == detail["owner_department_name"]
    assert _ids(api, service_request_id=f"{kept},{sent}") == [sent, kept]
    filtered = {s: _ids(api, service_code="cityscape", status=s) for s in ("open", "closed")}
    assert kept in filtered["closed"] and sent not in filtered["closed"]
    assert sent in filtered["open"] and kept not in filtered["open"]
    both = _ids(api, service_code="cityscape", status="open,closed")
    assert kept in both and sent in both


def test_cancelled_is_closed(api, crew, grids) -> None:
    request_id = _file(api, grids[0])
    worker = crew(grids[0]["code"])["worker"]
    _act(api, request_id, worker, "cancel", reason="duplicate")
    assert _one(api, request_id)["status"] == "closed"


def test_date_filters(api, grids) -> None:
    request_id = _file(api, grids[0], code="water_supply")
    at = _w3c(_one(api, request_id)["requested_datetime"])
    minute = timedelta(minutes=1)

    def ids(**dates: datetime) -> list[str]:
        return _ids(api, service_code="water_supply",
                    **{k: v.isoformat() for k, v in dates.items()})

    assert request_id in ids(start_date=at - minute, end_date=at + minute)
    assert request_id not in ids(start_date=at + minute)
    assert request_id not in ids(end_date=at - minute)
    assert request_id in ids(start_date=at - minute)
    assert request_id in ids(end_date=at + minute)
    local = (at - minute).astimezone(datetime.now().astimezone().tzinfo)
    assert request_id in ids(start_date=local)
    # "+08:00" sent unencoded arrives as " 08:00": still understood.
    shanghai = (at - minute).astimezone(UTC) + timedelta(hours=8)
    raw = shanghai.replace(tzinfo=None).isoformat(timespec="seconds") + " 08:00"
    assert request_id in _ids(api, service_code="water_supply", start_date=raw)
    old = datetime.now(UTC) - timedelta(days=200)
    assert request_id not in ids(start_date=old, end_date=old + timedelta(days=80))


def test_default_window_includes_a_new_request(api, grids) -> None:
    request_id = _file(api, grids[0], code="market_order")
    assert request_id in _ids(api)[:50]
    assert len(_ids(api)) <= 1000


def test_a_posted_media_url_is_kept_for_staff_only(api, grids, staff) -> None:
    request_id = _file(api, grids[0], media_url="https://example.org/p/1.jpg")
    case = api.get(f"/api/cases/{request_id}", headers=staff).get_json()
    assert "https://example.org/p/1.jpg" in case["description"]
    found = _one(api, request_id)
    assert found["media_url"] is None and found["description"] is None
    assert "example.org" not in str(found)


def test_media_url_is_null_even_with_a_photo_and_a_public_base_url(
        api, grids, monkeypatch) -> None:
    """Photos are for signed-in staff whose scope holds the case: the public gets no link."""
    request_id = _file(api, grids[0])
    # Photos are uploaded through the case API, not Open311; add a row as that would.
    factory = api.application.extensions["gridmap.sessions"]
    with factory() as session, session.begin():
        session.execute(text("""
            INSERT INTO case_photo (case_id, kind, path, thumb_path, content_type, bytes,
                                    width, height)
            VALUES (:id, 'report', 'cases/' || :id || '/a b.jpg', 't.jpg', 'image/jpeg', 1, 1, 1)
        """), {"id": int(request_id)})
    _configure(api, monkeypatch, public_base_url="https://gridmap.example.cn/city")
    assert _one(api, request_id)["media_url"] is None
    for path in (f"{BASE}/requests/{request_id}.json", f"{BASE}/requests/{request_id}.xml",
                 f"{BASE}/requests.json?service_request_id={request_id}",
                 f"{BASE}/requests.xml?service_request_id={request_id}"):
        response = api.get(path, headers={"Host": "evil.example"})
        assert response.status_code == 200
        assert request_id in response.data.decode()
        for word in (b"evil.example", b"gridmap.example.cn", b"/media/", b"a b.jpg", b"t.jpg"):
            assert word not in response.data, (path, word)


# --- errors --------------------------------------------------------------------------------------

def _error(response, status: int) -> str:  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.data[:400]
    body = response.get_json()
    assert isinstance(body, list) and len(body) == 1 and set(body[0]) == {"code", "description"}
    assert body[0]["code"] == status and body[0]["description"]
    assert "Traceback" not in body[0]["description"] and "psycopg" not in body[0]["description"]
    return str(body[0]["description"])


@pytest.mark.parametrize(("form", "words"), [
    ({"lat": "41.8", "long": "123.4"}, "service_code was not provided"),
    ({"service_code": "gas", "long": "123.4"}, "lat and long are required"),
    ({"service_code": "gas", "lat": "north", "long": "123.4"}, "'lat' must be a number"),
    ({"service_code": "gas", "lat": "nan", "long": "123.4"}, "must be finite"),
    ({"service_code": "gas", "lat": "95", "long": "123.4"}, "lat="),
    ({"service_code": "no_such", "lat": "41.8", "long": "123.4"}, "service_code provided was not"),
    ({"service_code": "gas", "lat": "39.9", "long": "116.4"}, "outside every grid"),
    ({"service_code": "gas", "lat": "41.8", "long": "123.4", "crs": "mars"}, "未知坐标系"),
    ({"service_code": "gas", "lat": "41.8", "long": "123.4", "media_url": "file:///etc/x"},
     "media_url"),
])
def test_bad_post_is_400_in_the_spec_format(api, form, words) -> None:
    assert words in _error(_post(api, **form), 400)


def test_bad_post_inside_a_grid_is_400(api, grids) -> None:
    base = {"service_code": "gas", "lat": grids[0]["lat"], "long": grids[0]["lon"]}
    assert "phone" in _error(_post(api, **base, phone="call me"), 400)
    assert "4000" in _error(_post(api, **base, description="长" * 4001), 400)


def test_errors_in_xml(api) -> None:
    response = _post(api, "xml", service_code="gas")
    assert response.status_code == 400
    root = _xml(response)
    assert root.tag == "errors"
    (error,) = root.findall("error")
    assert error.findtext("code") == "400" and "lat and long" in error.findtext("description", "")


@pytest.mark.parametrize(("url", "status"), [
    ("/services/no_such.json", 404),
    ("/services/heating.html", 404),
    ("/services.csv", 404),
    ("/requests/999999999999.json", 404),
    ("/requests/abc.json", 404),
    ("/requests.json?service_request_id=1,x", 400),
    ("/requests.json?status=pending", 400),
    ("/requests.json?service_code=DROP%20TABLE", 400),
    ("/requests.json?start_date=yesterday", 400),
    ("/requests.json?start_date=2024-05-01T08:00:00", 400),
    ("/requests.json?start_date=2024-05-02T00:00:00Z&end_date=2024-05-01T00:00:00Z", 400),
    ("/requests.json?start_date=2024-01-01T00:00:00Z&end_date=2024-05-01T00:00:00Z", 400),
])
def test_bad_get_is_an_error_in_the_spec_format(api, url, status) -> None:
    _error(api.get(BASE + url), status)


def test_unknown_request_in_xml_is_404(api) -> None:
    response = api.get(f"{BASE}/requests/999999999999.xml")
    assert response.status_code == 404
    assert _xml(response).find("error/code").text == "404"


def test_service_notice_in_english(api, grids) -> None:
    request_id = _file(api, grids[0])
    found = api.get(f"{BASE}/requests/{request_id}.json?locale=en_US").get_json()[0]
    assert found["service_notice"] == "response within 24 hours, resolution within 72 hours"


@pytest.mark.parametrize(("path", "xml"), [
    ("/open311/v2/no_such_thing.json", False), ("/open311/v2/no/such/thing", False),
    ("/open311/v2/no_such_thing.xml", True)])
def test_a_path_no_route_matches_answers_georeports_error_list(client: Any, path: str,
                                                               xml: bool) -> None:
    """A GeoReport client gets its own error list on any path under the endpoint, never the
    site's HTML page."""
    answer = client.get(path)
    assert answer.status_code == 404
    if xml:
        assert answer.mimetype == "text/xml"
        assert b"<errors><error><code>404</code>" in answer.data
    else:
        assert answer.mimetype == "application/json"
        (error,) = answer.get_json()
        assert error["code"] == 404 and error["description"]
    # Refused before any route runs (a DELETE without a form token): the same error list.
    refused = client.delete("/open311/v2/services.json")
    assert refused.status_code in (403, 405)
    assert refused.get_json()[0]["code"] == refused.status_code

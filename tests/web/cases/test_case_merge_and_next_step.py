"""Issue 12: a merged report keeps everything (name, phone, channel, time, address, photos: rows
and files), its phone masked and revealed only to handlers, on the record; the case detail says
who acts next; a rating records how it was obtained.

Runs in the rolled-back transaction of ``api`` with a temporary media folder (``media``).
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import text


@pytest.fixture
def grid(grids: list[dict[str, Any]]) -> dict[str, Any]:
    return grids[1]


@pytest.fixture
def people(crew, grid: dict[str, Any]) -> dict[str, dict[str, str]]:  # type: ignore[no-untyped-def]
    return dict(crew(grid["code"]))


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 40, 40)).save(out, "PNG")
    return out.getvalue()


def _form(grid: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"category": "heating", "description": "暖气不热", "lon": str(grid["lon"]),
            "lat": str(grid["lat"]), "grid_code": grid["code"], **extra}


def _created(api: Any, grid: dict[str, Any], who: dict[str, str]) -> int:
    response = api.post("/api/cases", json=_form(grid, confirm_new=True), headers=who)
    assert response.status_code == 201, response.data[:400]
    return int(response.get_json()["case_id"])


def _merge(api: Any, grid: dict[str, Any], who: dict[str, str], case_id: int) -> Any:
    form = _form(grid, link_to=str(case_id), description="楼上也不热", channel="hotline_12345",
                 reporter_name="王小二", reporter_phone="13812345678", address="团结街 5 号")
    form["photos"] = [(io.BytesIO(_png()), "second.png")]
    return api.post("/api/cases", data=form, content_type="multipart/form-data", headers=who)


def _act(api: Any, case_id: int, who: dict[str, str], action: str, **params: Any) -> Any:
    version = api.get(f"/api/cases/{case_id}", headers=who).get_json()["version"]
    return api.post(f"/api/cases/{case_id}/actions", headers=who,
                    json={"action": action, "version": version, **params})


def test_a_merged_report_loses_nothing(api, tx, media: Path, grid, people) -> None:
    case_id = _created(api, grid, people["worker"])
    merged = _merge(api, grid, people["worker"], case_id)
    assert merged.status_code == 200, merged.data[:400]
    payload, created_at = tx.execute(text(
        "SELECT payload, created_at FROM case_event WHERE case_id = :i AND action = 'add_report'"),
        {"i": case_id}).one()
    assert payload["reporter_name"] == "王小二" and payload["reporter_phone"] == "13812345678"
    assert payload["channel"] == "hotline_12345" and payload["address"] == "团结街 5 号"
    assert created_at is not None and len(payload["photo_ids"]) == 1
    path, thumb = tx.execute(text("SELECT path, thumb_path FROM case_photo WHERE id = :p AND case_id = :i"),
                             {"p": payload["photo_ids"][0], "i": case_id}).one()
    assert (media / path).stat().st_size > 0 and (media / thumb).stat().st_size > 0
    detail = api.get(f"/api/cases/{case_id}", headers=people["community"]).get_json()
    event = next(e for e in detail["events"] if e["action"] == "add_report")
    assert event["payload"]["reporter_phone"] == "138****5678"
    assert "13812345678" not in str(detail)
    assert payload["photo_ids"][0] in [p["id"] for p in detail["photos"]]


def test_a_merged_reporters_phone_is_revealed_to_handlers_only_and_logged(api, tx, media, grid,
                                                                          people, login) -> None:
    case_id = _created(api, grid, people["worker"])
    assert _merge(api, grid, people["worker"], case_id).status_code == 200
    event_id = tx.execute(text(
        "SELECT id FROM case_event WHERE case_id = :i AND action = 'add_report'"),
        {"i": case_id}).scalar_one()
    url = f"/api/cases/{case_id}/reporter-phone"
    shown = api.post(url, json={"event": event_id}, headers=people["community"])
    assert shown.status_code == 200, shown.data[:400]
    assert shown.get_json() == {"reporter_phone": "13812345678"}
    logged = tx.execute(text("SELECT detail FROM audit_log WHERE action = 'phone_revealed' "
                             "AND target_id = :i ORDER BY id DESC LIMIT 1"),
                        {"i": str(case_id)}).scalar_one()
    assert logged == {"event": event_id}
    admin = login("admin")
    assert api.post(url, json={"event": event_id}, headers=admin).status_code == 403
    first_event = tx.execute(text(
        "SELECT id FROM case_event WHERE case_id = :i AND action = 'report'"),
        {"i": case_id}).scalar_one()
    missing = api.post(url, json={"event": first_event}, headers=people["community"])
    assert missing.status_code == 404


def test_detail_names_the_grid_and_who_acts_next(api, grid, people) -> None:
    case_id = _created(api, grid, people["worker"])
    detail = api.get(f"/api/cases/{case_id}", headers=people["community"]).get_json()
    assert detail["grid_name"] and detail["community_name"]
    step = detail["next_step"]
    assert step["actor"] == "grid_or_supervisor" and step["action"] == "dispatch"
    assert step["deadline"] == "respond" and step["due"] == detail["respond_by"]
    _act(api, case_id, people["worker"], "dispatch", department="heating")
    step = api.get(f"/api/cases/{case_id}", headers=people["worker"]).get_json()["next_step"]
    assert step["actor"] == "department" and step["action"] == "start"
    assert step["departments"] and step["departments"][0] != "heating"  # its name, not its code


def test_a_rating_records_how_it_was_obtained(api, tx, grid, people) -> None:
    case_id = _created(api, grid, people["worker"])
    for who, action, params in [("worker", "dispatch", {"department": "heating"}),
                                ("heating", "start", {}), ("heating", "resolve", {"note": "修好"}),
                                ("community", "verify", {})]:
        assert _act(api, case_id, people[who], action, **params).status_code == 200
    bad = _act(api, case_id, people["worker"], "rate", rating="satisfied", method="pigeon")
    assert bad.status_code == 400 and "pigeon" in bad.get_json()["error"]["message"]
    rated = _act(api, case_id, people["worker"], "rate", rating="satisfied", method="phone")
    assert rated.status_code == 200, rated.data[:400]
    event = next(e for e in rated.get_json()["events"] if e["action"] == "rate")
    assert event["payload"] == {"rating": "satisfied", "method": "phone"}


def test_a_stale_version_is_a_short_conflict_without_numbers(api, grid, people) -> None:
    case_id = _created(api, grid, people["worker"])
    response = api.post(f"/api/cases/{case_id}/actions", headers=people["worker"],
                        json={"action": "dispatch", "version": 999, "department": "heating"})
    assert response.status_code == 409
    message = response.get_json()["error"]["message"]
    assert not any(ch.isdigit() for ch in message), message


def test_intake_problems_name_their_field_by_its_label(api, grid, people) -> None:
    response = api.post("/api/cases", headers=people["worker"],
                        json=_form(grid, confirm_new=True, reporter_phone="call me", description=" "))
    assert response.status_code == 400
    fields = response.get_json()["error"]["fields"]
    assert set(fields) == {"reporter_phone", "description"}
    assert fields["reporter_phone"].startswith("反映人电话") and "(" in fields["reporter_phone"]


def test_an_action_that_takes_the_case_out_of_scope_says_done_not_missing(api, tx, grid,
                                                                          people) -> None:
    """A department returning a case can no longer read it: the answer is a success that says
    so, not "case not found" for an action that was carried out."""
    case_id = _created(api, grid, people["worker"])
    assert _act(api, case_id, people["worker"], "dispatch", department="heating").status_code == 200
    returned = _act(api, case_id, people["heating"], "return", note="不属于本部门")
    assert returned.status_code == 200, returned.data[:400]
    assert returned.get_json() == {"id": case_id, "out_of_scope": True}
    detail = api.get(f"/api/cases/{case_id}", headers=people["community"]).get_json()
    assert detail["state"] == "returned"

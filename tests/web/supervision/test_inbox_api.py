"""The inbox API on the real PostGIS: each person sees and marks only their own items."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from flask.testing import FlaskClient
from sqlalchemy import Connection, text

T = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


def _person(tx: Connection, name: str) -> int:
    person: int = tx.execute(text("INSERT INTO person (name, role) VALUES (:n, 'staff') "
                                  "RETURNING id"), {"n": name}).scalar_one()
    return person


def _item(tx: Connection, person: int, body: str, minutes: int, *, read: bool = False) -> int:
    item: int = tx.execute(text(
        "INSERT INTO inbox_item (person_id, kind, text, created_at, read_at) "
        "VALUES (:p, 'supervision', :t, :c, :r) RETURNING id"),
        {"p": person, "t": body, "c": T + timedelta(minutes=minutes),
         "r": T + timedelta(hours=1) if read else None}).scalar_one()
    return item


def test_a_person_sees_only_their_own_inbox_unread_first(
        api: FlaskClient, tx: Connection, login: Callable[..., dict[str, str]]) -> None:
    me, other = _person(tx, "我"), _person(tx, "别人")
    old_unread = _item(tx, me, "早的未读", 1)
    read = _item(tx, me, "已读", 30, read=True)
    new_unread = _item(tx, me, "新的未读", 10)
    theirs = _item(tx, other, "别人的督办", 5)
    mine, their_headers = login("community_staff", person_id=me, area="210103001001"), \
        login("community_staff", person_id=other, area="210103001001")

    answer = api.get("/api/inbox", headers=mine)
    assert answer.status_code == 200 and answer.headers["Cache-Control"] == "no-store"
    assert [i["id"] for i in answer.json["items"]] == [new_unread, old_unread, read]
    assert answer.json["unread"] == 2
    assert "别人的督办" not in answer.get_data(as_text=True)
    assert [i["id"] for i in api.get("/api/inbox?unread=1", headers=mine).json["items"]] == \
        [new_unread, old_unread]
    assert api.get("/api/inbox/unread", headers=mine).json == {"unread": 2}

    # Another's item is a 404, as one that does not exist, and stays unread.
    refused = api.post(f"/api/inbox/{theirs}/read", headers=mine)
    assert refused.status_code == 404 and "别人" not in refused.get_data(as_text=True)
    assert api.get("/api/inbox/unread", headers=their_headers).json == {"unread": 1}

    marked = api.post(f"/api/inbox/{old_unread}/read", headers=mine)
    assert marked.status_code == 200
    assert marked.json["item"]["read"] is True and marked.json["unread"] == 1
    first_read = marked.json["item"]["read_at"]
    again = api.post(f"/api/inbox/{old_unread}/read", headers=mine)
    assert again.json["item"]["read_at"] == first_read  # the first reading is kept

    assert api.post("/api/inbox/read", headers=mine).json == {"marked": 1, "unread": 0}
    assert api.get("/api/inbox/unread", headers=their_headers).json == {"unread": 1}


def test_the_public_has_no_inbox(api: FlaskClient) -> None:
    assert api.get("/api/inbox").status_code == 401
    assert api.get("/api/inbox/unread").status_code == 401
    assert api.post("/api/inbox/1/read").status_code in (401, 403)  # 403: no CSRF token


def test_limit_is_checked(api: FlaskClient, login: Callable[..., dict[str, str]]) -> None:
    headers = login("planner")
    answer = api.get("/api/inbox?limit=0", headers=headers)
    assert answer.status_code == 400 and "limit" in answer.json["error"]["message"]


def test_the_header_links_the_inbox_for_the_signed_in_only(
        api: FlaskClient, login: Callable[..., dict[str, str]]) -> None:
    page = api.get("/inbox", headers=login("planner")).get_data(as_text=True)
    assert 'id="gm-inbox-link"' in page and 'data-unread-url="/api/inbox/unread"' in page
    assert 'id="gm-inbox-link"' not in api.get("/").get_data(as_text=True)
    english = api.get("/inbox?lang=en", headers=login("planner")).get_data(as_text=True)
    assert "Mark all read" in english

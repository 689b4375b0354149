"""Pure rules of the administration: who may administer and assign, search patterns, keyset
pages, the audit page's filters and cursor."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gridmap.access import Principal, Role
from gridmap.accounts.repositories.like import contains
from gridmap.accounts.services import audit, paging, rights
from gridmap.errors import Forbidden, InvalidInput, NotFound, Unauthorized


def _as(role: Role | None, area: str | None = None) -> Principal:
    return Principal(account_id=1 if role else None, role=role, area_code=area, username="x")


def test_only_administrators_administer() -> None:
    assert rights.admin(_as(Role.ADMIN)).role is Role.ADMIN
    with pytest.raises(Unauthorized):
        rights.admin(_as(None))
    for role in Role:
        if role is not Role.ADMIN:
            with pytest.raises(Forbidden):
                rights.admin(_as(role))


@pytest.mark.parametrize(("role", "area", "grid", "outcome"), [
    (Role.ADMIN, None, "210103001001001", "ok"),
    (Role.DATA_OFFICER, None, "210103001001001", "ok"),
    (Role.DATA_OFFICER, "210103", "210103001001001", "ok"),
    (Role.DATA_OFFICER, "210104", "210103001001001", "not_found"),
    (Role.PLANNER, None, "210103001001001", "forbidden"),
    (Role.DISTRICT_CENTRE, "210103", "210103001001001", "forbidden"),
])
def test_who_assigns_which_grid(role: Role, area: str | None, grid: str, outcome: str) -> None:
    principal = _as(role, area)
    if outcome == "ok":
        assert rights.assigner(principal, grid) is principal
    else:
        with pytest.raises(NotFound if outcome == "not_found" else Forbidden):
            rights.assigner(principal, grid)


def test_assignable_area() -> None:
    assert rights.assignable_area(_as(Role.ADMIN, "210103")) is None  # administrators: all
    assert rights.assignable_area(_as(Role.DATA_OFFICER, "210103")) == "210103"
    assert rights.assignable_area(_as(Role.DATA_OFFICER)) is None


@pytest.mark.parametrize(("text", "pattern"), [
    ("张三", "%张三%"), ("50%", "%50\\%%"), ("a_b", "%a\\_b%"), ("c:\\x", "%c:\\\\x%")])
def test_search_patterns_take_wildcards_literally(text: str, pattern: str) -> None:
    assert contains(text) == pattern


def test_a_page_cut_from_one_row_more() -> None:
    rows = [{"k": i} for i in range(4)]
    page = paging.cut(rows, 3, lambda r: r["k"])
    assert page.rows == rows[:3] and page.next_after == "2"
    last = paging.cut(rows[:3], 3, lambda r: r["k"])
    assert last.rows == rows[:3] and last.next_after is None
    assert paging.query_text("  张  三 " + "x" * 100) == ("张 三 " + "x" * 100)[:paging.MAX_QUERY]
    assert paging.query_text(None) == ""


def test_audit_filters_in_local_dates() -> None:
    f = audit.parse_filter({"action": "sign_in", "username": " Admin ", "target_kind": "grid",
                            "target_id": "210103001001001", "since": "2026-11-01",
                            "until": "2026-11-30"})
    assert f.action == "sign_in" and f.username == "admin" and f.target_kind == "grid"
    assert f.since == datetime(2026, 11, 1, tzinfo=audit.CITY_TZ)
    assert f.until == datetime(2026, 12, 1, tzinfo=audit.CITY_TZ)  # the last day included
    assert f.since.astimezone(UTC) == datetime(2026, 10, 31, 16, tzinfo=UTC)
    empty = audit.parse_filter({})
    assert (empty.action, empty.username, empty.since, empty.until) == (None, None, None, None)


def test_every_bad_audit_filter_is_reported_at_once() -> None:
    with pytest.raises(InvalidInput) as caught:
        audit.parse_filter({"action": "explode", "target_kind": "planet", "since": "soon"})
    message = caught.value.message
    assert "unknown action" in message and "unknown target kind" in message
    assert "since must be a date" in message
    with pytest.raises(InvalidInput, match="since is after until"):
        audit.parse_filter({"since": "2026-02-02", "until": "2026-02-01"})


def test_audit_cursor_round_trip_and_garbage() -> None:
    at = datetime(2026, 11, 30, 8, 1, 2, 345678, tzinfo=UTC) + timedelta()
    cursor = audit._cursor({"at": at, "id": 42})  # noqa: SLF001
    assert audit.parse_after(cursor) == (at, 42)
    for junk in (None, "", "yesterday~1", f"{at.isoformat()}~x", "2026-11-30T08:00:00~5"):
        assert audit.parse_after(junk) is None

"""A personal API token's last use: written on first use and then at most once a minute, and a
use within the minute is one read with no UPDATE at all (every scripted request pays for it)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import Connection, event, text
from sqlalchemy.orm import Session

from gridmap.accounts.repositories import tokens


@pytest.fixture
def token(connection: Connection) -> tuple[int, int, str]:
    """(token id, account id, digest) of a fresh token of a fresh account."""
    tag = uuid.uuid4().hex[:8]
    person = connection.execute(text(
        "INSERT INTO person (name, role) VALUES ('脚本', 'staff') RETURNING id")).scalar_one()
    account = connection.execute(text(
        "INSERT INTO account (username, person_id, role, password_hash) "
        "VALUES (:u, :p, 'planner', 'x') RETURNING id"), {"u": f"tok-{tag}", "p": person}
    ).scalar_one()
    digest = f"digest-{tag}"
    token_id = connection.execute(text(
        "INSERT INTO api_token (account_id, name, digest, prefix) "
        "VALUES (:a, 'script', :d, :p) RETURNING id"), {"a": account, "d": digest, "p": tag}
    ).scalar_one()
    return token_id, account, digest


@pytest.fixture
def updates(connection: Connection) -> Iterator[list[str]]:
    """The UPDATE statements sent on the test's connection."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("UPDATE"):
            seen.append(statement)

    event.listen(connection, "before_cursor_execute", record)
    yield seen
    event.remove(connection, "before_cursor_execute", record)


def _last_used(connection: Connection, token_id: int) -> Any:
    return connection.execute(text("SELECT last_used_at FROM api_token WHERE id = :id"),
                              {"id": token_id}).scalar_one()


def test_first_use_is_written_and_a_use_within_the_minute_is_only_read(
        db_session: Session, connection: Connection, token: tuple[int, int, str],
        updates: list[str]) -> None:
    token_id, account, digest = token
    assert tokens.account_of_token(db_session, digest) == account
    first = _last_used(connection, token_id)
    assert first is not None and len(updates) == 1

    assert tokens.account_of_token(db_session, digest) == account
    assert _last_used(connection, token_id) == first and len(updates) == 1  # read only


def test_a_use_after_the_minute_is_written_again(
        db_session: Session, connection: Connection, token: tuple[int, int, str],
        updates: list[str]) -> None:
    token_id, account, digest = token
    connection.execute(text("UPDATE api_token SET last_used_at = now() - interval '2 minutes' "
                            "WHERE id = :id"), {"id": token_id})
    updates.clear()
    assert tokens.account_of_token(db_session, digest) == account
    assert len(updates) == 1
    assert connection.execute(text("SELECT last_used_at = now() FROM api_token WHERE id = :id"),
                              {"id": token_id}).scalar_one()


def test_a_revoked_or_unknown_token_is_nobody_and_is_not_written(
        db_session: Session, connection: Connection, token: tuple[int, int, str],
        updates: list[str]) -> None:
    token_id, _, digest = token
    connection.execute(text("UPDATE api_token SET revoked_at = now() WHERE id = :id"),
                       {"id": token_id})
    updates.clear()
    assert tokens.account_of_token(db_session, digest) is None
    assert tokens.account_of_token(db_session, "no-such-digest") is None
    assert updates == [] and _last_used(connection, token_id) is None

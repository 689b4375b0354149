"""Helpers for case tests that must commit for real (races between connections)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import pytest
from sqlalchemy import Engine, text

_CLEAN_UP = (
    "DELETE FROM case_event WHERE case_id = ANY(:ids)",
    "DELETE FROM case_photo WHERE case_id = ANY(:ids)",
    "DELETE FROM case_cohandler WHERE case_id = ANY(:ids)",
    'DELETE FROM "case" WHERE id = ANY(:ids)',
)


@pytest.fixture
def delete_cases(engine: Engine) -> Callable[[Iterable[int]], None]:
    """Remove committed test cases with their history. Events are append-only; the trigger is
    bypassed for the clean-up's one transaction, as only a superuser's test clean-up may."""
    def delete(ids: Iterable[int]) -> None:
        with engine.begin() as conn:
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            for statement in _CLEAN_UP:
                conn.execute(text(statement), {"ids": list(ids)})

    return delete

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
def delete_cases(owner_engine: Engine) -> Callable[[Iterable[int]], None]:
    """Remove committed test cases with their history. Events are append-only (the app role may
    not delete them, and a trigger stops everyone): the schema's owner switches the trigger off
    inside the clean-up's one transaction, whose lock keeps every other session waiting."""
    def delete(ids: Iterable[int]) -> None:
        with owner_engine.begin() as conn:
            conn.execute(text("ALTER TABLE case_event DISABLE TRIGGER case_event_immutable"))
            for statement in _CLEAN_UP:
                conn.execute(text(statement), {"ids": list(ids)})
            conn.execute(text("ALTER TABLE case_event ENABLE TRIGGER case_event_immutable"))

    return delete

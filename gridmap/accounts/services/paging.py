"""Keyset pages for the administration lists (fast at any depth: no OFFSET)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

PAGE_SIZE = 50
MAX_QUERY = 64
"""Longest search text taken from a search box."""


@dataclass(frozen=True)
class Page:
    """One page of rows and the keyset to ask for the next one (None: this is the last)."""

    rows: list[dict[str, Any]]
    next_after: str | None


def cut(rows: list[dict[str, Any]], limit: int, key: Callable[[dict[str, Any]], object]) -> Page:
    """A page from ``limit + 1`` fetched rows: the extra row only says that more follow."""
    if len(rows) <= limit:
        return Page(rows, None)
    return Page(rows[:limit], str(key(rows[limit - 1])))


def query_text(raw: str | None) -> str:
    """A search box's text, trimmed and bounded."""
    return " ".join((raw or "").split())[:MAX_QUERY]

"""Substring search patterns for ILIKE (the administration pages' search boxes)."""

from __future__ import annotations

ESCAPE = "\\"


def contains(text_: str) -> str:
    """A LIKE pattern matching ``text_`` anywhere; its own ``%``, ``_`` and ``\\`` are literal.

    Use with ``escape=ESCAPE``. The trigram indexes of migration 0006 serve these patterns.
    """
    escaped = text_.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"

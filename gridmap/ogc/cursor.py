"""Opaque keyset cursors for ``next``/``prev`` links: the position, not an offset.

A cursor holds the sort key values and the id of the row a page starts after (``next``) or ends
before (``prev``), base64url-encoded JSON. A page deep in a collection then costs what the first
one does (an index range scan from the position), where ``OFFSET`` would read and discard every
row before it. Cursors carry no secrets and are checked like any input: a forged one can only
name another position.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import Any

from gridmap.errors import InvalidInput

MAX_CHARS = 2000
_BAD = "分页游标无效 (invalid cursor: use the next/prev links as given)"
Scalar = str | int | float | bool


@dataclass(frozen=True)
class Cursor:
    """A keyset position: ``keys`` (sort values, then the id) and the direction from it."""

    keys: tuple[Scalar, ...]
    backward: bool = False

    def encode(self) -> str:
        """The opaque token (URL-safe, no padding)."""
        raw = json.dumps({"k": list(self.keys), "b": self.backward}, separators=(",", ":"),
                         ensure_ascii=False).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(token: str, *, arity: int) -> Cursor:
    """The cursor in ``token`` for a sort of ``arity`` keys (sort keys + id); InvalidInput if
    it is not one of ours or belongs to another sort order."""
    if not token or len(token) > MAX_CHARS:
        raise InvalidInput(_BAD)
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data: Any = json.loads(raw.decode())
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise InvalidInput(_BAD) from None
    if not isinstance(data, dict) or not isinstance(data.get("b"), bool):
        raise InvalidInput(_BAD)
    keys = data.get("k")
    if (not isinstance(keys, list) or len(keys) != arity
            or not all(isinstance(k, str | int | float | bool) for k in keys)):
        raise InvalidInput(_BAD)
    if any(isinstance(k, int) and not isinstance(k, bool) and abs(k) >= 2**63 for k in keys):
        raise InvalidInput(_BAD)
    return Cursor(tuple(keys), data["b"])

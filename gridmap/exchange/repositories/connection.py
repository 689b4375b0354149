"""The psycopg connection under a session (its transaction), for COPY, server-side cursors and
statements composed with psycopg's ``sql`` module."""

from __future__ import annotations

from typing import Any

import psycopg
from sqlalchemy.orm import Session


def driver(session: Session) -> psycopg.Connection[Any]:
    """The psycopg 3 connection of ``session``, in its transaction."""
    conn = session.connection().connection.driver_connection
    if not isinstance(conn, psycopg.Connection):
        raise TypeError("imports and exports need the psycopg 3 driver (postgresql+psycopg://)")
    return conn

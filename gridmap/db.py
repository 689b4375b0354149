"""Engine and session factory, kept in ``app.extensions``; a unit-of-work helper."""

from __future__ import annotations

import select
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from sqlalchemy import Engine, Executable, create_engine
from sqlalchemy.orm import Session, sessionmaker

from gridmap.config import Settings


def make_engine(settings: Settings) -> Engine:
    """Create the SQLAlchemy engine (psycopg 3, pooled).

    No pre-ping: it costs a round trip per checkout, as much as the whole locate query. Dead
    connections are instead recycled hourly and, after a server restart, discarded by the pool
    on their first error.
    """
    return create_engine(
        settings.sqlalchemy_url,
        pool_size=settings.pool_size,
        max_overflow=settings.pool_size,
        pool_timeout=settings.pool_timeout_s,
        pool_recycle=3600,
        connect_args={"application_name": "gridmap"},
    )


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """A session factory bound to ``engine``; sessions never expire objects on commit."""
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """Open a session, commit if the block succeeds, roll back if it raises."""
    with factory() as session, session.begin():
        yield session


def stream_texts(session: Session, stmt: Executable, *, batch: int = 500) -> Iterator[Any]:
    """Yield the first column of ``stmt``'s rows from a server-side cursor, ``batch`` at a time.

    The cursor is closed when the consumer stops early too, so an abandoned download leaves
    nothing open. Used by every streamed export (rows built as JSON text by PostgreSQL).
    """
    result = session.execute(stmt.execution_options(yield_per=batch))
    try:
        for (value,) in result:
            yield value
    finally:
        result.close()


def _ended_by_server(conn: psycopg.Connection) -> bool:
    """Whether the server has ended this idle connection (a restart or a terminated backend).

    An idle connection has nothing to read unless the server sent its FATAL "terminating
    connection" or closed the socket; without this check the first request on it after a
    restart fails (a 503), however long after the restart that request comes. A readable
    socket for any other reason (a NOTIFY, which these connections never LISTEN for) only costs
    a new connection.
    """
    try:
        readable, _, _ = select.select([conn.fileno()], [], [], 0)
    except (OSError, ValueError, psycopg.Error):
        return True
    return bool(readable)


class _Held:
    """A thread's connection; closed when the thread ends and its thread-local state is freed
    (a development server starts a thread per request: their connections must not pile up)."""

    __slots__ = ("conn", "__weakref__")

    def __init__(self, conn: psycopg.Connection) -> None:
        self.conn = conn

    def __del__(self) -> None:
        self.conn.close()


class ReadPool:
    """One autocommit psycopg connection per thread, for the hottest single-statement reads.

    Measured on locate (bench/README.md): a prepared statement on a psycopg connection costs
    about half the CPU of the same through SQLAlchemy Core, and keeping the connection with its
    thread saves a pool's check-out/check-in on top. Web workers have a fixed, small number of
    threads, so the number of connections stays bounded; a thread's connection is closed when
    the thread ends. Nothing is opened until first use, so building the app opens no
    connection; a broken connection is replaced on the next request.
    """

    def __init__(self, settings: Settings) -> None:
        self._conninfo = settings.libpq_url
        self._local = threading.local()
        self._held: weakref.WeakSet[_Held] = weakref.WeakSet()

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection]:
        """This thread's connection; closed (and replaced next time) if it breaks."""
        held: _Held | None = getattr(self._local, "held", None)
        if held is None or held.conn.closed or held.conn.broken or _ended_by_server(held.conn):
            conn = psycopg.connect(self._conninfo, autocommit=True,
                                   application_name="gridmap-read")
            held = self._local.held = _Held(conn)
            self._held.add(held)
        try:
            yield held.conn
        except psycopg.OperationalError:
            held.conn.close()
            raise

    def close(self) -> None:
        """Close every connection still open (threads reconnect on next use)."""
        for held in list(self._held):
            held.conn.close()

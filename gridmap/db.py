"""Engine and session factory, kept in ``app.extensions``; a unit-of-work helper."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, create_engine
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

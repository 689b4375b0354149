"""Imports run in the test's transaction (each import's own is a savepoint), rolled back after."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Connection
from sqlalchemy.orm import Session, sessionmaker


@pytest.fixture
def factory(connection: Connection) -> Iterator[sessionmaker[Session]]:
    """Sessions joining the test's transaction: what an import commits is undone afterwards."""
    yield sessionmaker(bind=connection, join_transaction_mode="create_savepoint",
                       expire_on_commit=False)

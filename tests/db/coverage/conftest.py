"""A session factory for the services that own their transaction, inside the test's one."""

from __future__ import annotations

import pytest
from sqlalchemy import Connection
from sqlalchemy.orm import Session, sessionmaker


@pytest.fixture
def factory(connection: Connection) -> sessionmaker[Session]:
    """Sessions on the test's connection: a service's commit becomes a savepoint, and the
    test's rollback undoes it."""
    return sessionmaker(bind=connection, join_transaction_mode="create_savepoint",
                        expire_on_commit=False)

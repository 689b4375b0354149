"""The app connects as a role that may change data but not the schema, and only add to the case
history; the owner's upgrades (re)grant exactly that.

These need the two roles a fresh `make` cluster has. On an older single-role (trust) cluster
they fail, saying how to get the roles (`make clean`): a skipped privilege test proves nothing.
"""

from __future__ import annotations

import psycopg.errors
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import ProgrammingError

from gridmap import schema
from gridmap.config import Settings


@pytest.fixture(autouse=True)
def two_roles(settings: Settings) -> None:
    """Fail when the test database has one role for everything (never a skip)."""
    if schema.app_role(settings) is not None:
        return
    message = ("the test database is reached by one role for everything (an older trust "
               "cluster?): set GRIDMAP_TEST_OWNER_DATABASE_URL to the owner role, or re-initialise "
               "the private cluster with `make clean && make test`")
    pytest.fail(message)


def _refused(engine: Engine, statement: str) -> None:
    """``statement`` fails for lack of privilege (not for any other reason, such as a trigger)."""
    with engine.connect() as conn, pytest.raises(ProgrammingError) as failure:
        conn.execute(text(statement))
    assert isinstance(failure.value.orig, psycopg.errors.InsufficientPrivilege)


def test_the_app_role_is_not_a_superuser_and_cannot_create_roles_or_databases(
        engine: Engine) -> None:
    with engine.connect() as conn:
        row = conn.execute(text("SELECT rolsuper, rolcreaterole, rolcreatedb FROM pg_roles "
                                "WHERE rolname = current_user")).one()
    assert tuple(row) == (False, False, False)


@pytest.mark.parametrize("statement", [
    "UPDATE case_event SET note = note",
    "DELETE FROM case_event",
    "TRUNCATE case_event",
])
def test_the_app_role_cannot_change_or_remove_case_history(engine: Engine,
                                                           statement: str) -> None:
    _refused(engine, statement)


@pytest.mark.parametrize("statement", [
    "CREATE TABLE intruder (id int)",
    "ALTER TABLE grid ADD COLUMN intruder int",
    "DROP TABLE dataset",
    "TRUNCATE grid CASCADE",
])
def test_the_app_role_cannot_change_the_schema(engine: Engine, statement: str) -> None:
    _refused(engine, statement)


_PRIVILEGES = """
    SELECT c.relname,
           has_table_privilege(:role, c.oid, 'SELECT') AS can_select,
           has_table_privilege(:role, c.oid, 'INSERT') AS can_insert,
           has_table_privilege(:role, c.oid, 'UPDATE') AS can_update,
           has_table_privilege(:role, c.oid, 'DELETE') AS can_delete
    FROM pg_class c
    WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r'
      AND pg_get_userbyid(c.relowner) = current_user
"""


def test_grants_survive_a_second_upgrade(settings: Settings, owner_engine: Engine) -> None:
    schema.upgrade(settings)  # already at head: only the grants are applied again
    role = schema.app_role(settings)
    with owner_engine.connect() as conn:
        rows = {r.relname: tuple(r)[1:]
                for r in conn.execute(text(_PRIVILEGES), {"role": role})}
    assert rows["case_event"] == rows["audit_log"] == rows["dispute_event"] == (
        True, True, False, False)
    assert rows["case"] == (True, True, True, True)
    assert {name for name, privileges in rows.items() if privileges != (True,) * 4} == {
        "case_event", "audit_log", "dispute_event"}


def test_the_app_role_can_add_to_the_case_history(engine: Engine) -> None:
    with engine.connect() as conn:
        seq = conn.execute(text("SELECT has_sequence_privilege("
                                "pg_get_serial_sequence('case_event', 'id'), 'USAGE')")).scalar()
        insert = conn.execute(text("SELECT has_table_privilege('case_event', 'INSERT')")).scalar()
    assert seq is True and insert is True

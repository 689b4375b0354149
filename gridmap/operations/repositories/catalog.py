"""What a database holds, read from PostgreSQL's catalogue: tables, extensions, row counts."""

from __future__ import annotations

import psycopg
from psycopg import sql
from sqlalchemy import column, func, select, table, text
from sqlalchemy.orm import Session

# Tables of the schema, without those an extension owns (PostGIS's spatial_ref_sys): they come
# with the extension, not with the backup.
_TABLES = text("""
    SELECT c.relname FROM pg_class c
    WHERE c.relnamespace = CAST(:schema AS regnamespace) AND c.relkind IN ('r', 'p')
      AND NOT EXISTS (SELECT 1 FROM pg_depend d
                      WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                        AND d.deptype = 'e')
    ORDER BY c.relname
""")
_EXTENSION_TABLES = text("""
    SELECT c.relname FROM pg_class c
    JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e'
    WHERE c.relnamespace = CAST(:schema AS regnamespace) AND c.relkind IN ('r', 'p')
    ORDER BY c.relname
""")
_EXTENSIONS = text("""
    SELECT e.extname, e.extversion, n.nspname FROM pg_extension e
    JOIN pg_namespace n ON n.oid = e.extnamespace
    WHERE e.extname <> 'plpgsql' ORDER BY e.extname
""")


def begin_snapshot(session: Session) -> str:
    """Start a repeatable-read, read-only transaction and export its snapshot for pg_dump.

    Counts read in this transaction afterwards see exactly the rows the dump holds.
    """
    session.connection(execution_options={"isolation_level": "REPEATABLE READ",
                                          "postgresql_readonly": True})
    return str(session.execute(select(func.pg_export_snapshot())).scalar_one())


def tables(session: Session, schema: str) -> list[str]:
    """The names of the schema's own tables (extension members left out)."""
    return list(session.execute(_TABLES, {"schema": schema}).scalars())


def extension_tables(session: Session, schema: str) -> list[str]:
    """Tables in the schema that belong to an extension (PostGIS's spatial_ref_sys)."""
    return list(session.execute(_EXTENSION_TABLES, {"schema": schema}).scalars())


def row_counts(session: Session, schema: str) -> dict[str, int]:
    """Exact row counts of each of the schema's own tables (names from the catalogue)."""
    return {name: int(session.execute(
                select(func.count()).select_from(table(name, schema=schema))).scalar_one())
            for name in tables(session, schema)}


def extensions(session: Session) -> dict[str, dict[str, str]]:
    """Installed extensions (plpgsql aside): version and schema of each."""
    return {name: {"version": version, "schema": schema}
            for name, version, schema in session.execute(_EXTENSIONS)}


def create_extension(session: Session, name: str, schema: str) -> bool:
    """``CREATE EXTENSION IF NOT EXISTS`` in a savepoint, as the connected role; False when it
    may not (only trusted extensions, such as pg_trgm, are open to a database owner) or the
    server lacks the extension."""
    session.execute(select(1))  # in a transaction, so the block below is a savepoint
    raw = session.connection().connection.driver_connection
    if not isinstance(raw, psycopg.Connection):
        raise TypeError("creating an extension needs the psycopg 3 driver")
    try:
        with raw.transaction():
            raw.execute(sql.SQL("CREATE EXTENSION IF NOT EXISTS {} SCHEMA {}").format(
                sql.Identifier(name), sql.Identifier(schema)))
    except psycopg.Error:
        return False
    return True


def alembic_revision(session: Session, schema: str) -> str | None:
    """The migration the database is at, or None without an ``alembic_version`` table."""
    if "alembic_version" not in tables(session, schema):
        return None
    version = table("alembic_version", column("version_num"), schema=schema)
    return session.execute(select(version.c.version_num)).scalar_one_or_none()


def server_version(session: Session) -> str:
    """The server's version, as ``SHOW server_version`` gives it."""
    return str(session.execute(text("SHOW server_version")).scalar_one())


def analyze(session: Session) -> None:
    """Refresh the planner's statistics (a restored database has none)."""
    session.execute(text("ANALYZE"))

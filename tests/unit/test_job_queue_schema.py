"""The queue's schema in the database is the one the installed procrastinate expects.

Migration 0008 applies the schema procrastinate ships, which includes its migrations up to
``PROCRASTINATE_AT``. A newer procrastinate may bring migrations of its own: then this fails
until a new gridmap migration applies them (from ``procrastinate/sql/migrations/``).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from procrastinate.schema import SchemaManager

MIGRATION = Path(__file__).resolve().parents[2] / "gridmap/migrations/versions/0008_jobs.py"


def test_the_installed_procrastinate_needs_no_migration_we_have_not_applied() -> None:
    spec = importlib.util.spec_from_file_location("migration_0008", MIGRATION)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    shipped = sorted(p.stem for p in Path(SchemaManager.get_migrations_path()).glob("*.sql"))
    assert shipped[-1] == module.PROCRASTINATE_AT, (
        f"procrastinate now ships migration {shipped[-1]}: add a gridmap migration that "
        f"applies those after {module.PROCRASTINATE_AT}")

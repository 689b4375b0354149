"""``gridmap restore``: a backup into an empty database, checked before and after.

Before anything is written: the files match the manifest's checksums, the database holds no
tables of its own and the media folder is empty. The dump holds no extensions: those the owner
may create (trusted ones, pg_trgm) are created, the others (PostGIS, pgRouting: superuser only)
must come with the database, e.g. from template1. Then the dump
is restored in one transaction as the owner, the app role granted, the media copied back, and
the row counts compared with the manifest.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alembic.script import ScriptDirectory
from sqlalchemy.orm import Session, sessionmaker

from gridmap import schema
from gridmap.config import Settings
from gridmap.db import make_engine, make_session_factory, unit_of_work
from gridmap.errors import ConfigurationError, Conflict, DataRejected
from gridmap.operations import archive, pgtools
from gridmap.operations.repositories import catalog


@dataclass(frozen=True)
class RestoreReport:
    """What was restored, and whether the schema needs migrating to this gridmap's head."""

    alembic_revision: str | None
    head_revision: str | None
    row_counts: dict[str, int]
    media_files: int
    seconds: dict[str, float] = field(default_factory=dict)


def _check_empty(session: Session) -> None:
    """Conflict if the database already has tables of its own, naming them."""
    present = catalog.tables(session, schema.SCHEMA)
    if present:
        raise Conflict(f"the database is not empty: it has the tables {archive.listed(present)}; "
                       "restore into a new database (createdb -T template1 …)")


def _ensure_extensions(factory: sessionmaker[Session], manifest: dict[str, Any]) -> None:
    """Create the extensions the owner may create (trusted ones: pg_trgm); ConfigurationError
    naming those still missing (PostGIS and pgRouting need a superuser or template1)."""
    needed: dict[str, dict[str, str]] = manifest["database"].get("extensions", {})
    with factory() as session:
        have = catalog.extensions(session)
    missing: list[str] = []
    with unit_of_work(factory) as session:
        for name, ext in sorted(needed.items()):
            if have.get(name, {}).get("schema") == ext["schema"]:
                continue
            if not catalog.create_extension(session, name, ext["schema"]):
                missing.append(f"{name} (in schema {ext['schema']})")
    if missing:
        raise ConfigurationError(
            f"the database lacks the extension(s) {', '.join(missing)}, which only a superuser "
            "may create: CREATE EXTENSION them first, or create the database from a template1 "
            "that has them (scripts/devdb.sh does); nothing was restored")


def _check_media(media_dir: Path, *, force: bool) -> None:
    """Conflict if the media folder has files, unless the caller forces the copy over them."""
    if not force and media_dir.is_dir() and any(media_dir.iterdir()):
        raise Conflict(f"the media folder {media_dir} is not empty; empty it or pass --force "
                       "to copy the backup's files over it")


def _compare(expected: dict[str, int], found: dict[str, int]) -> None:
    """DataRejected naming every table whose row count differs from the manifest's."""
    differ = [f"{name} {expected.get(name, 'absent')} -> {found.get(name, 'absent')}"
              for name in sorted(set(expected) | set(found))
              if expected.get(name) != found.get(name)]
    if differ:
        raise DataRejected("restored row counts differ from the backup's (manifest -> database): "
                           + archive.listed(differ) + "; the database keeps what was restored: "
                           "drop and re-create it before another attempt")


def _restore_dump(factory: sessionmaker[Session], settings: Settings, source: Path) -> None:
    """pg_restore as the owner, then grant the app role (split roles) and analyse."""
    owner = settings.as_owner()
    dump = source / archive.DUMP
    with tempfile.TemporaryDirectory(prefix="gridmap-restore-") as scratch:
        listing = Path(scratch) / "toc.list"
        listing.write_text(pgtools.restore_listing(dump, schema=schema.SCHEMA), encoding="utf-8")
        pgtools.restore(owner.database_url, dump, listing=listing)
    role = schema.app_role(settings)
    with unit_of_work(factory) as session:
        if role is not None:
            schema.grant_app_role(session.connection(), role)
        catalog.analyze(session)


def head_revision(settings: Settings) -> str | None:
    """The newest migration this gridmap knows."""
    return ScriptDirectory.from_config(schema.alembic_config(settings)).get_current_head()


def restore(settings: Settings, source: Path, *, force_media: bool = False) -> RestoreReport:
    """Restore the backup in ``source`` into the settings' (empty) database and media folder."""
    start = time.perf_counter()
    manifest = archive.read_manifest(source)
    archive.verify(source, manifest)
    pgtools.find("pg_restore")  # a missing program is named before any work is done
    seconds = {"verify": time.perf_counter() - start}
    engine = make_engine(settings.as_owner())
    try:
        factory = make_session_factory(engine)
        with factory() as session:
            _check_empty(session)
        _check_media(settings.media_dir, force=force_media)
        _ensure_extensions(factory, manifest)
        _restore_dump(factory, settings, source)
        seconds["database"] = time.perf_counter() - start - seconds["verify"]
        archive.copy_media(source / archive.MEDIA, settings.media_dir)
        with factory() as session:
            counts = catalog.row_counts(session, schema.SCHEMA)
            revision = catalog.alembic_revision(session, schema.SCHEMA)
    finally:
        engine.dispose()
    _compare(manifest["row_counts"], counts)
    seconds["total"] = time.perf_counter() - start
    media = sum(1 for name in manifest["files"] if name.startswith(archive.MEDIA + "/"))
    return RestoreReport(alembic_revision=revision, head_revision=head_revision(settings),
                         row_counts=counts, media_files=media, seconds=seconds)

"""``gridmap backup``: the database (custom-format dump), the media folder and a manifest.

The dump and the row counts come from one snapshot, so the counts describe exactly the rows
dumped while the app keeps writing. Media is copied after the snapshot: a photo's file is
written before its row commits, so every photo row in the dump has its file in the copy (files
of later cases may come along; ``gridmap doctor`` knows such orphans).

Everything is written to a hidden sibling directory and renamed into place at the end: an
interrupted backup leaves ``.NAME.partial-…`` behind, never a directory that looks complete.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from gridmap import schema
from gridmap.config import Settings
from gridmap.db import make_engine, make_session_factory
from gridmap.operations import archive, pgtools
from gridmap.operations.repositories import catalog


@dataclass(frozen=True)
class BackupReport:
    """Where the backup went and what it holds."""

    directory: Path
    alembic_revision: str | None
    row_counts: dict[str, int]
    files: int
    bytes: int
    seconds: dict[str, float] = field(default_factory=dict)


def gridmap_version() -> str:
    """The installed gridmap's version ("unknown" when run from a tree not installed)."""
    try:
        return metadata.version("gridmap")
    except metadata.PackageNotFoundError:
        return "unknown"


def _dump(session: Session, owner: Settings, work: Path) -> dict[str, Any]:
    """Dump the schema from an exported snapshot and read what the manifest says of it."""
    snapshot = catalog.begin_snapshot(session)
    pgtools.dump(owner.database_url, work / archive.DUMP, schema=schema.SCHEMA,
                 snapshot=snapshot,
                 exclude_data=catalog.extension_tables(session, schema.SCHEMA))
    return {"alembic_revision": catalog.alembic_revision(session, schema.SCHEMA),
            "row_counts": catalog.row_counts(session, schema.SCHEMA),
            "database": {"file": archive.DUMP, "schema": schema.SCHEMA,
                         "server_version": catalog.server_version(session),
                         "extensions": catalog.extensions(session)}}


def backup(settings: Settings, directory: Path) -> BackupReport:
    """Back up the database (as its owner) and the media folder into the new ``directory``."""
    directory = directory.resolve()  # "." or "x/.." have no name to put a sibling beside
    archive.refuse_non_empty(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    pgtools.find("pg_dump")  # a missing program is named before any work is done
    seconds: dict[str, float] = {}
    work = Path(tempfile.mkdtemp(prefix=f".{directory.name}.partial-", dir=directory.parent))
    try:
        start = time.perf_counter()
        created = datetime.now(UTC)
        engine = make_engine(settings.as_owner())
        try:
            with make_session_factory(engine)() as session:
                described = _dump(session, settings.as_owner(), work)
        finally:
            engine.dispose()
        seconds["database"] = time.perf_counter() - start
        archive.copy_media(settings.media_dir, work / archive.MEDIA)
        seconds["media"] = time.perf_counter() - start - seconds["database"]
        files = archive.checksums(work)
        archive.write_manifest(work, {
            "format": archive.FORMAT, "gridmap_version": gridmap_version(),
            "created_at": created.isoformat(timespec="seconds"), **described, "files": files})
        if directory.exists():
            directory.rmdir()  # empty (checked above): rename cannot replace it everywhere
        work.rename(directory)
        archive.fsync_dir(directory.parent)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    seconds["total"] = time.perf_counter() - start
    return BackupReport(directory=directory, alembic_revision=described["alembic_revision"],
                        row_counts=described["row_counts"], files=len(files),
                        bytes=sum(f["bytes"] for f in files.values()), seconds=seconds)

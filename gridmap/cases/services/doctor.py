"""``gridmap doctor``: cases and their photo files agree (after a crash, a full disk, a restore).

Intake writes a case, its first event and its photos' rows in one transaction and removes the
files it wrote when that fails, so in normal operation nothing here is ever found. A worker
killed between writing a file and committing (SIGKILL, power loss) can leave a file no row
names; a media folder restored from an older copy can lack files that rows name. This finds
both, and cases without any event, and can clean the first two: orphan files older than a grace
period (younger ones may belong to an intake still in flight) are removed, and rows whose
files are both gone are deleted (what they named no longer exists).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from gridmap.cases.repositories import doctor as repo
from gridmap.db import unit_of_work

GRACE_S = 600
"""Files younger than this are left alone: an intake may be writing them right now."""
EVENTLESS_LIMIT = 1000


@dataclass(frozen=True)
class Report:
    """What disagrees: rows without files, files without rows, cases without history."""

    missing: list[tuple[int, int, str]] = field(default_factory=list)
    """(photo id, case id, path) of each photo row with a missing original or thumbnail."""
    unreadable_rows: list[int] = field(default_factory=list)
    """Photo rows with neither file: nothing left to show (``clean`` deletes these)."""
    orphans: list[str] = field(default_factory=list)
    """Files under ``cases/`` that no row names, older than the grace period."""
    cases_without_events: list[int] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        """Whether nothing disagrees."""
        return not (self.missing or self.orphans or self.cases_without_events)


def check(factory: sessionmaker[Session], media_dir: Path, *, grace_s: float = GRACE_S) -> Report:
    """Compare the photo rows with the files under ``media_dir``; no change is made."""
    named: set[str] = set()
    report = Report()
    with factory() as session:
        for photo_id, case_id, path, thumb in repo.photo_rows(session):
            named.update((path, thumb))
            gone = [p for p in (path, thumb) if not (media_dir / p).is_file()]
            if gone:
                report.missing.append((photo_id, case_id, gone[0]))
                if len(gone) == 2:
                    report.unreadable_rows.append(photo_id)
        report.cases_without_events.extend(
            repo.cases_without_events(session, limit=EVENTLESS_LIMIT))
    cutoff = time.time() - grace_s
    root = media_dir / "cases"
    if root.is_dir():
        for file in sorted(root.rglob("*")):
            relative = str(file.relative_to(media_dir))
            if file.is_file() and relative not in named and file.stat().st_mtime < cutoff:
                report.orphans.append(relative)
    return report


def clean(factory: sessionmaker[Session], media_dir: Path, report: Report) -> tuple[int, int]:
    """Remove the report's orphan files and delete its rows without files; (files, rows)."""
    with unit_of_work(factory) as session:
        rows = repo.delete_photo_rows(session, report.unreadable_rows)
    files = 0
    for relative in report.orphans:
        (media_dir / relative).unlink(missing_ok=True)
        files += 1
    return files, rows

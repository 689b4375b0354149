"""SQL for the consistency check of cases and their photo files (``gridmap doctor``)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session

from gridmap.models import Case, CaseEvent, CasePhoto


def photo_rows(session: Session, *, batch: int = 5000) -> Iterator[tuple[int, int, str, str]]:
    """Every photo row as (id, case id, path, thumbnail path), from a server-side cursor."""
    stmt = select(CasePhoto.id, CasePhoto.case_id, CasePhoto.path, CasePhoto.thumb_path)
    result = session.execute(stmt.order_by(CasePhoto.id).execution_options(yield_per=batch))
    try:
        for row in result:
            yield int(row[0]), int(row[1]), str(row[2]), str(row[3])
    finally:
        result.close()


def cases_without_events(session: Session, *, limit: int) -> list[int]:
    """Cases with no history at all (intake writes the case and its first event together)."""
    stmt = (select(Case.id).where(~exists().where(CaseEvent.case_id == Case.id))
            .order_by(Case.id).limit(limit))
    return list(session.execute(stmt).scalars())


def delete_photo_rows(session: Session, ids: Sequence[int]) -> int:
    """Delete photo rows (whose files are gone); how many."""
    if not ids:
        return 0
    result = session.execute(delete(CasePhoto).where(CasePhoto.id.in_(list(ids))))
    return int(result.rowcount)  # type: ignore[attr-defined]

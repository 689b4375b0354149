"""Reads and writes of the care register: entries, reasons, visits, explanations, reports."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from gridmap.models import (
    Building,
    CareEntry,
    CareEntryReason,
    CareExplanation,
    CareReason,
    CareRule,
    CareVisit,
    CareZeroReport,
    Person,
)
from gridmap.sqlfiles import sql


def reasons(session: Session) -> list[dict[str, Any]]:
    """Every reason, in display order."""
    rows = session.execute(select(CareReason.code, CareReason.name_zh, CareReason.name_en)
                           .order_by(CareReason.sort, CareReason.code)).mappings()
    return [dict(r) for r in rows]


def rules(session: Session) -> list[dict[str, Any]]:
    """Every visit rule, shortest interval first."""
    rows = session.execute(select(CareRule.reasons, CareRule.interval_days)
                           .order_by(CareRule.interval_days, CareRule.id)).mappings()
    return [{"reasons": sorted(r["reasons"]), "interval_days": r["interval_days"]} for r in rows]


def building(session: Session, code: str) -> dict[str, Any] | None:
    """A building's id, grid and a point inside it, by code."""
    row = session.execute(select(
        Building.id, Building.grid_code, Building.name,
        func.ST_X(func.ST_PointOnSurface(Building.geom)).label("lon"),
        func.ST_Y(func.ST_PointOnSurface(Building.geom)).label("lat"),
    ).where(Building.code == code)).mappings().first()
    return None if row is None else dict(row)


def insert_entry(session: Session, values: dict[str, Any], reason_codes: Iterable[str]) -> int:
    """A new entry with its reasons; its id."""
    entry_id = int(session.execute(insert(CareEntry).values(**values)
                                   .returning(CareEntry.id)).scalar_one())
    session.execute(insert(CareEntryReason), [{"entry_id": entry_id, "reason": r}
                                              for r in sorted(set(reason_codes))])
    return entry_id


def close_entry(session: Session, entry_id: int, reason: str) -> bool:
    """Close an active entry (moved away, died, no longer in need); False if already closed."""
    done = session.execute(update(CareEntry).where(CareEntry.id == entry_id, CareEntry.active)
                           .values(active=False, closed_at=func.now(), closed_reason=reason)
                           .returning(CareEntry.id)).first()
    return done is not None


def grid_entries(session: Session, grid: str, *, fallback_days: int) -> list[dict[str, Any]]:
    """The grid's active entries with reasons, interval and due time (soonest due first)."""
    rows = session.execute(sql("care/grid_entries"), {"grid": grid,
                                                      "fallback_days": fallback_days})
    return [dict(r) for r in rows.mappings()]


def entry(session: Session, entry_id: int, *, fallback_days: int) -> dict[str, Any] | None:
    """One entry (active or closed) with its grid, building, reasons and interval."""
    row = session.execute(select(CareEntry, Building.code, Building.name, Building.address,
                                 Building.grid_code)
                          .join(Building, Building.id == CareEntry.building_id)
                          .where(CareEntry.id == entry_id)).first()
    if row is None:
        return None
    e = row[0]
    codes = sorted(session.execute(select(CareEntryReason.reason)
                                   .where(CareEntryReason.entry_id == entry_id)).scalars())
    interval = session.execute(select(func.min(CareRule.interval_days))
                               .where(CareRule.reasons.contained_by(codes))).scalar()
    return {"id": e.id, "name": e.name, "phone": e.phone, "unit": e.unit,
            "household": e.household, "carer": e.carer, "note": e.note, "active": e.active,
            "closed_at": e.closed_at, "closed_reason": e.closed_reason, "created_at": e.created_at,
            "last_visit_at": e.last_visit_at, "building_code": row[1], "building_name": row[2],
            "building_address": row[3], "grid_code": row[4], "reasons": codes,
            "interval_days": interval if interval is not None else fallback_days}


def visits(session: Session, entry_id: int, *, limit: int) -> list[dict[str, Any]]:
    """The entry's newest visits with the visitor's name."""
    rows = session.execute(select(
        CareVisit.id, CareVisit.visited_at, Person.name.label("visitor"), CareVisit.distance_m,
        CareVisit.far, CareVisit.findings, CareVisit.needs_help, CareVisit.case_id,
    ).join(Person, Person.id == CareVisit.visitor_id).where(CareVisit.entry_id == entry_id)
        .order_by(CareVisit.visited_at.desc(), CareVisit.id.desc()).limit(limit)).mappings()
    return [dict(r) for r in rows]


def insert_visit(session: Session, values: dict[str, Any], lon: float | None,
                 lat: float | None, *, far_m: float) -> dict[str, Any]:
    """A visit; where the phone was, its distance (m, on the geography) from the building, and
    ``far`` beyond ``far_m``. Returns id, distance_m and far."""
    point = None if lon is None or lat is None else func.ST_SetSRID(func.ST_MakePoint(lon, lat),
                                                                      4326)
    distance = None
    if point is not None:
        distance = (select(func.ST_Distance(func.geography(point), func.geography(Building.geom)))
                    .join(CareEntry, CareEntry.building_id == Building.id)
                    .where(CareEntry.id == values["entry_id"]).scalar_subquery())
    row = session.execute(insert(CareVisit).values(**values, geom=point, distance_m=distance)
                          .returning(CareVisit.id, CareVisit.distance_m)).one()
    far = row.distance_m is not None and row.distance_m > far_m
    if far:
        session.execute(update(CareVisit).where(CareVisit.id == row.id)
                        .values(far=True))
    return {"id": int(row.id), "distance_m": row.distance_m, "far": far}


def visit_by_token(session: Session, token: str) -> dict[str, Any] | None:
    """The visit saved with this client token (a visit re-sent by the phone), if any.

    Takes a transaction-scoped advisory lock on the token first (as case intake does), so two
    tries of one visit arriving together are serialised: the second waits for the first to
    commit, then finds its visit instead of failing on the unique constraint (READ COMMITTED:
    the SELECT after the wait takes a new snapshot)."""
    session.execute(select(func.pg_advisory_xact_lock(func.hashtextextended(
        "care_visit:" + token, 0))))
    row = session.execute(select(CareVisit.id, CareVisit.entry_id, CareVisit.visitor_id,
                                 CareVisit.case_id, CareVisit.distance_m, CareVisit.far)
                          .where(CareVisit.client_token == token)).mappings().first()
    return None if row is None else dict(row)


def month_checklist(session: Session, grid: str, month: date, start: datetime,
                    end: datetime) -> list[dict[str, Any]]:
    """The grid's entries of ``month`` with the month's last visit and explanation."""
    rows = session.execute(sql("care/month"), {"grid": grid, "month": month, "start": start,
                                               "end": end})
    return [dict(r) for r in rows.mappings()]


def explain(session: Session, entry_id: int, month: date, reason: str, person_id: int) -> None:
    """Keep (or replace) why ``entry_id`` was not visited in ``month``."""
    stmt = pg_insert(CareExplanation).values(entry_id=entry_id, month=month, reason=reason,
                                             explained_by=person_id)
    session.execute(stmt.on_conflict_do_update(
        index_elements=[CareExplanation.entry_id, CareExplanation.month],
        set_={"reason": stmt.excluded.reason, "explained_by": stmt.excluded.explained_by,
              "explained_at": func.now()}))


def zero_report(session: Session, grid: str, month: date) -> dict[str, Any] | None:
    """The grid's report of ``month``, if sent."""
    row = session.execute(select(
        CareZeroReport.id, CareZeroReport.no_new_difficulty, CareZeroReport.note,
        CareZeroReport.submitted_at, Person.name.label("submitted_by"),
    ).join(Person, Person.id == CareZeroReport.submitted_by)
        .where(CareZeroReport.grid_code == grid, CareZeroReport.month == month)).mappings().first()
    return None if row is None else dict(row)


def insert_zero_report(session: Session, values: dict[str, Any]) -> int | None:
    """The new report's id, or None when the grid has already reported that month."""
    try:
        with session.begin_nested():
            return int(session.execute(insert(CareZeroReport).values(**values)
                                       .returning(CareZeroReport.id)).scalar_one())
    except IntegrityError:
        return None


def overview(session: Session, prefix: str, month: date, now: datetime, *, fallback_days: int,
             bounds: tuple[datetime, datetime], deadline: datetime, with_geom: bool,
             problems_only: bool) -> list[dict[str, Any]]:
    """Per grid of the area: worker, entries, overdue entries, the month's checklist counts and
    report with its state against ``deadline`` (one statement)."""
    rows = session.execute(sql("care/overview"), {
        "prefix": prefix, "month": month, "now": now, "fallback_days": fallback_days,
        "start": bounds[0], "end": bounds[1], "deadline": deadline,
        "with_geom": with_geom, "problems_only": problems_only})
    return [dict(r) for r in rows.mappings()]


def counts(session: Session, prefix: str) -> list[dict[str, Any]]:
    """Active entries per grid of the area (no person)."""
    return [dict(r) for r in session.execute(sql("care/counts"), {"prefix": prefix}).mappings()]


def scorecard(session: Session, values: dict[str, Any]) -> list[dict[str, Any]]:
    """The care figures of a scorecard level, one row per unit (``care/scorecard.sql``)."""
    return [dict(r) for r in session.execute(sql("care/scorecard"), values).mappings()]

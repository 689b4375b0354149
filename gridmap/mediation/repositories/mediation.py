"""Reads and writes of mediation points, disputes, their parties, sessions and history."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, func, insert, literal, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from gridmap.models import (
    Account,
    Community,
    Dispute,
    DisputeEvent,
    DisputeMediator,
    DisputeParty,
    DisputeSession,
    Facility,
    MediationPoint,
    Person,
)
from gridmap.sqlfiles import sql


def _point_columns() -> tuple[Any, ...]:
    return (MediationPoint.facility_id.label("id"), MediationPoint.level,
            MediationPoint.area_code, Facility.code, Facility.name,
            func.ST_X(Facility.geom).label("lon"), func.ST_Y(Facility.geom).label("lat"))


def point(session: Session, point_id: int) -> dict[str, Any] | None:
    """One point with its level, area, facility name and place."""
    row = session.execute(select(*_point_columns())
                          .join(Facility, Facility.id == MediationPoint.facility_id)
                          .where(MediationPoint.facility_id == point_id)).mappings().first()
    return None if row is None else dict(row)


def point_for_area(session: Session, area_code: str) -> dict[str, Any] | None:
    """The point serving exactly ``area_code`` (one per area), if any."""
    row = session.execute(select(*_point_columns())
                          .join(Facility, Facility.id == MediationPoint.facility_id)
                          .where(MediationPoint.area_code == area_code)).mappings().first()
    return None if row is None else dict(row)


def points(session: Session, prefix: str, month_start: datetime,
           year_start: datetime) -> list[dict[str, Any]]:
    """Points serving the area and above it, with their disputes counted (no person)."""
    rows = session.execute(sql("mediation/points"), {"prefix": prefix, "month_start": month_start,
                                                     "year_start": year_start})
    return [dict(r) for r in rows.mappings()]


def communities(session: Session, prefix: str, month_start: datetime,
                year_start: datetime) -> list[dict[str, Any]]:
    """Disputes per community of the area, by where they arose (no person)."""
    rows = session.execute(sql("mediation/communities"), {
        "prefix": prefix, "month_start": month_start, "year_start": year_start})
    return [dict(r) for r in rows.mappings()]


def community_name(session: Session, code: str) -> str | None:
    """A community's name, None when there is no such community."""
    return session.execute(select(Community.name).where(Community.code == code)).scalar()


def disputes_at(session: Session, point_id: int, *, state: str, limit: int) -> list[dict[str, Any]]:
    """The point's disputes with parties and mediators (open first, newest first)."""
    rows = session.execute(sql("mediation/disputes"), {"point_id": point_id, "state": state,
                                                       "limit": limit})
    return [dict(r) for r in rows.mappings()]


def dispute(session: Session, dispute_id: int, *, lock: bool = False) -> dict[str, Any] | None:
    """One dispute with its point's level and area (``lock``: FOR UPDATE of the dispute row,
    so concurrent steps on it run one after the other)."""
    stmt = (select(Dispute, MediationPoint.level, MediationPoint.area_code, Facility.name)
            .join(MediationPoint, MediationPoint.facility_id == Dispute.point_id)
            .join(Facility, Facility.id == MediationPoint.facility_id)
            .where(Dispute.id == dispute_id))
    if lock:
        stmt = stmt.with_for_update(of=Dispute)
    row = session.execute(stmt).first()
    if row is None:
        return None
    d = row[0]
    referred_to = session.execute(select(Dispute.id).where(Dispute.referred_from == d.id)).scalar()
    return {"id": d.id, "point_id": d.point_id, "point_level": row[1], "point_area": row[2],
            "point_name": row[3], "community_code": d.community_code, "kind": d.kind,
            "summary": d.summary, "state": d.state, "case_id": d.case_id,
            "referred_from": d.referred_from, "referred_to": referred_to,
            "outcome_note": d.outcome_note, "created_at": d.created_at,
            "accepted_at": d.accepted_at, "closed_at": d.closed_at}


def parties(session: Session, dispute_id: int) -> list[dict[str, Any]]:
    """The dispute's parties in their order."""
    rows = session.execute(select(DisputeParty.role, DisputeParty.name, DisputeParty.phone,
                                  DisputeParty.address)
                           .where(DisputeParty.dispute_id == dispute_id)
                           .order_by(DisputeParty.sort, DisputeParty.id)).mappings()
    return [dict(r) for r in rows]


def mediators(session: Session, dispute_id: int) -> list[dict[str, Any]]:
    """The people working the dispute (person id and name)."""
    rows = session.execute(select(Person.id, Person.name)
                           .join(DisputeMediator, DisputeMediator.person_id == Person.id)
                           .where(DisputeMediator.dispute_id == dispute_id)
                           .order_by(DisputeMediator.added_at, Person.id)).mappings()
    return [dict(r) for r in rows]


def sessions(session: Session, dispute_id: int) -> list[dict[str, Any]]:
    """The sessions held, oldest first, with who recorded each."""
    rows = session.execute(select(DisputeSession.id, DisputeSession.held_on,
                                  DisputeSession.mediators, DisputeSession.note,
                                  DisputeSession.recorded_at,
                                  Person.name.label("recorded_by"))
                           .join(Person, Person.id == DisputeSession.recorded_by)
                           .where(DisputeSession.dispute_id == dispute_id)
                           .order_by(DisputeSession.held_on, DisputeSession.id)).mappings()
    return [{**r, "mediators": list(r["mediators"])} for r in rows]


def events(session: Session, dispute_id: int) -> list[dict[str, Any]]:
    """The dispute's history, oldest first, with the actor's name."""
    rows = session.execute(select(DisputeEvent.id, DisputeEvent.action, DisputeEvent.from_state,
                                  DisputeEvent.to_state, DisputeEvent.note,
                                  DisputeEvent.payload, DisputeEvent.created_at,
                                  Person.name.label("actor"))
                           .join(Person, Person.id == DisputeEvent.actor_id)
                           .where(DisputeEvent.dispute_id == dispute_id)
                           .order_by(DisputeEvent.id)).mappings()
    return [dict(r) for r in rows]


def people_by_username(session: Session, usernames: Iterable[str]) -> dict[str, tuple[int, str]]:
    """Person id and role of the active accounts named (unknown or deactivated ones are left out)."""
    rows = session.execute(select(Account.username, Account.person_id, Account.role)
                           .where(Account.username.in_(sorted(set(usernames))),
                                  Account.active))
    return {str(u): (int(p), str(r)) for u, p, r in rows}


def insert_dispute(session: Session, values: dict[str, Any]) -> int:
    """A new dispute; its id."""
    return int(session.execute(insert(Dispute).values(**values).returning(Dispute.id))
               .scalar_one())


def insert_parties(session: Session, dispute_id: int,
                   rows: Sequence[dict[str, Any]]) -> None:
    """The dispute's parties, in the order given."""
    session.execute(insert(DisputeParty), [{**r, "dispute_id": dispute_id, "sort": i}
                                           for i, r in enumerate(rows)])


def copy_parties(session: Session, source_id: int, target_id: int) -> None:
    """The parties of ``source_id`` as parties of ``target_id`` (a referral up)."""
    session.execute(insert(DisputeParty).from_select(
        ["dispute_id", "role", "name", "phone", "address", "sort"],
        select(literal(target_id, BigInteger), DisputeParty.role,
               DisputeParty.name, DisputeParty.phone, DisputeParty.address, DisputeParty.sort)
        .where(DisputeParty.dispute_id == source_id)))


def add_mediators(session: Session, dispute_id: int, person_ids: Iterable[int]) -> None:
    """Name people the dispute's mediators (those named already stay as they were)."""
    ids = sorted(set(person_ids))
    if ids:
        session.execute(pg_insert(DisputeMediator).values(
            [{"dispute_id": dispute_id, "person_id": p} for p in ids]).on_conflict_do_nothing())


def insert_session(session: Session, values: dict[str, Any]) -> int:
    """A session held; its id."""
    return int(session.execute(insert(DisputeSession).values(**values)
                               .returning(DisputeSession.id)).scalar_one())


def update_dispute(session: Session, dispute_id: int, values: dict[str, Any]) -> None:
    """Change the dispute's state (and what goes with it), touching ``updated_at``."""
    session.execute(update(Dispute).where(Dispute.id == dispute_id)
                    .values(**values, updated_at=func.now()))


def insert_event(session: Session, values: dict[str, Any]) -> None:
    """Append a step to the dispute's history."""
    session.execute(insert(DisputeEvent).values(**values))


def dispute_of_case(session: Session, case_id: int) -> int | None:
    """The dispute a case became (its first, before any referral), if any."""
    return session.execute(select(Dispute.id).where(Dispute.case_id == case_id,
                                                    Dispute.referred_from.is_(None))
                           .order_by(Dispute.id).limit(1)).scalar()


def session_count(session: Session, dispute_id: int) -> int:
    """Sessions held on the dispute."""
    return int(session.execute(select(func.count()).select_from(DisputeSession)
                               .where(DisputeSession.dispute_id == dispute_id)).scalar_one())

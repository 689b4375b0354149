"""Importing teams and volunteers from a spreadsheet (.xlsx or .csv): all or nothing.

Every row is checked first (formats, skills, the communities exist and lie in the importer's
scope); any problem refuses the whole file, each problem naming its row and column. A dry run
stops there and says what would be made. Otherwise teams are made on first sight of their
(community, name), volunteers are added (or, named again with the same phone, their skills and
availability updated) and leaders set, in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from gridmap.access import SUPERVISORS, Principal
from gridmap.accounts.services import audit
from gridmap.db import unit_of_work
from gridmap.errors import DataRejected, Forbidden, Unauthorized
from gridmap.volunteers import rules, spreadsheet
from gridmap.volunteers.repositories import volunteers as repo

MAX_PROBLEMS_SHOWN = 50
MAX_BYTES = spreadsheet.MAX_BYTES
"""Largest upload read (a larger one is refused by the reader, unread past this)."""


@dataclass
class ImportReport:
    """What an import made (or, for a dry run, would make)."""

    dry_run: bool
    rows: int = 0
    teams_new: list[str] = field(default_factory=list)
    volunteers_new: int = 0
    volunteers_updated: int = 0

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON-safe values."""
        return {"dry_run": self.dry_run, "rows": self.rows, "teams_new": self.teams_new,
                "volunteers_new": self.volunteers_new,
                "volunteers_updated": self.volunteers_updated}


def _known_skills(session: Session) -> dict[str, str]:
    known: dict[str, str] = {}
    for s in repo.skills(session):
        for name in (s["code"], s["name_zh"], s["name_en"]):
            known[str(name).lower()] = s["code"]
    return known


def _scope_problems(session: Session, principal: Principal | None,
                    rows: list[spreadsheet.Row], problems: spreadsheet.Problems) -> None:
    existing = repo.communities(session, (r.community_code for r in rows if r.community_code))
    for row in rows:
        if not row.community_code or len(row.community_code) != 12:
            continue
        if row.community_code not in existing:
            problems.add(row.line, "community_code", "未找到该社区", "no such community")
        elif principal is not None and not rules.sees_community(principal, row.community_code):
            problems.add(row.line, "community_code", "该社区不在您的辖区内",
                         "the community is outside your scope")


def _refuse(problems: spreadsheet.Problems) -> DataRejected:
    shown = problems.lines[:MAX_PROBLEMS_SHOWN]
    more = len(problems.lines) - len(shown)
    tail = f"；另有 {more} 处问题 (and {more} more)" if more else ""
    return DataRejected("导入未执行，文件有问题：" + "；".join(shown) + tail
                        + " (nothing was imported: the file has problems)")


def importer(principal: Principal) -> Principal:
    """``principal`` if they may import volunteers (community staff and above).

    Raises
    ------
    Unauthorized
        For the public.
    Forbidden
        For every other role.
    """
    if not principal.signed_in:
        raise Unauthorized(Unauthorized.MESSAGE)
    if not principal.has(*SUPERVISORS):
        raise Forbidden("只有社区、街道和区的工作人员可以导入志愿者 (only community, "
                        "sub-district and district staff import volunteers)")
    return principal


def import_volunteers(factory: sessionmaker[Session], principal: Principal | None, data: bytes,
                      filename: str, *, dry_run: bool) -> ImportReport:
    """Check and (unless ``dry_run``) load a spreadsheet of teams and volunteers.

    ``principal``: the importer (community staff and above, for communities in their scope);
    None for the operator at the server (the CLI).

    Raises
    ------
    DataRejected
        Any problem in any row: nothing is written; the problems name rows and columns.
    """
    if principal is not None:
        importer(principal)
    problems = spreadsheet.Problems()
    table = spreadsheet.read_table(data, filename, problems)
    report = ImportReport(dry_run=dry_run, rows=len(table))
    try:
        with unit_of_work(factory) as session:
            rows = spreadsheet.check_rows(table, _known_skills(session), problems) if table else []
            _scope_problems(session, principal, rows, problems)
            if problems.lines:
                raise _refuse(problems)
            _write(session, rows, report)
            if dry_run:
                raise _DryRun  # the unit of work rolls back everything the rows wrote
            if principal is not None:
                communities = sorted({r.community_code for r in rows})
                audit.record(session, principal, audit.Event.VOLUNTEERS_IMPORTED,
                             target_kind="area", target_id=communities[0] if communities else "",
                             detail={"file": filename[:200], "communities": communities,
                                     **report.as_dict()})
    except _DryRun:
        pass
    return report


class _DryRun(Exception):
    """Raised inside a dry run's unit of work so that it rolls back (caught right outside)."""


def _write(session: Session, rows: list[spreadsheet.Row], report: ImportReport) -> None:
    teams = repo.teams_by_name(session, {r.community_code for r in rows})
    for row in rows:
        key = (row.community_code, row.team)
        if key not in teams:
            teams[key] = repo.insert_team(session, {
                "community_code": row.community_code, "name": row.team,
                "skills": list(row.team_skills)})
            report.teams_new.append(f"{row.community_code} {row.team}")
        team_id = teams[key]
        found = repo.volunteer_id(session, team_id, row.name, row.phone)
        values = {"skills": list(row.skills), "availability": row.availability}
        if found is None:
            found = repo.insert_volunteer(session, {"team_id": team_id, "name": row.name,
                                                    "phone": row.phone, **values})
            report.volunteers_new += 1
        else:
            repo.update_volunteer(session, found, values)
            report.volunteers_updated += 1
        if row.leader:
            repo.set_leader(session, team_id, found)

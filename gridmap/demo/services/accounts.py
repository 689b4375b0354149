"""Demo accounts: one per role in 沈河区 and 大东区 (where loaded) and one city administrator,
with generated passwords written to a private file, so people can try every role at once.

The accounts are real people of the demo data where the role has them (a grid worker of the
district's busiest grid, the secretary of that grid's community, the housing department's staff
member enrolled there), so each sees the same cases from their own post. The passwords are not
one-time: demo users sign in directly. Idempotent: an account already in the database whose
password is in the file is kept; one whose password is unknown (the file was lost) is replaced
with a new password; ``reset`` replaces them all. A demo reload (``TRUNCATE person … CASCADE``)
removes the accounts, and the next run makes them again.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from sqlalchemy.orm import Session, sessionmaker

from gridmap.access import Principal, Role
from gridmap.accounts.services import accounts
from gridmap.db import unit_of_work
from gridmap.demo.repositories import accounts as repo

DEMO_DISTRICTS: dict[str, str] = {"210103": "shenhe", "210104": "dadong"}
"""The districts that get demo accounts (code → the user names' prefix), where loaded."""
DEPARTMENT = "housing"
"""The department whose enrolled staff member gets the demo department account."""
ADMIN_USERNAME = "demo-admin"
DEMO = Principal(username="demo")
"""Who the audit log records as creating the demo accounts."""
COLUMNS = ("role", "district", "username", "password", "scope")
_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


@dataclass(frozen=True)
class DemoAccount:
    """A demo account as written to the file, and what this run did with it."""

    role: str
    district: str
    username: str
    password: str
    scope: str
    state: Literal["created", "kept", "replaced"] = "created"


@dataclass(frozen=True)
class _Wanted:
    """An account the demo should have."""

    role: Role
    username: str
    district: str
    scope: str
    person_id: int | None = None
    name: str = ""
    area_code: str | None = None
    department_code: str | None = None


def make_demo_accounts(factory: sessionmaker[Session], path: Path, *,
                       reset: bool = False) -> list[DemoAccount]:
    """Create (or keep, or replace) the demo accounts and write them to ``path`` (mode 600).

    Districts of :data:`DEMO_DISTRICTS` that are not loaded are skipped; the administrator is
    made whenever any district is loaded. Returns the accounts as written.
    """
    known = read_file(path)
    with factory() as session:
        wanted = _wanted(session)
        existing = repo.accounts(session, [w.username for w in wanted])
    made = [_ensure(factory, w, existing.get(w.username), known, reset=reset) for w in wanted]
    if made:
        write_file(path, made)
    return made


def _ensure(factory: sessionmaker[Session], wanted: _Wanted, current: dict[str, Any] | None,
            known: dict[str, str], *, reset: bool) -> DemoAccount:
    """Keep the account if it is as wanted and its password is known, else (re)create it."""
    row = {"role": wanted.role.value, "district": wanted.district, "username": wanted.username,
           "scope": wanted.scope}
    if current is not None and not reset and wanted.username in known and _same(current, wanted):
        return DemoAccount(**row, password=known[wanted.username], state="kept")
    person_id = wanted.person_id
    if current is not None:
        with unit_of_work(factory) as session:
            repo.delete_account(session, int(current["id"]))
        if person_id is None:  # an office post: the same person again, not a new one
            person_id = int(current["person_id"])
    password = _password()
    accounts.create(factory, DEMO, accounts.NewAccount(
        username=wanted.username, role=wanted.role.value, person_id=person_id,
        name=wanted.name if person_id is None else "", area_code=wanted.area_code,
        department_code=wanted.department_code, password=password))
    return DemoAccount(**row, password=password,
                       state="created" if current is None else "replaced")


def _same(current: dict[str, Any], wanted: _Wanted) -> bool:
    return (current["role"] == wanted.role.value and current["area_code"] == wanted.area_code
            and current["department_code"] == wanted.department_code
            and (wanted.person_id is None or current["person_id"] == wanted.person_id))


def _wanted(session: Session) -> list[_Wanted]:
    """Every demo account of the loaded districts, then the administrator."""
    out: list[_Wanted] = []
    for code, name in repo.districts(session, list(DEMO_DISTRICTS)).items():
        out += _district_accounts(session, code, name, DEMO_DISTRICTS[code])
    if out:
        out.append(_Wanted(Role.ADMIN, ADMIN_USERNAME, "", "城市 city",
                           name="演示系统管理员"))
    return out


def _district_accounts(session: Session, district: str, name: str, slug: str) -> list[_Wanted]:
    """One account per role in ``district``, around its busiest grid."""
    label = f"{name} {district}"
    out: list[_Wanted] = []
    worker = repo.grid_worker(session, district, username=f"{slug}-grid-worker")
    if worker is not None:
        grid, community = str(worker["grid_code"]), str(worker["community_code"])
        out.append(_Wanted(Role.GRID_WORKER, f"{slug}-grid-worker", label, f"网格 grid {grid}",
                           person_id=int(worker["person_id"])))
        secretary = repo.secretary(session, community, username=f"{slug}-community")
        if secretary is not None:
            out.append(_Wanted(Role.COMMUNITY_STAFF, f"{slug}-community", label,
                               f"社区 community {community}",
                               person_id=int(secretary["person_id"]), area_code=community))
        out.append(_Wanted(Role.SUBDISTRICT_STAFF, f"{slug}-subdistrict", label,
                           f"街道 sub-district {community[:9]}", name=f"{name}街道工作人员（演示）",
                           area_code=community[:9]))
        staff = repo.enrolled(session, grid, DEPARTMENT, username=f"{slug}-{DEPARTMENT}")
        if staff is not None:
            out.append(_Wanted(Role.DEPARTMENT_STAFF, f"{slug}-{DEPARTMENT}", label,
                               f"部门 department {DEPARTMENT}, {staff['grids']} 个网格 grids",
                               person_id=int(staff["person_id"]),
                               department_code=DEPARTMENT))
    office = [(Role.DISTRICT_CENTRE, "district", "区指挥中心", "区 district"),
              (Role.PLANNER, "planner", "规划", "区 district"),
              (Role.DATA_OFFICER, "data", "数据管理", "区 district")]
    for role, suffix, post, scope in office:
        out.append(_Wanted(role, f"{slug}-{suffix}", label, f"{scope} {district}",
                           name=f"{name}{post}（演示）", area_code=district))
    return out


def _password() -> str:
    """A readable random password (4 × 4 characters, about 92 bits)."""
    return "-".join("".join(secrets.choice(_ALPHABET) for _ in range(4)) for _ in range(4))


def read_file(path: Path) -> dict[str, str]:
    """User name → password of the accounts listed in a demo accounts file (none if absent)."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    found = {}
    for line in text.splitlines():
        cells = line.split("\t")
        if line.startswith("#") or len(cells) != len(COLUMNS) or cells[0] == COLUMNS[0]:
            continue
        found[cells[2]] = cells[3]
    return found


def write_file(path: Path, made: list[DemoAccount]) -> None:
    """Write the accounts to ``path`` (tab-separated, with a header), readable by its owner
    only: created with mode 600 and moved into place, so no other user ever sees it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        os.fchmod(out.fileno(), 0o600)  # an older leftover keeps its mode through O_CREAT
        out.write("# gridmap demo accounts: sign in at /login (gridmap demo accounts). "
                  "Keep this file private.\n")
        out.write("\t".join(COLUMNS) + "\n")
        for a in made:
            out.write("\t".join((a.role, a.district, a.username, a.password, a.scope)) + "\n")
    os.replace(temporary, path)

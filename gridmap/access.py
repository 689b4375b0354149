"""Who is asking: the signed-in person's role and territorial scope (pure; no Flask, no database).

Every service and repository that reads cases, people, photos, exports or statistics takes a
:class:`Principal`, so scope is enforced where the data is read; a handler that forgot a check
still gets only the rows its caller may see. Roles follow the territory and the
"网格吹哨、部门报到" structure (see README, "Accounts and roles"):

=================  ==========================================  ======================================
role               scope                                       what it is for
=================  ==========================================  ======================================
grid_worker        the grids assigned to them (grid_member)    report and work the cases of their grids
community_staff    one community (12-digit code)               dispatch, verify, rate, close
subdistrict_staff  one sub-district (9 digits)                 the same across the sub-district
district_centre    one district (6 digits)                     dispatch, supervise, reassign, statistics
department_staff   grids their department is enrolled in       the cases sent or whistled to them there
planner            a district, or the city                     coverage, siting, what-if (no residents)
data_officer       a district, or the city                     territory, facilities, people
admin              everything                                  accounts, roles, assignments, audit log
=================  ==========================================  ======================================
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

from gridmap import codes
from gridmap.errors import Forbidden


class Role(StrEnum):
    """An account's role, as stored in ``account.role``."""

    GRID_WORKER = "grid_worker"
    COMMUNITY_STAFF = "community_staff"
    SUBDISTRICT_STAFF = "subdistrict_staff"
    DISTRICT_CENTRE = "district_centre"
    DEPARTMENT_STAFF = "department_staff"
    PLANNER = "planner"
    DATA_OFFICER = "data_officer"
    ADMIN = "admin"


SUPERVISORS = frozenset({Role.COMMUNITY_STAFF, Role.SUBDISTRICT_STAFF, Role.DISTRICT_CENTRE})
"""Staff of a territory: they dispatch, verify, rate and close the cases inside it."""
CASE_ROLES = SUPERVISORS | {Role.GRID_WORKER, Role.DEPARTMENT_STAFF}
"""Roles that work cases and so may see residents' personal data of cases in their scope."""
STATISTICS_ROLES = SUPERVISORS | {Role.PLANNER, Role.ADMIN}
"""Roles that see case statistics (counts and rates, no personal data) for their area."""

AREA_LEVEL: dict[Role, codes.Level] = {
    Role.COMMUNITY_STAFF: codes.Level.COMMUNITY,
    Role.SUBDISTRICT_STAFF: codes.Level.SUBDISTRICT,
    Role.DISTRICT_CENTRE: codes.Level.DISTRICT,
}
"""Roles whose scope is exactly one area of this level."""
OPTIONAL_DISTRICT = frozenset({Role.PLANNER, Role.DATA_OFFICER})
"""Roles whose scope is one district or, without an area, the whole city."""


def area_rule(role: Role) -> Literal["required", "district_or_city", "none"]:
    """Whether an account of ``role`` names an area: always, optionally a district, or never."""
    if role in AREA_LEVEL:
        return "required"
    if role in OPTIONAL_DISTRICT:
        return "district_or_city"
    return "none"


@dataclass(frozen=True)
class CaseScope:
    """Which cases a principal may read, as repositories translate it into SQL.

    ``kind``: ``none`` (no case at all), ``all``, ``area`` (cases whose grid lies in
    ``area_code``), ``grids`` (cases of these grids) or ``department`` (cases of these grids
    owned by, or whistled to, ``department``).
    """

    kind: Literal["none", "all", "area", "grids", "department"]
    area_code: str | None = None
    grids: frozenset[str] = frozenset()
    department: str | None = None


@dataclass(frozen=True)
class Principal:
    """The person behind a request: the public (no account) or a signed-in account.

    ``area_code``: the territory the account oversees (a district, sub-district or community
    code), ``None`` for the whole city. ``grids``: a grid worker's grids, or the grids where a
    department's staff member is enrolled. ``address``: the client's address, for the audit log.
    """

    account_id: int | None = None
    person_id: int | None = None
    role: Role | None = None
    area_code: str | None = None
    department_code: str | None = None
    grids: frozenset[str] = field(default_factory=frozenset)
    username: str = ""
    name: str = ""
    address: str | None = None

    @property
    def signed_in(self) -> bool:
        """Whether this is an account (not the public)."""
        return self.role is not None

    def has(self, *roles: Role) -> bool:
        """Whether the account has one of ``roles``."""
        return self.role is not None and self.role in roles

    def covers(self, code: str) -> bool:
        """Whether a grid (or area) ``code`` lies inside this principal's territory.

        A grid worker and a department's staff cover exactly their grids; territorial roles
        cover every code under their area (no area: the whole city); the public covers nothing.
        """
        if self.role is None:
            return False
        if self.role in (Role.GRID_WORKER, Role.DEPARTMENT_STAFF):
            return code in self.grids
        return self.area_code is None or code.startswith(self.area_code)

    def case_scope(self) -> CaseScope:
        """The cases this principal may read."""
        if self.role is None or self.role in (Role.PLANNER, Role.DATA_OFFICER):
            return CaseScope("none")
        if self.role is Role.ADMIN:
            return CaseScope("all")
        if self.role is Role.GRID_WORKER:
            return CaseScope("grids", grids=self.grids)
        if self.role is Role.DEPARTMENT_STAFF:
            return CaseScope("department", grids=self.grids, department=self.department_code)
        return CaseScope("area", area_code=self.area_code)

    def may_read_case(self, grid_code: str, departments: frozenset[str]) -> bool:
        """Whether a case of ``grid_code`` handled by ``departments`` (owner and co-handlers)
        is in scope: the same rule as :meth:`case_scope`, for one case already loaded."""
        scope = self.case_scope()
        if scope.kind == "all":
            return True
        if scope.kind == "area":
            return scope.area_code is None or grid_code.startswith(scope.area_code)
        if scope.kind == "grids":
            return grid_code in scope.grids
        if scope.kind == "department":
            return grid_code in scope.grids and scope.department in departments
        return False

    def statistics_area(self) -> str | None:
        """The area whose statistics this principal may see (``None``: the whole city).

        Raises
        ------
        Forbidden
            For roles that see no statistics.
        """
        if not self.has(*STATISTICS_ROLES):
            raise Forbidden("您的岗位不能查看案件统计 (your role cannot see case statistics)")
        return self.area_code


PUBLIC = Principal()
"""The public: not signed in."""

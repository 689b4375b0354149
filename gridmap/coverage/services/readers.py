"""Who may read coverage and plan, and inside which area: the one copy of coverage's access rule.

Coverage is read (runs, buildings by band, area rates, histograms, catchments, the GB 50180
audit and their exports) by planners, data officers, administrators and the staff of a territory
(community, sub-district, district). Nobody else: a grid worker or a department works cases,
the public sees the map. Each reader reads inside one district at most, except the city-wide
accounts (an administrator, or a planner or data officer without an area):

- a planner or data officer of a district: that district;
- community, sub-district and district staff: the district their area lies in, so a community
  can compare itself with its neighbours and the district choropleth stays whole;
- administrators and city-wide planners and data officers: the whole city.

Siting and what-if are for planners only. Every service that reads coverage for a request takes
the :class:`~gridmap.access.Principal` and turns it into an area here, which the repositories
put into their SQL; the command line acts as :data:`OPERATOR` (whoever holds the server holds
the database too).
"""

from __future__ import annotations

from gridmap import codes
from gridmap.access import SUPERVISORS, Principal, Role
from gridmap.errors import Forbidden, Unauthorized

READERS = frozenset(SUPERVISORS | {Role.PLANNER, Role.DATA_OFFICER, Role.ADMIN})
"""Roles that read coverage (never residents' personal data: coverage holds none)."""
PLANNERS = frozenset({Role.PLANNER})
"""Roles that run siting and what-if."""

OPERATOR = Principal(role=Role.ADMIN, username="cli")
"""The command line's principal: the operator at the server reads the whole city."""


def _forbidden_role() -> Forbidden:
    return Forbidden("您的岗位不能查看覆盖分析 (your role cannot read coverage analysis)")


def scope(principal: Principal) -> str | None:
    """The district ``principal`` reads coverage in, or None for the whole city.

    Raises
    ------
    Unauthorized
        For the public (HTTP 401).
    Forbidden
        For a role that does not read coverage (HTTP 403).
    """
    if not principal.signed_in:
        raise Unauthorized(Unauthorized.MESSAGE)
    if not principal.has(*READERS):
        raise _forbidden_role()
    if principal.area_code is None:
        return None
    return principal.area_code[: codes.width(codes.Level.DISTRICT)]


def area(principal: Principal, asked: str | None) -> str | None:
    """The area a request reads: ``asked`` (a well-formed code) if it lies in the principal's
    scope, the scope itself when nothing is asked (None: the whole city).

    Raises
    ------
    Forbidden
        When ``asked`` lies outside the scope (HTTP 403), besides :func:`scope`'s refusals.
    """
    own = scope(principal)
    if not asked:
        return own
    if own is not None and not codes.nests(own, asked):
        raise Forbidden(f"区域 {asked} 不在您的辖区 {own} 内 (area {asked} lies outside your "
                        f"area {own})")
    return asked


def ensure_planner(principal: Principal) -> Principal:
    """``principal`` if it may run siting and what-if; 401 for the public, 403 otherwise."""
    if not principal.signed_in:
        raise Unauthorized(Unauthorized.MESSAGE)
    if not principal.has(*PLANNERS) or principal.account_id is None:
        raise Forbidden("只有规划人员可以进行选址和假设分析 (only planners may run siting and "
                        "what-if)")
    return principal

"""Who may administer what: checked again by every administration service (the handlers'
``@require`` is the first line), so a caller that forgot a check still cannot change anything."""

from __future__ import annotations

from gridmap.access import Principal, Role
from gridmap.errors import Forbidden, NotFound, Unauthorized

ASSIGNERS = frozenset({Role.ADMIN, Role.DATA_OFFICER})
"""Roles that assign grid workers and enrol departments (data officers inside their area)."""


def _signed_in(principal: Principal) -> None:
    if not principal.signed_in:
        raise Unauthorized(Unauthorized.MESSAGE)


def admin(principal: Principal) -> Principal:
    """``principal`` if it is an administrator (the command line counts as one).

    Raises
    ------
    Unauthorized
        For the public.
    Forbidden
        For every other role.
    """
    _signed_in(principal)
    if not principal.has(Role.ADMIN):
        raise Forbidden("只有系统管理员可以执行此操作 (only administrators may do this)")
    return principal


def assigner(principal: Principal, grid_code: str | None = None) -> Principal:
    """``principal`` if it may change assignments (of ``grid_code``, when given).

    Raises
    ------
    Forbidden
        For roles that do not assign.
    NotFound
        For a grid outside a data officer's area (its existence is not confirmed).
    """
    _signed_in(principal)
    if not principal.has(*ASSIGNERS):
        raise Forbidden("只有系统管理员和数据管理员可以调整网格分配 "
                        "(only administrators and data officers change assignments)")
    if grid_code is not None and not principal.covers(grid_code):
        raise NotFound(f"网格 {grid_code[:15]} 不存在 (no such grid)")
    return principal


def assignable_area(principal: Principal) -> str | None:
    """The code prefix of the grids ``principal`` may assign (None: every grid)."""
    assigner(principal)
    return None if principal.has(Role.ADMIN) else principal.area_code

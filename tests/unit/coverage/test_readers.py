"""Coverage's access rule (pure): who reads coverage, inside which area, and who plans."""

from __future__ import annotations

import pytest

from gridmap.access import PUBLIC, Principal, Role
from gridmap.coverage.services import readers
from gridmap.errors import Forbidden, Unauthorized


def who(role: Role, area: str | None = None, account_id: int | None = 7) -> Principal:
    return Principal(account_id=account_id, role=role, area_code=area)


@pytest.mark.parametrize("principal, scope", [
    (who(Role.PLANNER, "210103"), "210103"),
    (who(Role.PLANNER), None),
    (who(Role.DATA_OFFICER, "210104"), "210104"),
    (who(Role.ADMIN), None),
    (who(Role.DISTRICT_CENTRE, "210103"), "210103"),
    (who(Role.SUBDISTRICT_STAFF, "210103005"), "210103"),
    (who(Role.COMMUNITY_STAFF, "210103005002"), "210103"),
    (readers.OPERATOR, None),
])
def test_each_reader_reads_one_district_or_the_city(principal: Principal,
                                                    scope: str | None) -> None:
    assert readers.scope(principal) == scope


def test_the_public_and_case_workers_do_not_read() -> None:
    with pytest.raises(Unauthorized):
        readers.scope(PUBLIC)
    for role in (Role.GRID_WORKER, Role.DEPARTMENT_STAFF):
        with pytest.raises(Forbidden):
            readers.scope(who(role))


def test_an_area_defaults_to_the_scope_and_must_lie_inside_it() -> None:
    planner = who(Role.PLANNER, "210103")
    assert readers.area(planner, None) == "210103"
    assert readers.area(planner, "") == "210103"
    assert readers.area(planner, "210103005") == "210103005"
    with pytest.raises(Forbidden, match="不在您的辖区"):
        readers.area(planner, "210104")
    assert readers.area(who(Role.ADMIN), "210104") == "210104"
    assert readers.area(who(Role.ADMIN), None) is None


def test_only_planners_with_an_account_plan() -> None:
    assert readers.ensure_planner(who(Role.PLANNER)).role is Role.PLANNER
    with pytest.raises(Unauthorized):
        readers.ensure_planner(PUBLIC)
    for principal in (who(Role.ADMIN), who(Role.DATA_OFFICER), readers.OPERATOR,
                      who(Role.PLANNER, account_id=None)):
        with pytest.raises(Forbidden):
            readers.ensure_planner(principal)

"""Mediation's pure rules: every (state, action) pair against the written-out table of steps,
the levels, who sees parties, and the masks."""

from __future__ import annotations

import pytest

from gridmap.access import Principal, Role
from gridmap.errors import Conflict
from gridmap.mediation import rules
from gridmap.mediation.rules import Action, Level, State

P, A, M = State.PENDING, State.ACCEPTED, State.IN_MEDIATION
STEPS = {
    (P, Action.ACCEPT): A,
    (A, Action.SESSION): M,
    (M, Action.SESSION): M,
    (M, Action.AGREE): State.AGREED,
    (A, Action.REFER_UP): State.REFERRED_UP,
    (M, Action.REFER_UP): State.REFERRED_UP,
    (A, Action.REFER_COURT): State.REFERRED_TO_COURT,
    (M, Action.REFER_COURT): State.REFERRED_TO_COURT,
}
"""The allowed steps, written out (not computed from the module)."""


@pytest.mark.parametrize("state", list(State))
@pytest.mark.parametrize("action", list(Action))
def test_step_table(state: State, action: Action) -> None:
    expected = STEPS.get((state, action))
    if expected is None:
        with pytest.raises(Conflict) as refused:
            rules.step(state, action, sessions=3)
        assert refused.value.status == 409
        assert state.value in refused.value.message and action.value in refused.value.message
    else:
        assert rules.step(state, action, sessions=1) is expected


def test_an_agreement_needs_a_session() -> None:
    with pytest.raises(Conflict):
        rules.step(State.IN_MEDIATION, Action.AGREE, sessions=0)


@pytest.mark.parametrize("state", sorted(rules.OUTCOMES))
def test_nothing_leaves_an_outcome(state: State) -> None:
    assert rules.allowed_actions(state, staff=True, mediator=True) == []


@pytest.mark.parametrize(("state", "staff", "mediator", "expected"), [
    (P, True, False, ["accept"]),
    (P, False, True, []),
    (A, True, False, ["session", "refer_up", "refer_court"]),
    (A, False, True, ["session", "refer_court"]),
    (M, False, True, ["session", "agree", "refer_court"]),
    (M, False, False, []),
])
def test_allowed_actions(state: State, staff: bool, mediator: bool, expected: list[str]) -> None:
    assert rules.allowed_actions(state, staff=staff, mediator=mediator) == expected


def test_levels_go_up_to_the_district_and_stop() -> None:
    assert rules.next_level(Level.COMMUNITY) is Level.SUBDISTRICT
    assert rules.next_level(Level.SUBDISTRICT) is Level.DISTRICT
    assert rules.next_level(Level.DISTRICT) is None
    assert rules.parent_area("210103001002", Level.COMMUNITY) == "210103001"
    assert rules.parent_area("210103001", Level.SUBDISTRICT) == "210103"
    with pytest.raises(Conflict):
        rules.parent_area("210103", Level.DISTRICT)
    assert [rules.level_of_area(c) for c in ("210103001002", "210103001", "210103")] == [
        Level.COMMUNITY, Level.SUBDISTRICT, Level.DISTRICT]


AREA = "210103001002"  # a community point


@pytest.mark.parametrize(("principal", "mediators", "sees"), [
    (Principal(role=Role.COMMUNITY_STAFF, area_code=AREA, person_id=1), frozenset(), True),
    (Principal(role=Role.SUBDISTRICT_STAFF, area_code=AREA[:9], person_id=1), frozenset(), True),
    (Principal(role=Role.DISTRICT_CENTRE, area_code=AREA[:6], person_id=1), frozenset(), True),
    (Principal(role=Role.COMMUNITY_STAFF, area_code="210103001003", person_id=1), frozenset(),
     False),
    (Principal(role=Role.GRID_WORKER, grids=frozenset({AREA + "001"}), person_id=7),
     frozenset(), False),
    (Principal(role=Role.GRID_WORKER, grids=frozenset({AREA + "001"}), person_id=7),
     frozenset({7}), True),
    (Principal(role=Role.DEPARTMENT_STAFF, person_id=8), frozenset({8}), True),
    (Principal(role=Role.DEPARTMENT_STAFF, person_id=8), frozenset({9}), False),
    (Principal(role=Role.PLANNER, area_code=AREA[:6], person_id=5), frozenset({5}), False),
    (Principal(role=Role.DATA_OFFICER, person_id=5), frozenset(), False),
    (Principal(role=Role.ADMIN, person_id=5), frozenset(), False),
    (Principal(), frozenset(), False),
])
def test_who_sees_parties(principal: Principal, mediators: frozenset[int], sees: bool) -> None:
    assert rules.may_see_parties(principal, AREA, mediators) is sees


def test_a_sub_district_point_is_not_a_community_staffs() -> None:
    community = Principal(role=Role.COMMUNITY_STAFF, area_code=AREA, person_id=1)
    assert not rules.may_see_parties(community, AREA[:9], frozenset())


@pytest.mark.parametrize(("raw", "masked"), [
    ("张三丰", "张**"), ("李四", "李*"), ("欧阳娜娜", "欧***"), ("王", "王*"), ("", "")])
def test_mask_name(raw: str, masked: str) -> None:
    assert rules.mask_name(raw) == masked


@pytest.mark.parametrize(("raw", "masked"), [
    ("13812341234", "138****1234"), ("+86 138-1234-1234", "861****1234"), ("024-2345", "*****45"),
    ("", "")])
def test_mask_phone(raw: str, masked: str) -> None:
    assert rules.mask_phone(raw) == masked


def test_masked_party_keeps_nothing_whole() -> None:
    party = {"role": "applicant", "name": "王建国", "phone": "13912345678",
             "address": "和平里小区3号楼2单元301"}
    masked = rules.mask_party(party)
    assert masked["role"] == "applicant" and masked["masked"] is True
    assert "建国" not in masked["name"] and "12345678" not in masked["phone"]
    assert "301" not in masked["address"]


def test_small_counts_match_the_care_registers() -> None:
    from gridmap.care.rules import SMALL_COUNT

    assert rules.SMALL_COUNT == SMALL_COUNT
    assert [rules.suppressed(n) for n in (0, 1, 4, 5, 9)] == [0, None, None, 5, 9]

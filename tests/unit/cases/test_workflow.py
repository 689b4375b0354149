"""Case workflow: every allowed and forbidden transition, parameters, scenarios, and deadlines.

The expectations below are written from the issue's rules (who may act, from which state, to which
state), independently of the module's own tables, so a wrong rule in the module fails a test.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from gridmap.cases.deadlines import (
    Deadlines,
    DueStatus,
    deadlines,
    due_status,
    resolution_status,
    response_status,
)
from gridmap.access import PUBLIC, Principal, Role
from gridmap.cases.workflow import (
    Action,
    CaseView,
    CoHandler,
    State,
    allowed_actions,
    apply,
    is_handler,
    is_resolution,
    is_response,
)
from gridmap.errors import Conflict, Forbidden, InvalidInput

DISTRICT, OTHER_DISTRICT = "210103", "210104"
SUBDISTRICT, OTHER_SUBDISTRICT = "210103001", "210103002"
COMMUNITY, OTHER_COMMUNITY = "210103001001", "210103001002"
GRID, OTHER_GRID = COMMUNITY + "001", COMMUNITY + "002"
OWNER_DEPT, COHANDLER_DEPT, SPARE_DEPT, SPARE_DEPT_2 = "heating", "housing", "civil_affairs", "water"
ENROLLED = frozenset({OWNER_DEPT, COHANDLER_DEPT, SPARE_DEPT, SPARE_DEPT_2})
NOT_ENROLLED = "police"


def person(pid: int, role: Role | None, *, area: str | None = None, department: str | None = None,
           grids: tuple[str, ...] = ()) -> Principal:
    return Principal(account_id=100 + pid, person_id=pid if role else None, role=role,
                     area_code=area, department_code=department, grids=frozenset(grids))


WORKER = person(1, Role.GRID_WORKER, grids=(GRID,))
OTHER_WORKER = person(2, Role.GRID_WORKER, grids=(OTHER_GRID,))
COMMUNITY_STAFF = person(3, Role.COMMUNITY_STAFF, area=COMMUNITY)
OTHER_COMMUNITY_STAFF = person(4, Role.COMMUNITY_STAFF, area=OTHER_COMMUNITY)
OWNER_STAFF = person(5, Role.DEPARTMENT_STAFF, department=OWNER_DEPT, grids=(GRID,))
OWNER_STAFF_ELSEWHERE = person(6, Role.DEPARTMENT_STAFF, department=OWNER_DEPT, grids=(OTHER_GRID,))
SPARE_STAFF = person(7, Role.DEPARTMENT_STAFF, department=SPARE_DEPT, grids=(GRID,))
COHANDLER_STAFF = person(8, Role.DEPARTMENT_STAFF, department=COHANDLER_DEPT, grids=(GRID,))
COHANDLER_STAFF_ELSEWHERE = person(9, Role.DEPARTMENT_STAFF, department=COHANDLER_DEPT,
                                   grids=(OTHER_GRID,))
SUBDISTRICT_STAFF = person(10, Role.SUBDISTRICT_STAFF, area=SUBDISTRICT)
OTHER_SUBDISTRICT_STAFF = person(11, Role.SUBDISTRICT_STAFF, area=OTHER_SUBDISTRICT)
CENTRE = person(12, Role.DISTRICT_CENTRE, area=DISTRICT)
OTHER_CENTRE = person(13, Role.DISTRICT_CENTRE, area=OTHER_DISTRICT)
PLANNER = person(14, Role.PLANNER, area=DISTRICT)
DATA_OFFICER = person(15, Role.DATA_OFFICER)
ADMIN = person(16, Role.ADMIN)
# Roles that read or run the system but work no case; the public is not signed in at all.
BYSTANDERS = {"planner": PLANNER, "data_officer": DATA_OFFICER, "admin": ADMIN, "public": PUBLIC}
CAST = {
    "worker": WORKER, "other_worker": OTHER_WORKER, "community_staff": COMMUNITY_STAFF,
    "other_community_staff": OTHER_COMMUNITY_STAFF, "subdistrict_staff": SUBDISTRICT_STAFF,
    "other_subdistrict_staff": OTHER_SUBDISTRICT_STAFF, "district_centre": CENTRE,
    "other_district_centre": OTHER_CENTRE, "owner_staff": OWNER_STAFF,
    "owner_staff_elsewhere": OWNER_STAFF_ELSEWHERE, "spare_staff": SPARE_STAFF,
    "cohandler_staff": COHANDLER_STAFF, "cohandler_staff_elsewhere": COHANDLER_STAFF_ELSEWHERE,
    **BYSTANDERS,
}
# Community staff, and sub-district and district staff over the grid, may do the same things.
SUPERVISING = {"community_staff", "subdistrict_staff", "district_centre"}
WORKER_OR_SUPERVISOR = {"worker"} | SUPERVISING

# The rules of issue 3, restated: action -> states it may start from.
SOURCES: dict[Action, set[State]] = {
    Action.DISPATCH: {State.REPORTED, State.RETURNED},
    Action.START: {State.DISPATCHED},
    Action.RETURN: {State.DISPATCHED, State.IN_PROGRESS},
    Action.WHISTLE: {State.DISPATCHED, State.IN_PROGRESS},
    Action.FINISH_PART: {State.IN_PROGRESS},
    Action.RESOLVE: {State.IN_PROGRESS},
    Action.VERIFY: {State.RESOLVED},
    Action.REJECT_VERIFICATION: {State.RESOLVED},
    Action.RATE: {State.VERIFIED},
    Action.CLOSE: {State.RATED},
    Action.SUSPEND: {State.REPORTED, State.DISPATCHED, State.IN_PROGRESS, State.RETURNED},
    Action.RESUME: {State.SUSPENDED},
    Action.CANCEL: {State.REPORTED, State.DISPATCHED, State.RETURNED, State.SUSPENDED},
    Action.REASSIGN: {State.DISPATCHED, State.IN_PROGRESS},
}
# ... and who may act, on a case owned by OWNER_DEPT with COHANDLER_DEPT pulled in.
PERMITTED: dict[Action, set[str]] = {
    Action.DISPATCH: WORKER_OR_SUPERVISOR,
    Action.START: {"owner_staff"},
    Action.RETURN: {"owner_staff"},
    Action.WHISTLE: {"owner_staff"},
    Action.FINISH_PART: {"cohandler_staff"},
    Action.RESOLVE: {"owner_staff"},
    Action.VERIFY: SUPERVISING,
    Action.REJECT_VERIFICATION: SUPERVISING,
    Action.RATE: WORKER_OR_SUPERVISOR,
    Action.CLOSE: WORKER_OR_SUPERVISOR,
    Action.SUSPEND: SUPERVISING,
    Action.RESUME: SUPERVISING,
    Action.CANCEL: WORKER_OR_SUPERVISOR,
    Action.REASSIGN: SUPERVISING,
}
# Valid parameters for each action, and the state it leads to (None: stays where it is).
PARAMS: dict[Action, dict[str, Any]] = {
    Action.DISPATCH: {"department": OWNER_DEPT},
    Action.RETURN: {"note": "不属于供热部门职责"},
    Action.WHISTLE: {"departments": [SPARE_DEPT]},
    Action.FINISH_PART: {"note": "楼道灯已更换"},
    Action.RESOLVE: {"note": "已修复", "after_photos": 2},
    Action.REJECT_VERIFICATION: {"note": "现场仍未修好"},
    Action.RATE: {"rating": "satisfied"},
    Action.SUSPEND: {"note": "等待供暖季"},
    Action.CANCEL: {"reason": "duplicate"},
    Action.REASSIGN: {"department": SPARE_DEPT, "note": "派错部门，改派民政"},
}
TARGET: dict[Action, State | None] = {
    Action.DISPATCH: State.DISPATCHED, Action.START: State.IN_PROGRESS, Action.RETURN: State.RETURNED,
    Action.WHISTLE: None, Action.FINISH_PART: None, Action.RESOLVE: State.RESOLVED,
    Action.VERIFY: State.VERIFIED, Action.REJECT_VERIFICATION: State.IN_PROGRESS, Action.RATE: State.RATED,
    Action.CLOSE: State.CLOSED, Action.SUSPEND: State.SUSPENDED, Action.RESUME: None,
    Action.CANCEL: State.CANCELLED, Action.REASSIGN: State.DISPATCHED,
}
PRE_DISPATCH = {State.REPORTED, State.RETURNED}


def make_case(state: State, **changes: Any) -> CaseView:
    """A case in `state`, owned by OWNER_DEPT once dispatched, COHANDLER_DEPT's part done."""
    owned = state not in PRE_DISPATCH
    base = CaseView(
        state=state, grid_code=GRID, community_code=COMMUNITY,
        owner_kind="department" if owned else None, owner_department=OWNER_DEPT if owned else None,
        enrolled_departments=ENROLLED,
        cohandlers=(CoHandler(COHANDLER_DEPT, done=True, note="已完成"),) if owned else (),
        suspended_from=State.IN_PROGRESS if state is State.SUSPENDED else None,
        reopen_count=0, rating=None,
    )
    return replace(base, **changes)


def ready_case(action: Action, state: State) -> CaseView:
    """A case in `state` in which `action` has what it needs apart from the state."""
    if action is Action.FINISH_PART:
        return make_case(state, cohandlers=(CoHandler(COHANDLER_DEPT, done=False, note=""),))
    return make_case(state)


def allowed_pairs() -> list[tuple[Action, State]]:
    return [(a, s) for a in Action for s in sorted(SOURCES[a])]


def forbidden_state_pairs() -> list[tuple[Action, State]]:
    return [(a, s) for a in Action for s in State if s not in SOURCES[a]]


def ids(pair: tuple[Action, State]) -> str:
    return f"{pair[0]}-from-{pair[1]}"


# --- every allowed transition ------------------------------------------------------------------

@pytest.mark.parametrize("pair", [(a, s, who) for a, s in allowed_pairs() for who in sorted(PERMITTED[a])],
                         ids=lambda p: f"{p[0]}-from-{p[1]}-by-{p[2]}")
def test_every_allowed_transition(pair):
    action, state, who = pair
    case = ready_case(action, state)
    result = apply(case, CAST[who], action, **PARAMS.get(action, {}))
    expected = TARGET[action] or (case.suspended_from if action is Action.RESUME else state)
    assert result.case.state == expected
    event = result.event
    assert (event.action, event.from_state, event.to_state, event.actor_id) == \
        (action, state, expected, CAST[who].person_id)
    assert event.note == PARAMS.get(action, {}).get("note", "")
    assert result.case.grid_code == GRID and result.case.community_code == COMMUNITY


@pytest.mark.parametrize(("action", "params", "payload"), [
    (Action.DISPATCH, {"department": OWNER_DEPT}, {"owner_kind": "department", "department": OWNER_DEPT}),
    (Action.DISPATCH, {"department": None}, {"owner_kind": "grid", "department": None}),
    (Action.WHISTLE, {"departments": {SPARE_DEPT_2, SPARE_DEPT}},
     {"departments": sorted([SPARE_DEPT, SPARE_DEPT_2])}),
    (Action.RESOLVE, {"note": "好了", "after_photos": 0}, {"after_photos": 0}),
    (Action.RESOLVE, {"note": "好了", "after_photos": 3}, {"after_photos": 3}),
    (Action.RATE, {"rating": "basically_satisfied"}, {"rating": "basically_satisfied"}),
    (Action.CANCEL, {"reason": "invalid"}, {"reason": "invalid"}),
    (Action.RETURN, {"note": "不归我们"}, {"department": OWNER_DEPT}),
    (Action.REASSIGN, {"department": SPARE_DEPT, "note": "改派"},
     {"owner_kind": "department", "department": SPARE_DEPT, "from_owner_kind": "department",
      "from_department": OWNER_DEPT}),
    (Action.REASSIGN, {"department": None, "note": "网格自办"},
     {"owner_kind": "grid", "department": None, "from_owner_kind": "department",
      "from_department": OWNER_DEPT}),
])
def test_event_payloads(action, params, payload):
    state = sorted(SOURCES[action])[0]
    who = sorted(PERMITTED[action])[0]
    event = apply(ready_case(action, state), CAST[who], action, **params).event
    assert dict(event.payload) == payload


def test_dispatch_to_department_and_to_grid_sets_owner():
    to_dept = apply(make_case(State.REPORTED), WORKER, "dispatch", department=SPARE_DEPT).case
    assert (to_dept.owner_kind, to_dept.owner_department) == ("department", SPARE_DEPT)
    kept = apply(make_case(State.REPORTED), COMMUNITY_STAFF, "dispatch", department=None).case
    assert (kept.owner_kind, kept.owner_department) == ("grid", None)


@pytest.mark.parametrize("action", [Action.START, Action.WHISTLE, Action.RESOLVE])
def test_grid_owned_case_is_handled_by_the_grid_worker_only(action):
    state = State.DISPATCHED if action is not Action.RESOLVE else State.IN_PROGRESS
    case = make_case(state, owner_kind="grid", owner_department=None, cohandlers=())
    for name, actor in CAST.items():
        if name == "worker":
            assert apply(case, actor, action, **PARAMS.get(action, {})).event.actor_id == WORKER.person_id
        else:
            with pytest.raises(Forbidden):
                apply(case, actor, action, **PARAMS.get(action, {}))


def test_grid_owned_case_cannot_be_returned_by_anyone():
    case = make_case(State.DISPATCHED, owner_kind="grid", owner_department=None)
    for actor in CAST.values():
        with pytest.raises(Forbidden):
            apply(case, actor, Action.RETURN, note="x")


# --- every forbidden combination ---------------------------------------------------------------

@pytest.mark.parametrize("pair", forbidden_state_pairs(), ids=ids)
def test_every_action_from_every_wrong_state_is_a_conflict(pair):
    action, state = pair
    for who in PERMITTED[action]:
        with pytest.raises(Conflict) as err:
            apply(ready_case(action, state), CAST[who], action, **PARAMS.get(action, {}))
        assert str(state) in err.value.message
        assert all(str(s) in err.value.message for s in SOURCES[action])


@pytest.mark.parametrize("pair", forbidden_state_pairs(), ids=ids)
def test_wrong_state_is_reported_before_wrong_person(pair):
    action, state = pair
    with pytest.raises(Conflict):
        apply(ready_case(action, state), ADMIN, action)


@pytest.mark.parametrize("pair", [(a, s, who) for a, s in allowed_pairs() for who in sorted(CAST)
                                  if who not in PERMITTED[a]],
                         ids=lambda p: f"{p[0]}-from-{p[1]}-by-{p[2]}")
def test_every_wrong_person_is_forbidden(pair):
    action, state, who = pair
    with pytest.raises(Forbidden) as err:
        apply(ready_case(action, state), CAST[who], action, **PARAMS.get(action, {}))
    assert "(" in err.value.message and err.value.status == 403


@pytest.mark.parametrize("pair", allowed_pairs(), ids=ids)
@pytest.mark.parametrize("who", sorted(BYSTANDERS))
def test_planners_data_officers_admins_and_the_public_may_do_nothing(pair, who):
    action, state = pair
    case = ready_case(action, state)
    assert allowed_actions(case, BYSTANDERS[who]) == []
    with pytest.raises(Forbidden):
        apply(case, BYSTANDERS[who], action, **PARAMS.get(action, {}))


def test_wrong_person_is_reported_before_bad_parameters():
    with pytest.raises(Forbidden):
        apply(make_case(State.REPORTED), OTHER_WORKER, Action.DISPATCH, department=NOT_ENROLLED)
    with pytest.raises(Forbidden):
        apply(make_case(State.IN_PROGRESS), SPARE_STAFF, Action.RESOLVE, note="")


def test_terminal_cases_allow_nothing_for_anyone():
    for state in (State.CLOSED, State.CANCELLED):
        for actor in CAST.values():
            assert allowed_actions(make_case(state), actor) == []


# --- parameters --------------------------------------------------------------------------------

def test_unknown_action_is_invalid_input_even_on_a_closed_case():
    with pytest.raises(InvalidInput):
        apply(make_case(State.CLOSED), PUBLIC, "delete")


def test_action_may_be_given_as_its_string():
    assert apply(make_case(State.REPORTED), WORKER, "dispatch", department=OWNER_DEPT).event.action \
        is Action.DISPATCH


@pytest.mark.parametrize("department", [NOT_ENROLLED, "", "  "])
def test_dispatch_to_a_department_not_enrolled_in_the_grid_is_refused(department):
    with pytest.raises(InvalidInput):
        apply(make_case(State.REPORTED), WORKER, Action.DISPATCH, department=department)


@pytest.mark.parametrize("action", sorted(a for a, p in PARAMS.items() if "note" in p))
@pytest.mark.parametrize("note", ["", "   \n"])
def test_note_is_required_where_the_rules_say_so(action, note):
    state = sorted(SOURCES[action])[0]
    who = sorted(PERMITTED[action])[0]
    with pytest.raises(InvalidInput):
        apply(ready_case(action, state), CAST[who], action, **{**PARAMS[action], "note": note})


def test_note_is_stripped_and_limited_to_2000_characters():
    case = make_case(State.REPORTED)
    event = apply(case, WORKER, Action.DISPATCH, department=OWNER_DEPT, note="  " + "字" * 2000 + "\n").event
    assert event.note == "字" * 2000
    with pytest.raises(InvalidInput):
        apply(case, WORKER, Action.DISPATCH, department=OWNER_DEPT, note="字" * 2001)


@pytest.mark.parametrize("departments", [
    [], [NOT_ENROLLED], [OWNER_DEPT], [COHANDLER_DEPT], [SPARE_DEPT, NOT_ENROLLED],
])
def test_whistle_refuses_bad_departments(departments):
    with pytest.raises(InvalidInput):
        apply(make_case(State.IN_PROGRESS), OWNER_STAFF, Action.WHISTLE, departments=departments)


def test_whistle_with_no_department_left_is_a_conflict_and_not_offered():
    parts = (CoHandler(COHANDLER_DEPT, True, ""), CoHandler(SPARE_DEPT, True, ""),
             CoHandler(SPARE_DEPT_2, True, ""))
    case = make_case(State.IN_PROGRESS, cohandlers=parts)
    assert Action.WHISTLE not in allowed_actions(case, OWNER_STAFF)
    with pytest.raises(Conflict):
        apply(case, OWNER_STAFF, Action.WHISTLE, departments=[SPARE_DEPT])


def test_whistle_accepts_a_single_code_as_a_string():
    case = apply(make_case(State.IN_PROGRESS), OWNER_STAFF, Action.WHISTLE, departments=SPARE_DEPT).case
    assert [c.department_code for c in case.cohandlers] == [COHANDLER_DEPT, SPARE_DEPT]


@pytest.mark.parametrize("rating", [None, "", "very_satisfied", "SATISFIED?"])
def test_rate_requires_a_known_rating(rating):
    with pytest.raises(InvalidInput):
        apply(make_case(State.VERIFIED), WORKER, Action.RATE, rating=rating)


@pytest.mark.parametrize("reason", [None, "", "spam", "duplicated"])
def test_cancel_requires_duplicate_or_invalid(reason):
    with pytest.raises(InvalidInput):
        apply(make_case(State.REPORTED), COMMUNITY_STAFF, Action.CANCEL, reason=reason)


@pytest.mark.parametrize("reason", ["duplicate", "invalid"])
@pytest.mark.parametrize("state", [State.REPORTED, State.DISPATCHED, State.RETURNED, State.SUSPENDED])
def test_cancel_reasons_are_recorded_and_note_is_optional(reason, state):
    result = apply(make_case(state), WORKER, Action.CANCEL, reason=reason)
    assert result.case.state is State.CANCELLED and result.case.suspended_from is None
    assert result.event.payload["reason"] == reason and result.event.note == ""


@pytest.mark.parametrize("after_photos", [-1, True])
def test_resolve_refuses_a_bad_photo_count(after_photos):
    with pytest.raises(InvalidInput):
        apply(make_case(State.IN_PROGRESS), OWNER_STAFF, Action.RESOLVE, note="ok", after_photos=after_photos)


# --- scenarios ---------------------------------------------------------------------------------

def test_happy_path_from_report_to_close():
    case = make_case(State.REPORTED)
    steps: list[tuple[Principal, Action, dict[str, Any]]] = [
        (WORKER, Action.DISPATCH, {"department": OWNER_DEPT}),
        (OWNER_STAFF, Action.START, {}),
        (OWNER_STAFF, Action.WHISTLE, {"departments": [SPARE_DEPT]}),
        (SPARE_STAFF, Action.FINISH_PART, {"note": "入户走访完成"}),
        (OWNER_STAFF, Action.RESOLVE, {"note": "暖气已恢复", "after_photos": 1}),
        (COMMUNITY_STAFF, Action.VERIFY, {}),
        (WORKER, Action.RATE, {"rating": "satisfied"}),
        (COMMUNITY_STAFF, Action.CLOSE, {}),
    ]
    states = []
    for actor, action, params in steps:
        assert action in allowed_actions(case, actor)
        result = apply(case, actor, action, **params)
        assert result.event.from_state == case.state
        case = result.case
        states.append(case.state)
    assert states == [State.DISPATCHED, State.IN_PROGRESS, State.IN_PROGRESS, State.IN_PROGRESS,
                      State.RESOLVED, State.VERIFIED, State.RATED, State.CLOSED]
    assert case.rating == "satisfied" and case.owner_department == OWNER_DEPT and case.reopen_count == 0
    assert all(allowed_actions(case, actor) == [] for actor in CAST.values())


def test_dissatisfied_rating_reopens_the_case_with_its_owner():
    parts = (CoHandler(COHANDLER_DEPT, True, "修好了"), CoHandler(SPARE_DEPT, True, "走访了"))
    case = make_case(State.VERIFIED, cohandlers=parts)
    result = apply(case, COMMUNITY_STAFF, Action.RATE, rating="dissatisfied", note="仍然不热")
    reopened = result.case
    assert reopened.state is State.IN_PROGRESS
    assert (reopened.owner_kind, reopened.owner_department) == ("department", OWNER_DEPT)
    assert reopened.reopen_count == 1
    assert [(c.department_code, c.done) for c in reopened.cohandlers] == \
        [(COHANDLER_DEPT, False), (SPARE_DEPT, False)]
    assert result.event.payload["rating"] == "dissatisfied" and result.event.note == "仍然不热"
    assert Action.RESOLVE not in allowed_actions(reopened, OWNER_STAFF)
    assert Action.FINISH_PART in allowed_actions(reopened, COHANDLER_STAFF)
    again = apply(apply(replace(reopened, state=State.VERIFIED), WORKER, Action.RATE, rating="dissatisfied")
                  .case, OWNER_STAFF, Action.RETURN, note="x").case
    assert again.state is State.RETURNED


def test_second_dissatisfied_rating_counts_again():
    case = make_case(State.VERIFIED, reopen_count=1)
    assert apply(case, WORKER, Action.RATE, rating="dissatisfied").case.reopen_count == 2


def test_whistle_parts_block_resolve_until_every_part_is_done():
    case = make_case(State.IN_PROGRESS, cohandlers=())
    case = apply(case, OWNER_STAFF, Action.WHISTLE, departments=[COHANDLER_DEPT, SPARE_DEPT]).case
    parts = {(c.department_code, c.done) for c in case.cohandlers}
    assert parts == {(COHANDLER_DEPT, False), (SPARE_DEPT, False)} and len(case.cohandlers) == 2
    with pytest.raises(Conflict) as err:
        apply(case, OWNER_STAFF, Action.RESOLVE, note="done")
    assert COHANDLER_DEPT in err.value.message and SPARE_DEPT in err.value.message

    case = apply(case, COHANDLER_STAFF, Action.FINISH_PART, note="线路已修").case
    with pytest.raises(Conflict) as err:
        apply(case, OWNER_STAFF, Action.RESOLVE, note="done")
    assert SPARE_DEPT in err.value.message and COHANDLER_DEPT not in err.value.message
    with pytest.raises(Conflict):  # a part is finished once
        apply(case, COHANDLER_STAFF, Action.FINISH_PART, note="again")
    with pytest.raises(Forbidden):  # the owner cannot tick a co-handler's part
        apply(case, OWNER_STAFF, Action.FINISH_PART, note="for them")

    case = apply(case, SPARE_STAFF, Action.FINISH_PART, note="已走访").case
    notes = {c.department_code: c.note for c in case.cohandlers}
    assert notes == {COHANDLER_DEPT: "线路已修", SPARE_DEPT: "已走访"}
    assert apply(case, OWNER_STAFF, Action.RESOLVE, note="done").case.state is State.RESOLVED


def test_reject_verification_sends_the_case_back_and_reopens_the_parts():
    result = apply(make_case(State.RESOLVED), COMMUNITY_STAFF, Action.REJECT_VERIFICATION, note="灯还是不亮")
    assert result.case.state is State.IN_PROGRESS and result.case.owner_department == OWNER_DEPT
    assert [c.done for c in result.case.cohandlers] == [False]
    assert result.case.reopen_count == 0


@pytest.mark.parametrize("state", [State.REPORTED, State.DISPATCHED, State.IN_PROGRESS, State.RETURNED])
def test_suspend_then_resume_returns_to_the_previous_state(state):
    case = make_case(state)
    suspended = apply(case, COMMUNITY_STAFF, Action.SUSPEND, note="等待供暖季").case
    assert (suspended.state, suspended.suspended_from) == (State.SUSPENDED, state)
    assert allowed_actions(suspended, COMMUNITY_STAFF) == [Action.RESUME, Action.CANCEL]
    resumed = apply(suspended, COMMUNITY_STAFF, Action.RESUME)
    assert resumed.case == case
    assert (resumed.event.from_state, resumed.event.to_state) == (State.SUSPENDED, state)


def test_resume_without_a_remembered_state_is_a_conflict():
    case = make_case(State.SUSPENDED, suspended_from=None)
    assert Action.RESUME not in allowed_actions(case, COMMUNITY_STAFF)
    with pytest.raises(Conflict):
        apply(case, COMMUNITY_STAFF, Action.RESUME)


def test_return_clears_the_owner_and_allows_redispatch():
    returned = apply(make_case(State.IN_PROGRESS), OWNER_STAFF, Action.RETURN, note="应由民政处理").case
    assert returned.state is State.RETURNED
    assert (returned.owner_kind, returned.owner_department, returned.cohandlers) == (None, None, ())
    assert allowed_actions(returned, OWNER_STAFF) == []
    redispatched = apply(returned, COMMUNITY_STAFF, Action.DISPATCH, department=SPARE_DEPT).case
    assert redispatched.owner_department == SPARE_DEPT
    with pytest.raises(Forbidden):
        apply(redispatched, OWNER_STAFF, Action.START)
    assert apply(redispatched, SPARE_STAFF, Action.START).case.state is State.IN_PROGRESS


# --- supervisors at every level, and reassign ------------------------------------------------------

@pytest.mark.parametrize("who", sorted(SUPERVISING))
def test_every_supervisor_level_takes_a_case_from_report_to_close(who):
    """Sub-district and district staff may do across their area what community staff may."""
    boss = CAST[who]
    case = apply(make_case(State.REPORTED), boss, Action.DISPATCH, department=OWNER_DEPT).case
    case = apply(case, boss, Action.SUSPEND, note="等待材料").case
    case = apply(case, boss, Action.RESUME).case
    case = apply(apply(case, OWNER_STAFF, Action.START).case, OWNER_STAFF, Action.RESOLVE, note="好了").case
    for action, params in [(Action.VERIFY, {}), (Action.RATE, {"rating": "satisfied"}), (Action.CLOSE, {})]:
        result = apply(case, boss, action, **params)
        assert result.event.actor_id == boss.person_id
        case = result.case
    assert case.state is State.CLOSED


def test_a_supervisor_of_another_area_is_refused_with_who_may():
    for other in (OTHER_COMMUNITY_STAFF, OTHER_SUBDISTRICT_STAFF, OTHER_CENTRE):
        assert allowed_actions(make_case(State.REPORTED), other) == []
        with pytest.raises(Forbidden) as err:
            apply(make_case(State.RESOLVED), other, Action.VERIFY)
        assert "may verify" in err.value.message and "社区、街道" in err.value.message


@pytest.mark.parametrize("state", [State.DISPATCHED, State.IN_PROGRESS])
def test_reassign_gives_the_case_to_another_department_and_starts_it_afresh(state):
    parts = (CoHandler(COHANDLER_DEPT, False, ""), CoHandler(SPARE_DEPT_2, True, "done"))
    result = apply(make_case(state, cohandlers=parts), CENTRE, Action.REASSIGN, department=SPARE_DEPT,
                   note="  派错部门  ")
    case = result.case
    assert (case.state, case.owner_kind, case.owner_department, case.cohandlers) == \
        (State.DISPATCHED, "department", SPARE_DEPT, ())
    assert (result.event.from_state, result.event.note) == (state, "派错部门")
    assert Action.START in allowed_actions(case, SPARE_STAFF)
    assert allowed_actions(case, OWNER_STAFF) == [] and allowed_actions(case, COHANDLER_STAFF) == []


def test_reassign_keeps_the_case_in_the_grid_and_back_to_a_department():
    kept = apply(make_case(State.IN_PROGRESS), SUBDISTRICT_STAFF, Action.REASSIGN, department=None,
                 note="网格员自办").case
    assert (kept.state, kept.owner_kind, kept.owner_department) == (State.DISPATCHED, "grid", None)
    assert Action.START in allowed_actions(kept, WORKER)
    sent = apply(kept, COMMUNITY_STAFF, Action.REASSIGN, department=OWNER_DEPT, note="还是供热").case
    assert (sent.owner_kind, sent.owner_department) == ("department", OWNER_DEPT)


@pytest.mark.parametrize(("case", "department"), [
    (make_case(State.DISPATCHED), OWNER_DEPT),  # already the owner
    (make_case(State.DISPATCHED, owner_kind="grid", owner_department=None, cohandlers=()), None),
    (make_case(State.DISPATCHED), NOT_ENROLLED),
])
def test_reassign_to_the_current_owner_or_a_department_not_enrolled_is_refused(case, department):
    with pytest.raises(InvalidInput) as err:
        apply(case, CENTRE, Action.REASSIGN, department=department, note="改派")
    assert "cannot reassign" in err.value.message


@pytest.mark.parametrize("note", ["", "  "])
def test_reassign_needs_a_reason(note):
    with pytest.raises(InvalidInput, match="reassign requires a note"):
        apply(make_case(State.DISPATCHED), CENTRE, Action.REASSIGN, department=SPARE_DEPT, note=note)


def test_reassign_with_nobody_else_to_take_the_case_is_a_conflict_and_not_offered():
    case = make_case(State.DISPATCHED, owner_kind="grid", owner_department=None, cohandlers=(),
                     enrolled_departments=frozenset())
    assert Action.REASSIGN not in allowed_actions(case, CENTRE)
    with pytest.raises(Conflict):
        apply(case, CENTRE, Action.REASSIGN, department=None, note="x")


def test_only_supervisors_reassign_and_not_from_other_states():
    with pytest.raises(Forbidden, match="may reassign"):
        apply(make_case(State.DISPATCHED), WORKER, Action.REASSIGN, department=SPARE_DEPT, note="x")
    with pytest.raises(Conflict):
        apply(make_case(State.RESOLVED), CENTRE, Action.REASSIGN, department=SPARE_DEPT, note="x")


# --- who handles a case (and may see the reporter's phone) ------------------------------------

HANDLERS = {"worker", "community_staff", "subdistrict_staff", "district_centre", "owner_staff",
            "cohandler_staff"}


@pytest.mark.parametrize("who", sorted(CAST))
def test_handlers_are_the_grid_worker_supervisors_owner_and_cohandler_staff(who):
    case = make_case(State.IN_PROGRESS)
    assert is_handler(case, CAST[who]) is (who in HANDLERS)


def test_a_department_stops_handling_a_case_taken_from_it():
    case = make_case(State.IN_PROGRESS)
    assert is_handler(case, OWNER_STAFF)
    moved = apply(case, CENTRE, Action.REASSIGN, department=SPARE_DEPT, note="改派").case
    assert not is_handler(moved, OWNER_STAFF) and not is_handler(moved, COHANDLER_STAFF)
    assert is_handler(moved, SPARE_STAFF)


def test_apply_leaves_the_given_case_unchanged():
    case = make_case(State.VERIFIED)
    before = replace(case)
    apply(case, WORKER, Action.RATE, rating="dissatisfied")
    assert case == before


# --- allowed_actions agrees with apply ---------------------------------------------------------

def case_variants() -> list[CaseView]:
    owners: list[tuple[str | None, str | None]] = [(None, None), ("grid", None), ("department", OWNER_DEPT)]
    parts = [(), (CoHandler(COHANDLER_DEPT, False, ""),), (CoHandler(COHANDLER_DEPT, True, "ok"),),
             tuple(CoHandler(d, True, "") for d in (COHANDLER_DEPT, SPARE_DEPT, SPARE_DEPT_2))]
    variants = []
    for state, (kind, dept), cohandlers in itertools.product(State, owners, parts):
        remembered = [State.REPORTED, State.IN_PROGRESS, None] if state is State.SUSPENDED else [None]
        for suspended_from in remembered:
            variants.append(make_case(state, owner_kind=kind, owner_department=dept, cohandlers=cohandlers,
                                      suspended_from=suspended_from))
    return variants


def valid_params(case: CaseView, action: Action) -> dict[str, Any]:
    if action is Action.WHISTLE:
        taken = {c.department_code for c in case.cohandlers} | {case.owner_department}
        free = sorted(ENROLLED - taken)
        return {"departments": free[:1] or [SPARE_DEPT]}
    if action is Action.REASSIGN:  # anyone but the current owner
        return {"department": SPARE_DEPT if case.owner_kind == "grid" else None, "note": "改派"}
    return PARAMS.get(action, {})


def test_allowed_actions_is_exactly_what_apply_accepts():
    checked = accepted = 0
    for case in case_variants():
        for actor in CAST.values():
            offered = allowed_actions(case, actor)
            assert offered == sorted(set(offered), key=list(Action).index)  # stable, no duplicates
            for action in Action:
                try:
                    apply(case, actor, action, **valid_params(case, action))
                    ok = True
                except (Forbidden, Conflict):
                    ok = False
                checked += 1
                accepted += ok
                assert (action in offered) == ok, (case, actor, action)
    assert checked > 10_000 and accepted > 100


# --- deadlines ---------------------------------------------------------------------------------

T0 = datetime(2024, 11, 3, 8, 0, tzinfo=timezone(timedelta(hours=8)))


def test_deadlines_add_the_category_hours():
    d = deadlines(T0, respond_hours=2, resolve_hours=72.5)
    assert d == Deadlines(respond_by=T0 + timedelta(hours=2), resolve_by=T0 + timedelta(hours=72, minutes=30))
    assert d.respond_by.utcoffset() == timedelta(hours=8)


def test_deadlines_refuse_naive_times_and_bad_hours():
    with pytest.raises(ValueError):
        deadlines(T0.replace(tzinfo=None), respond_hours=2, resolve_hours=24)
    for respond, resolve in [(0, 24), (-1, 24), (2, 0), (float("nan"), 24), (2, float("inf")), (24, 2)]:
        with pytest.raises(ValueError):
            deadlines(T0, respond_hours=respond, resolve_hours=resolve)


@pytest.mark.parametrize(("allowed", "window"), [
    (timedelta(hours=4), timedelta(minutes=48)),  # 20 % of 4 h is less than 2 h
    (timedelta(hours=10), timedelta(hours=2)),  # 20 % of 10 h equals 2 h
    (timedelta(hours=72), timedelta(hours=2)),  # 20 % of 72 h is capped at 2 h
])
def test_due_status_boundaries(allowed, window):
    due = T0 + allowed
    tick = timedelta(microseconds=1)
    assert due_status(T0, due, now=T0) is DueStatus.ON_TIME
    assert due_status(T0, due, now=due - window - tick) is DueStatus.ON_TIME
    assert due_status(T0, due, now=due - window) is DueStatus.SOON_DUE
    assert due_status(T0, due, now=due) is DueStatus.SOON_DUE
    assert due_status(T0, due, now=due + tick) is DueStatus.OVERDUE
    assert due_status(T0, due, now=due + timedelta(days=30), done_at=due) is DueStatus.MET
    assert due_status(T0, due, now=due, done_at=due + tick) is DueStatus.MISSED
    assert due_status(T0, due, now=T0, done_at=T0) is DueStatus.MET


def test_response_and_resolution_status_use_their_own_deadline():
    d = deadlines(T0, respond_hours=2, resolve_hours=48)
    now = T0 + timedelta(hours=3)
    assert response_status(T0, d.respond_by, now=now) is DueStatus.OVERDUE
    assert response_status(T0, d.respond_by, now=now, responded_at=T0 + timedelta(hours=1)) is DueStatus.MET
    assert resolution_status(T0, d.resolve_by, now=now) is DueStatus.ON_TIME
    assert resolution_status(T0, d.resolve_by, now=now, resolved_at=d.resolve_by + timedelta(seconds=1)) \
        is DueStatus.MISSED


def test_due_status_compares_instants_across_time_zones():
    due = T0 + timedelta(hours=4)
    same_instant_utc = due.astimezone(UTC)
    assert due_status(T0, due, now=same_instant_utc) is DueStatus.SOON_DUE
    assert due_status(T0, due, now=same_instant_utc + timedelta(seconds=1)) is DueStatus.OVERDUE


def test_due_status_refuses_naive_times():
    with pytest.raises(ValueError):
        due_status(T0, T0 + timedelta(hours=1), now=datetime(2024, 11, 3, 8, 30))
    with pytest.raises(ValueError):
        response_status(T0, T0 + timedelta(hours=1), now=T0, responded_at=datetime(2024, 11, 3, 8, 30))


def test_response_is_a_dispatch_or_cancel_and_resolution_is_reaching_resolved():
    reported = make_case(State.REPORTED)
    assert is_response(apply(reported, WORKER, Action.DISPATCH, department=OWNER_DEPT).event)
    assert is_response(apply(reported, WORKER, Action.CANCEL, reason="invalid").event)
    assert not is_response(apply(reported, COMMUNITY_STAFF, Action.SUSPEND, note="x").event)
    suspended = apply(reported, COMMUNITY_STAFF, Action.SUSPEND, note="x").case
    assert is_response(apply(suspended, WORKER, Action.CANCEL, reason="duplicate").event)
    assert not is_response(apply(make_case(State.DISPATCHED), OWNER_STAFF, Action.START).event)
    assert is_resolution(apply(make_case(State.IN_PROGRESS), OWNER_STAFF, Action.RESOLVE, note="ok").event)
    assert not is_resolution(apply(make_case(State.RESOLVED), COMMUNITY_STAFF, Action.VERIFY).event)

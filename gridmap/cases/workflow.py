"""Case workflow (民呼我应): states, their groups, and who may do what from which state.

Pure: no database, no Flask, no clock. A service loads the case as a `CaseView`, calls `apply()`
with the signed-in :class:`~gridmap.access.Principal`, then in one transaction writes
`Transition.case` back (with a version check) and appends `Transition.event` (whose actor is the
principal's person) with the time of the write. Deadlines (即呼即应) are in
:mod:`gridmap.cases.deadlines`.

Who acts: a grid worker on the cases of their grids; a *supervisor* (community staff,
sub-district staff, the district command centre: :data:`gridmap.access.SUPERVISORS`) on every
case whose grid lies in their area, each with the same rights (sub-district and district may do
across their area what community staff may in theirs) plus ``reassign``; a department's staff on
the cases owned by, or whistled to, their department in the grids where they are enrolled.
Planners, data officers, administrators and the public act on nothing.

Check order in `apply`: unknown action (InvalidInput) → state does not allow the action (Conflict)
→ this person may not act (Forbidden) → the case's parts forbid it right now, e.g. co-handlers still
working (Conflict) → parameters (InvalidInput). `allowed_actions` runs the same checks minus the
parameters, so a button is shown exactly when the action can succeed with valid input.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Literal, TypeVar

from gridmap.access import SUPERVISORS, Principal, Role
from gridmap.errors import Conflict, Forbidden, GridmapError, InvalidInput

NOTE_MAX_CHARS = 2000


class State(StrEnum):
    """Where a case stands."""

    REPORTED = "reported"
    DISPATCHED = "dispatched"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    VERIFIED = "verified"
    RATED = "rated"
    CLOSED = "closed"
    RETURNED = "returned"
    SUSPENDED = "suspended"
    CANCELLED = "cancelled"


STATE_ORDER: tuple[State, ...] = tuple(State)
"""Every state, in the order pages list them (the flow of a case, then the side branches)."""

# --- state groups: every rule that asks "is this case still …?" reads one of these ---------------

TERMINAL_STATES = frozenset({State.CLOSED, State.CANCELLED})
"""No action leaves these: the case is over (Open311 reports them as ``closed``)."""
RESOLVED_STATES = frozenset({State.RESOLVED, State.VERIFIED, State.RATED, State.CLOSED})
"""The work is done (statistics count these as resolved); a rejection or a dissatisfied
rating sends a case back to ``in_progress``, out of this group."""
UNRESOLVED_STATES = frozenset(State) - RESOLVED_STATES - {State.CANCELLED}
"""Work still to do: a case here past its ``resolve_by`` is overdue. Migration 0003's partial
index ``ix_case_open_deadline`` holds exactly these states (a test keeps the two equal)."""
LINKABLE_STATES = frozenset(State) - TERMINAL_STATES - {State.RATED}
"""A new report of the same problem may be linked into a case in these states, and only these
are offered as possible duplicates. A rated case is finished work: the resident has judged the
outcome and its only next step is closing, so a new report must start a case of its own."""

STATE_GROUPS: Mapping[str, frozenset[State]] = {
    "terminal": TERMINAL_STATES, "resolved": RESOLVED_STATES, "unresolved": UNRESOLVED_STATES,
    "linkable": LINKABLE_STATES,
}
"""The groups by name, as pages receive them (``page_config(stateGroups=…)``)."""

def state_values(group: Collection[State]) -> list[str]:
    """A state group as sorted plain strings, ready to bind as an SQL parameter."""
    return sorted(s.value for s in group)


class Action(StrEnum):
    """What a person can do to a case; the order is the order of the UI buttons."""

    DISPATCH = "dispatch"
    START = "start"
    RETURN = "return"
    WHISTLE = "whistle"
    FINISH_PART = "finish_part"
    RESOLVE = "resolve"
    VERIFY = "verify"
    REJECT_VERIFICATION = "reject_verification"
    RATE = "rate"
    CLOSE = "close"
    SUSPEND = "suspend"
    RESUME = "resume"
    CANCEL = "cancel"
    REASSIGN = "reassign"


class Rating(StrEnum):
    """The resident's rating of the outcome."""

    SATISFIED = "satisfied"
    BASICALLY_SATISFIED = "basically_satisfied"
    DISSATISFIED = "dissatisfied"


class RatingMethod(StrEnum):
    """How the resident's rating was obtained (回访方式)."""

    PHONE = "phone"
    IN_PERSON = "in_person"
    SMS = "sms"
    ONLINE = "online"


class CancelReason(StrEnum):
    """Why a case is cancelled."""

    DUPLICATE = "duplicate"
    INVALID = "invalid"


@dataclass(frozen=True)
class CoHandler:
    """A department pulled in by a whistle (吹哨), with its own part to finish."""

    department_code: str
    done: bool
    note: str


@dataclass(frozen=True)
class CaseView:
    """The workflow-relevant part of a case."""

    state: State
    grid_code: str
    community_code: str
    owner_kind: Literal["grid", "department"] | None
    owner_department: str | None
    enrolled_departments: frozenset[str]  # departments enrolled in the case's grid
    cohandlers: tuple[CoHandler, ...]
    suspended_from: State | None
    reopen_count: int
    rating: str | None


@dataclass(frozen=True)
class EventDraft:
    """The immutable history entry of one transition (the service adds the time)."""

    action: Action
    from_state: State
    to_state: State
    actor_id: int
    note: str
    payload: Mapping[str, object]


@dataclass(frozen=True)
class Transition:
    """The case after an action and the event that records it."""

    case: CaseView
    event: EventDraft


# Labels for messages only; pages take theirs from the message catalogue.
_STATE_ZH = {
    State.REPORTED: "已上报", State.DISPATCHED: "已分派", State.IN_PROGRESS: "处置中",
    State.RESOLVED: "已处置", State.VERIFIED: "已核查", State.RATED: "已评价", State.CLOSED: "已结案",
    State.RETURNED: "已退回", State.SUSPENDED: "已挂起", State.CANCELLED: "已作废",
}
_ACTION_ZH = {
    Action.DISPATCH: "分派", Action.START: "开始处置", Action.RETURN: "退回", Action.WHISTLE: "吹哨",
    Action.FINISH_PART: "完成协办", Action.RESOLVE: "办结", Action.VERIFY: "核查",
    Action.REJECT_VERIFICATION: "核查退回", Action.RATE: "评价", Action.CLOSE: "结案",
    Action.SUSPEND: "挂起", Action.RESUME: "恢复", Action.CANCEL: "作废", Action.REASSIGN: "改派",
}


# --- who may act -------------------------------------------------------------------------------

def _grid_worker(case: CaseView, who: Principal) -> bool:
    return who.has(Role.GRID_WORKER) and case.grid_code in who.grids


def _supervisor(case: CaseView, who: Principal) -> bool:
    """Community, sub-district or district staff whose area holds the case's grid."""
    return who.has(*SUPERVISORS) and who.covers(case.grid_code)


def _worker_or_supervisor(case: CaseView, who: Principal) -> bool:
    return _grid_worker(case, who) or _supervisor(case, who)


def _staff_of(case: CaseView, who: Principal, department: str | None) -> bool:
    return (who.has(Role.DEPARTMENT_STAFF) and department is not None
            and who.department_code == department and case.grid_code in who.grids)


def _owner_department_staff(case: CaseView, who: Principal) -> bool:
    return case.owner_kind == "department" and _staff_of(case, who, case.owner_department)


def _owner(case: CaseView, who: Principal) -> bool:
    if case.owner_kind == "grid":
        return _grid_worker(case, who)
    return _owner_department_staff(case, who)


def _cohandler_staff(case: CaseView, who: Principal) -> bool:
    return any(_staff_of(case, who, c.department_code) for c in case.cohandlers)


def is_handler(case: CaseView, who: Principal) -> bool:
    """Whether ``who`` works this case: its grid's worker, a supervisor over its grid, or staff
    of its owning or a co-handling department enrolled in its grid. Handlers (and only they)
    may see the reporter's full phone number; administrators and planners are not handlers."""
    departments = [case.owner_department] + [c.department_code for c in case.cohandlers]
    return _worker_or_supervisor(case, who) or any(_staff_of(case, who, d) for d in departments)


@dataclass(frozen=True)
class _Rule:
    sources: tuple[State, ...]
    may_act: Callable[[CaseView, Principal], bool]
    who_zh: str
    who_en: str


_S = State
_WORKER_OR_SUPERVISOR = ("该网格的网格员或辖区的社区、街道、区指挥中心工作人员",
                         "the grid's worker or staff of the community, sub-district or district "
                         "centre over the grid")
_OWNER = ("案件的承办人（承办部门在本网格报到的工作人员，或自办的网格员）",
          "the case's owner (its department's staff enrolled in this grid, or the grid's worker)")
_OWNER_DEPARTMENT = ("承办部门在本网格报到的工作人员",
                     "the owning department's staff enrolled in this grid")
_COHANDLER = ("协办部门在本网格报到的工作人员", "a co-handling department's staff enrolled in this grid")
_SUPERVISOR = ("辖区的社区、街道或区指挥中心工作人员",
               "staff of the community, sub-district or district centre over the grid")
_RULES: Mapping[Action, _Rule] = {
    Action.DISPATCH: _Rule((_S.REPORTED, _S.RETURNED), _worker_or_supervisor, *_WORKER_OR_SUPERVISOR),
    Action.START: _Rule((_S.DISPATCHED,), _owner, *_OWNER),
    Action.RETURN: _Rule((_S.DISPATCHED, _S.IN_PROGRESS), _owner_department_staff, *_OWNER_DEPARTMENT),
    Action.WHISTLE: _Rule((_S.DISPATCHED, _S.IN_PROGRESS), _owner, *_OWNER),
    Action.FINISH_PART: _Rule((_S.IN_PROGRESS,), _cohandler_staff, *_COHANDLER),
    Action.RESOLVE: _Rule((_S.IN_PROGRESS,), _owner, *_OWNER),
    Action.VERIFY: _Rule((_S.RESOLVED,), _supervisor, *_SUPERVISOR),
    Action.REJECT_VERIFICATION: _Rule((_S.RESOLVED,), _supervisor, *_SUPERVISOR),
    Action.RATE: _Rule((_S.VERIFIED,), _worker_or_supervisor, *_WORKER_OR_SUPERVISOR),
    Action.CLOSE: _Rule((_S.RATED,), _worker_or_supervisor, *_WORKER_OR_SUPERVISOR),
    Action.SUSPEND: _Rule((_S.REPORTED, _S.DISPATCHED, _S.IN_PROGRESS, _S.RETURNED), _supervisor,
                          *_SUPERVISOR),
    Action.RESUME: _Rule((_S.SUSPENDED,), _supervisor, *_SUPERVISOR),
    Action.CANCEL: _Rule((_S.REPORTED, _S.DISPATCHED, _S.RETURNED, _S.SUSPENDED), _worker_or_supervisor,
                         *_WORKER_OR_SUPERVISOR),
    Action.REASSIGN: _Rule((_S.DISPATCHED, _S.IN_PROGRESS), _supervisor, *_SUPERVISOR),
}
SUSPENDABLE_STATES = frozenset(_RULES[Action.SUSPEND].sources)
_UNKNOWN_SUSPENDED_FROM = "案件挂起前的状态未知，无法恢复 (the state before suspension is unknown)"
NOTE_REQUIRED = frozenset({Action.RETURN, Action.FINISH_PART, Action.RESOLVE,
                            Action.REJECT_VERIFICATION, Action.SUSPEND, Action.REASSIGN})
"""Actions that need a note (the reason); the detail page marks the field required."""


def _whistle_candidates(case: CaseView) -> list[str]:
    taken = {c.department_code for c in case.cohandlers} | {case.owner_department}
    return sorted(case.enrolled_departments - taken)


def _reassign_targets(case: CaseView) -> set[str | None]:
    """Whom a case may be reassigned to: an enrolled department (its code) or the grid (None),
    never its current owner."""
    targets: set[str | None] = set(case.enrolled_departments - {case.owner_department or ""})
    if case.owner_kind != "grid":
        targets.add(None)
    return targets


def _blocker(case: CaseView, who: Principal, action: Action) -> Conflict | None:
    """A reason in the case's parts (not its state) why the action cannot happen now."""
    if action is Action.RESOLVE:
        pending = [c.department_code for c in case.cohandlers if not c.done]
        if pending:
            return Conflict(f"协办部门尚未完成：{'、'.join(pending)} "
                            f"(co-handling departments still working: {', '.join(pending)})")
    elif action is Action.FINISH_PART:
        own = [c for c in case.cohandlers if c.department_code == who.department_code]
        if all(c.done for c in own):
            return Conflict("本部门的协办部分已完成 (this department's part is already done)")
    elif action is Action.WHISTLE and not _whistle_candidates(case):
        return Conflict("本网格已没有可以召集的报到部门 "
                        "(no further department enrolled in this grid to call in)")
    elif action is Action.RESUME and case.suspended_from not in SUSPENDABLE_STATES:
        return Conflict(_UNKNOWN_SUSPENDED_FROM)
    elif action is Action.REASSIGN and not _reassign_targets(case):
        return Conflict("没有可以改派的承办方：本网格没有其他报到部门 "
                        "(nobody to reassign to: no other department is enrolled in this grid)")
    return None


def _refusal(case: CaseView, who: Principal, action: Action) -> GridmapError | None:
    rule = _RULES[action]
    if case.state not in rule.sources:
        allowed_zh = "、".join(f"「{_STATE_ZH[s]}」" for s in rule.sources)
        allowed_en = ", ".join(rule.sources)
        return Conflict(f"案件当前为「{_STATE_ZH[State(case.state)]}」，只有{allowed_zh}的案件可以"
                        f"{_ACTION_ZH[action]} (the case is {case.state}; {action} is allowed only from: "
                        f"{allowed_en})")
    if who.person_id is None or not rule.may_act(case, who):
        return Forbidden(f"只有{rule.who_zh}可以{_ACTION_ZH[action]}案件 ({rule.who_en} may {action})")
    return _blocker(case, who, action)


def allowed_actions(case: CaseView, who: Principal) -> list[Action]:
    """Return what ``who`` may do to the case now, in button order."""
    return [action for action in Action if _refusal(case, who, action) is None]


# --- parameters and effects --------------------------------------------------------------------

@dataclass(frozen=True)
class _Params:
    note: str
    department: str | None
    departments: Collection[str]
    rating: str | None
    reason: str | None
    after_photos: int
    method: str | None = None


_Effect = tuple[CaseView, dict[str, object]]
_E = TypeVar("_E", bound=StrEnum)


def _clean_note(note: str, *, required: bool, action: Action) -> str:
    if not isinstance(note, str):
        raise InvalidInput("说明必须是文本 (the note must be text)")
    text = note.strip()
    if required and not text:
        raise InvalidInput(f"{_ACTION_ZH[action]}需要填写说明或理由 "
                           f"({action} requires a note giving the reason)")
    if len(text) > NOTE_MAX_CHARS:
        raise InvalidInput(f"说明不能超过 {NOTE_MAX_CHARS} 个字符 "
                           f"(the note is limited to {NOTE_MAX_CHARS} characters)")
    return text


def _choice(kind: type[_E], value: str | None, what_zh: str, what_en: str) -> _E:
    names = ", ".join(kind)
    if value is None or not value.strip():
        raise InvalidInput(f"请选择{what_zh}：{names} (a {what_en} is required: {names})")
    try:
        return kind(value.strip())
    except ValueError:
        raise InvalidInput(f"未知{what_zh} '{value}'，可选：{names} (unknown {what_en})") from None


def _reset_parts(parts: tuple[CoHandler, ...]) -> tuple[CoHandler, ...]:
    return tuple(CoHandler(c.department_code, done=False, note="") for c in parts)


def _dispatch(case: CaseView, who: Principal, p: _Params) -> _Effect:
    if p.department is None:  # kept by the grid: its worker handles the case
        kept = replace(case, state=State.DISPATCHED, owner_kind="grid", owner_department=None)
        return kept, {"owner_kind": "grid", "department": None}
    code = p.department.strip()
    if code not in case.enrolled_departments:
        raise InvalidInput(f"部门 '{p.department}' 未在本网格报到，不能分派 "
                           f"(department '{p.department}' is not enrolled in this grid)")
    sent = replace(case, state=State.DISPATCHED, owner_kind="department", owner_department=code)
    return sent, {"owner_kind": "department", "department": code}


def _reassign(case: CaseView, who: Principal, p: _Params) -> _Effect:
    # The district centre's correction (改派): a new owner starts afresh, so the old owner's
    # whistle goes with it, as after a return.
    target = p.department.strip() if p.department and p.department.strip() else None
    if target not in _reassign_targets(case):
        choices = ", ".join(sorted(d or "grid" for d in _reassign_targets(case)))
        if target is None or target == case.owner_department:
            reason_zh, reason_en = "案件已由该承办方办理", "the case is already theirs"
        else:
            reason_zh, reason_en = "该部门未在本网格报到", "the department is not enrolled in this grid"
        raise InvalidInput(f"不能改派给 '{target or '网格'}'：{reason_zh}，可选：{choices} "
                           f"(cannot reassign to '{target or 'the grid'}': {reason_en})")
    kind: Literal["grid", "department"] = "grid" if target is None else "department"
    new = replace(case, state=State.DISPATCHED, owner_kind=kind, owner_department=target,
                  cohandlers=())
    return new, {"owner_kind": kind, "department": target,
                 "from_owner_kind": case.owner_kind, "from_department": case.owner_department}


def _start(case: CaseView, who: Principal, p: _Params) -> _Effect:
    return replace(case, state=State.IN_PROGRESS), {}


def _return(case: CaseView, who: Principal, p: _Params) -> _Effect:
    # The whistle was the old owner's call; the next owner decides whom to pull in.
    new = replace(case, state=State.RETURNED, owner_kind=None, owner_department=None, cohandlers=())
    return new, {"department": case.owner_department}


def _whistle(case: CaseView, who: Principal, p: _Params) -> _Effect:
    raw = [p.departments] if isinstance(p.departments, str) else list(p.departments)
    codes = sorted({str(d).strip() for d in raw})
    if not codes:
        raise InvalidInput("请选择至少一个要召集的部门 (choose at least one department to call in)")
    cohandling = {h.department_code for h in case.cohandlers}
    enrolled = case.enrolled_departments
    checks = (("未在本网格报到 (not enrolled in this grid)", [c for c in codes if c not in enrolled]),
              ("是承办部门 (is the owner)", [c for c in codes if c == case.owner_department]),
              ("已是协办部门 (already co-handling)", [c for c in codes if c in cohandling]))
    problems = [f"{'、'.join(bad)} {label}" for label, bad in checks if bad]
    if problems:
        raise InvalidInput("不能召集：" + "；".join(problems))
    added = tuple(CoHandler(code, done=False, note="") for code in codes)
    return replace(case, cohandlers=case.cohandlers + added), {"departments": codes}


def _finish_part(case: CaseView, who: Principal, p: _Params) -> _Effect:
    parts = tuple(replace(c, done=True, note=p.note) if c.department_code == who.department_code else c
                  for c in case.cohandlers)
    return replace(case, cohandlers=parts), {"department": who.department_code}


def _resolve(case: CaseView, who: Principal, p: _Params) -> _Effect:
    count = p.after_photos
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        raise InvalidInput("处置后照片数量必须是非负整数 (after_photos must be a whole number ≥ 0)")
    return replace(case, state=State.RESOLVED), {"after_photos": count}


def _verify(case: CaseView, who: Principal, p: _Params) -> _Effect:
    return replace(case, state=State.VERIFIED), {}


def _reject_verification(case: CaseView, who: Principal, p: _Params) -> _Effect:
    # Not fixed after all: every co-handler confirms its part again, as after a dissatisfied rating.
    return replace(case, state=State.IN_PROGRESS, cohandlers=_reset_parts(case.cohandlers)), {}


def _rate(case: CaseView, who: Principal, p: _Params) -> _Effect:
    rating = _choice(Rating, p.rating, "评价", "rating")
    # How it was obtained: optional for older clients, recorded whenever given.
    how = {} if p.method is None else {
        "method": _choice(RatingMethod, p.method, "回访方式", "rating method").value}
    if rating is Rating.DISSATISFIED:
        new = replace(case, state=State.IN_PROGRESS, rating=rating.value, reopen_count=case.reopen_count + 1,
                      cohandlers=_reset_parts(case.cohandlers))
        return new, {"rating": rating.value, "reopen_count": new.reopen_count, **how}
    return replace(case, state=State.RATED, rating=rating.value), {"rating": rating.value, **how}


def _close(case: CaseView, who: Principal, p: _Params) -> _Effect:
    return replace(case, state=State.CLOSED), {}


def _suspend(case: CaseView, who: Principal, p: _Params) -> _Effect:
    previous = State(case.state)
    return replace(case, state=State.SUSPENDED, suspended_from=previous), {"suspended_from": previous.value}


def _resume(case: CaseView, who: Principal, p: _Params) -> _Effect:
    if case.suspended_from is None:  # _blocker refuses this first; kept for the type checker
        raise Conflict(_UNKNOWN_SUSPENDED_FROM)
    return replace(case, state=State(case.suspended_from), suspended_from=None), {}


def _cancel(case: CaseView, who: Principal, p: _Params) -> _Effect:
    reason = _choice(CancelReason, p.reason, "作废原因", "cancel reason")
    return replace(case, state=State.CANCELLED, suspended_from=None), {"reason": reason.value}


_EFFECTS: Mapping[Action, Callable[[CaseView, Principal, _Params], _Effect]] = {
    Action.DISPATCH: _dispatch, Action.START: _start, Action.RETURN: _return, Action.WHISTLE: _whistle,
    Action.FINISH_PART: _finish_part, Action.RESOLVE: _resolve, Action.VERIFY: _verify,
    Action.REJECT_VERIFICATION: _reject_verification, Action.RATE: _rate, Action.CLOSE: _close,
    Action.SUSPEND: _suspend, Action.RESUME: _resume, Action.CANCEL: _cancel,
    Action.REASSIGN: _reassign,
}


def _person(who: Principal) -> int:
    if who.person_id is None:  # _refusal refuses this first; kept for the type checker
        raise Forbidden("请先登录 (sign in first)")
    return who.person_id


def parse_action(value: Action | str) -> Action:
    """Parse an action name, refusing unknown ones with InvalidInput."""
    try:
        return Action(value)
    except ValueError:
        names = ", ".join(Action)
        raise InvalidInput(f"未知操作 '{value}'，可选：{names} (unknown action)") from None


def apply(case: CaseView, who: Principal, action: Action | str, *, note: str = "",
          department: str | None = None, departments: Collection[str] = (), rating: str | None = None,
          reason: str | None = None, after_photos: int = 0,
          method: str | None = None) -> Transition:
    """Perform an action on a case as ``who``, returning the new case view and the event to
    append (its ``actor_id`` is ``who``'s person).

    Parameters
    ----------
    note
        Free text, stripped, at most 2,000 characters; required for return, finish_part, resolve,
        reject_verification, suspend and reassign (where it is the reason).
    department
        dispatch and reassign: an enrolled department's code, or None for "kept by the grid"
        (reassign: never the case's current owner).
    departments
        whistle: the enrolled departments to call in as co-handlers.
    rating
        rate: satisfied, basically_satisfied or dissatisfied (which reopens the case).
    method
        rate: how the rating was obtained (phone, in_person, sms, online); optional.
    reason
        cancel: duplicate or invalid.
    after_photos
        resolve: how many after-photos came with the resolution.

    Raises
    ------
    InvalidInput, Conflict, Forbidden
        In the order described in the module docstring.
    """
    act = parse_action(action)
    refusal = _refusal(case, who, act)
    if refusal is not None:
        raise refusal
    clean_note = _clean_note(note, required=act in NOTE_REQUIRED, action=act)
    params = _Params(note=clean_note, department=department, departments=departments, rating=rating,
                     reason=reason, after_photos=after_photos, method=method)
    new_case, payload = _EFFECTS[act](case, who, params)
    event = EventDraft(action=act, from_state=State(case.state), to_state=new_case.state,
                       actor_id=_person(who), note=params.note, payload=payload)
    return Transition(case=new_case, event=event)


def is_response(event: EventDraft) -> bool:
    """Whether the event answers the call (即呼即应): a dispatch or a cancel; the first one counts."""
    return event.to_state in (State.DISPATCHED, State.CANCELLED)


def is_resolution(event: EventDraft) -> bool:
    """Whether the event resolves the case."""
    return event.to_state is State.RESOLVED


# --- who acts next -----------------------------------------------------------------------------

NextActor = Literal["grid", "supervisor", "grid_or_supervisor", "department", "cohandlers", "nobody"]


@dataclass(frozen=True)
class NextStep:
    """Who must act on a case next, what they do, and against which deadline.

    ``actor`` is a kind (the grid's worker, the supervisors over the grid, the owning department,
    the co-handling departments still working, or nobody for a finished case); ``departments``
    names the departments for the two department kinds; ``deadline`` is ``respond`` (respond_by),
    ``resolve`` (resolve_by) or None where no time limit runs.
    """

    actor: NextActor
    action: Action | None
    departments: tuple[str, ...] = ()
    deadline: Literal["respond", "resolve"] | None = None


def next_step(case: CaseView) -> NextStep:
    """The one thing the case waits for now, whoever looks at it (the same for every reader)."""
    state = State(case.state)
    if state in (State.REPORTED, State.RETURNED):
        return NextStep("grid_or_supervisor", Action.DISPATCH,
                        deadline="respond" if state is State.REPORTED else "resolve")
    if state in (State.DISPATCHED, State.IN_PROGRESS):
        pending = tuple(c.department_code for c in case.cohandlers if not c.done)
        if state is State.IN_PROGRESS and pending:
            return NextStep("cohandlers", Action.FINISH_PART, pending, "resolve")
        action = Action.START if state is State.DISPATCHED else Action.RESOLVE
        if case.owner_kind == "department" and case.owner_department:
            return NextStep("department", action, (case.owner_department,), "resolve")
        return NextStep("grid", action, deadline="resolve")
    if state is State.RESOLVED:
        return NextStep("supervisor", Action.VERIFY)
    if state is State.VERIFIED:
        return NextStep("grid_or_supervisor", Action.RATE)
    if state is State.RATED:
        return NextStep("grid_or_supervisor", Action.CLOSE)
    if state is State.SUSPENDED:
        return NextStep("supervisor", Action.RESUME)
    return NextStep("nobody", None)

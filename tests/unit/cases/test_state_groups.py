"""The state groups every query and page reads: written from the workflow's rules, checked here
against what the actions actually allow, so a group cannot drift from the transitions."""

from __future__ import annotations

from gridmap.cases import workflow
from gridmap.cases.workflow import Action, State


def _sources() -> dict[State, set[Action]]:
    """For each state, the actions whose rule starts from it (the workflow's own rule table:
    an action not listed for a state is refused whoever tries it)."""
    table = workflow._RULES
    return {state: {a for a in Action if state in table[a].sources} for state in State}


def test_terminal_states_are_exactly_those_no_action_leaves() -> None:
    leaving = _sources()
    assert workflow.TERMINAL_STATES == {s for s, actions in leaving.items() if not actions}
    assert workflow.TERMINAL_STATES == {State.CLOSED, State.CANCELLED}


def test_resolved_and_unresolved_split_the_live_states() -> None:
    assert workflow.RESOLVED_STATES == {State.RESOLVED, State.VERIFIED, State.RATED, State.CLOSED}
    assert workflow.UNRESOLVED_STATES == {State.REPORTED, State.DISPATCHED, State.IN_PROGRESS,
                                          State.RETURNED, State.SUSPENDED}
    assert not workflow.RESOLVED_STATES & workflow.UNRESOLVED_STATES
    assert workflow.RESOLVED_STATES | workflow.UNRESOLVED_STATES | {State.CANCELLED} == set(State)
    # Resolving is ahead of every unresolved state and behind every resolved one.
    assert all(Action.RESOLVE not in _sources()[s] for s in workflow.RESOLVED_STATES)


def test_a_rated_case_takes_no_new_report() -> None:
    """A rated case can only be closed: a report linked into it would never be handled."""
    assert _sources()[State.RATED] == {Action.CLOSE}
    assert State.RATED not in workflow.LINKABLE_STATES
    assert workflow.LINKABLE_STATES == {State.REPORTED, State.DISPATCHED, State.IN_PROGRESS,
                                        State.RESOLVED, State.VERIFIED, State.RETURNED,
                                        State.SUSPENDED}


def test_groups_by_name_and_bound_values() -> None:
    assert set(workflow.STATE_GROUPS) == {"terminal", "resolved", "unresolved", "linkable"}
    assert workflow.STATE_GROUPS["linkable"] is workflow.LINKABLE_STATES
    assert workflow.state_values(workflow.TERMINAL_STATES) == ["cancelled", "closed"]
    assert [s.value for s in workflow.STATE_ORDER][:3] == ["reported", "dispatched", "in_progress"]
    assert set(workflow.STATE_ORDER) == set(State) and len(workflow.STATE_ORDER) == len(State)

"""Who acts next on a case (issue 12): one answer for every state, the same for every reader, and
consistent with the workflow — the action named is one that someone of that kind may take."""

from __future__ import annotations

import pytest
from test_workflow import (
    COHANDLER_DEPT,
    COHANDLER_STAFF,
    COMMUNITY_STAFF,
    OWNER_DEPT,
    OWNER_STAFF,
    WORKER,
    make_case,
)

from gridmap.cases.workflow import (
    Action,
    CoHandler,
    NextStep,
    RatingMethod,
    State,
    allowed_actions,
    apply,
    next_step,
)
from gridmap.errors import InvalidInput

TABLE = [
    (make_case(State.REPORTED), NextStep("grid_or_supervisor", Action.DISPATCH, (), "respond")),
    (make_case(State.RETURNED), NextStep("grid_or_supervisor", Action.DISPATCH, (), "resolve")),
    (make_case(State.DISPATCHED), NextStep("department", Action.START, (OWNER_DEPT,), "resolve")),
    (make_case(State.DISPATCHED, owner_kind="grid", owner_department=None),
     NextStep("grid", Action.START, (), "resolve")),
    (make_case(State.IN_PROGRESS), NextStep("department", Action.RESOLVE, (OWNER_DEPT,), "resolve")),
    (make_case(State.IN_PROGRESS, cohandlers=(CoHandler(COHANDLER_DEPT, done=False, note=""),)),
     NextStep("cohandlers", Action.FINISH_PART, (COHANDLER_DEPT,), "resolve")),
    (make_case(State.IN_PROGRESS, owner_kind="grid", owner_department=None),
     NextStep("grid", Action.RESOLVE, (), "resolve")),
    (make_case(State.RESOLVED), NextStep("supervisor", Action.VERIFY)),
    (make_case(State.VERIFIED), NextStep("grid_or_supervisor", Action.RATE)),
    (make_case(State.RATED), NextStep("grid_or_supervisor", Action.CLOSE)),
    (make_case(State.SUSPENDED), NextStep("supervisor", Action.RESUME)),
    (make_case(State.CLOSED), NextStep("nobody", None)),
    (make_case(State.CANCELLED), NextStep("nobody", None)),
]
ACTOR = {"grid_or_supervisor": WORKER, "supervisor": COMMUNITY_STAFF, "grid": WORKER,
         "department": OWNER_STAFF, "cohandlers": COHANDLER_STAFF}


def test_the_table_covers_every_state() -> None:
    assert {case.state for case, _ in TABLE} == set(State)


@pytest.mark.parametrize(("case", "expected"), TABLE, ids=[f"{c.state}-{e.actor}" for c, e in TABLE])
def test_next_step(case, expected: NextStep) -> None:
    step = next_step(case)
    assert step == expected
    if step.action is not None:  # the one named can really do it now
        assert step.action in allowed_actions(case, ACTOR[step.actor])


@pytest.mark.parametrize("method", list(RatingMethod))
def test_a_rating_records_how_it_was_obtained(method: RatingMethod) -> None:
    done = apply(make_case(State.VERIFIED), WORKER, Action.RATE, rating="satisfied", method=method.value)
    assert done.event.payload == {"rating": "satisfied", "method": method.value}


def test_an_unknown_rating_method_is_refused_and_none_is_still_accepted() -> None:
    with pytest.raises(InvalidInput, match="rating method"):
        apply(make_case(State.VERIFIED), WORKER, Action.RATE, rating="satisfied", method="pigeon")
    assert apply(make_case(State.VERIFIED), WORKER, Action.RATE,
                 rating="satisfied").event.payload == {"rating": "satisfied"}

"""One planning computation (siting or what-if) at a time per planner, across every worker.

Siting and what-if take seconds of CPU and hundreds of MB each; a planner who clicks again (or
opens a second tab) must wait for the first to finish rather than stack more of them on the
workers. The rate limit counts requests per address; this counts what is running per person.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection

from gridmap.access import Principal
from gridmap.coverage.repositories import planning as repo
from gridmap.coverage.services import readers
from gridmap.errors import Conflict


class PlanningRunning(Conflict):
    """The planner already has a siting or what-if running (HTTP 409)."""

    code = "planning_running"
    MESSAGE = ("您已有一个规划计算在运行，请等待完成 "
               "(you already have a planning computation running: wait for it to finish)")


@contextmanager
def one_at_a_time(conn: Connection, principal: Principal) -> Iterator[Principal]:
    """Hold the planner's lock on ``conn`` (an autocommit connection of the caller's own) for
    the block; 401/403 for who may not plan, :class:`PlanningRunning` if one already runs."""
    planner = readers.ensure_planner(principal)
    account_id = planner.account_id
    assert account_id is not None  # ensure_planner refuses principals without an account
    if not repo.try_lock(conn, account_id):
        raise PlanningRunning(PlanningRunning.MESSAGE)
    try:
        yield planner
    finally:
        repo.unlock(conn, account_id)

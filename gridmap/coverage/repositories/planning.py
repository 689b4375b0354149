"""The advisory lock that lets each planner run one siting or what-if at a time.

A session-level PostgreSQL advisory lock, taken without waiting on a connection the request
holds for itself, so it is shared by every worker process and released by the server if the
process dies (the connection closes). Keyed by the account: (:data:`LOCK_CLASS`, account id).
"""

from __future__ import annotations

from sqlalchemy import Connection, text

LOCK_CLASS = 0x676D_706C
"""First key of the lock ("gmpl": gridmap planning), keeping it apart from other advisory locks."""
_INT4 = 0x7FFF_FFFF


def _keys(account_id: int) -> dict[str, int]:
    # The two-key form takes int4s. Account ids beyond 2**31 would share a key with a smaller
    # one: the only effect would be that two such planners wait for each other.
    return {"cls": LOCK_CLASS, "key": account_id & _INT4}


def try_lock(conn: Connection, account_id: int) -> bool:
    """Take the planning lock of ``account_id`` on ``conn`` if nobody holds it; whether it did."""
    taken = conn.execute(text("SELECT pg_try_advisory_lock(CAST(:cls AS int), CAST(:key AS int))"),
                         _keys(account_id)).scalar_one()
    return bool(taken)


def unlock(conn: Connection, account_id: int) -> None:
    """Release the planning lock of ``account_id`` that ``conn`` holds."""
    conn.execute(text("SELECT pg_advisory_unlock(CAST(:cls AS int), CAST(:key AS int))"),
                 _keys(account_id))

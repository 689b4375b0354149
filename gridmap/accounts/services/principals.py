"""Turn an account (from a session or an API token) into the request's :class:`Principal`."""

from __future__ import annotations

from dataclasses import dataclass, replace

from sqlalchemy.orm import Session, sessionmaker

from gridmap.access import Principal, Role
from gridmap.accounts import credentials
from gridmap.accounts.repositories import accounts as repo
from gridmap.accounts.repositories import tokens as token_repo
from gridmap.db import unit_of_work


@dataclass(frozen=True)
class SignedIn:
    """A live account: its principal, its session epoch and whether it must change its password."""

    principal: Principal
    epoch: int
    must_change_password: bool


def load(session: Session, account_id: int, *, address: str | None) -> SignedIn | None:
    """The account as a principal, or None if it does not exist or is deactivated."""
    row = repo.principal_row(session, account_id)
    if row is None or not row["active"]:
        return None
    principal = Principal(
        account_id=row["id"], person_id=row["person_id"], role=Role(row["role"]),
        area_code=row["area_code"], department_code=row["department_code"],
        grids=frozenset(row["grids"] or ()), username=row["username"], name=row["name"],
        address=address)
    return SignedIn(principal, row["session_epoch"], row["must_change_password"])


def by_token(factory: sessionmaker[Session], secret: str, *,
             address: str | None) -> SignedIn | None:
    """The account a personal API token acts for (and mark the token used), or None."""
    with unit_of_work(factory) as session:
        account_id = token_repo.account_of_token(session, credentials.digest(secret))
        if account_id is None:
            return None
        found = load(session, account_id, address=address)
    # A token acts as its owner; a pending password change binds only the owner's pages.
    return replace(found, must_change_password=False) if found else None

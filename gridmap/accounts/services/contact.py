"""Where a person's notifications go: the account's e-mail address (supervision's e-mail channel).

A person sets their own address on "我的账号"; an administrator may set or clear anyone's. The
address is checked for its form only (email-validator, no DNS look-up: the server has no
internet, and an office's mail domain may resolve only inside it) and stored normalised. Every
change is in the audit log, with the address before and after.
"""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from sqlalchemy.orm import Session, sessionmaker

from gridmap.access import Principal, Role
from gridmap.accounts.repositories import accounts as repo
from gridmap.accounts.services.audit import Event, record
from gridmap.db import unit_of_work
from gridmap.errors import Forbidden, InvalidInput, NotFound, Unauthorized

MAX_EMAIL = 254
"""Characters in an address (RFC 5321's path limit; the column's width)."""


def normalise(raw: str) -> str | None:
    """The address ``raw`` in normal form; ``None`` for a blank one (no e-mail).

    Raises
    ------
    InvalidInput
        Not an e-mail address, with what is wrong with it.
    """
    raw = raw.strip()
    if not raw:
        return None
    if len(raw) > MAX_EMAIL:
        raise InvalidInput(f"邮箱地址不能超过 {MAX_EMAIL} 个字符 "
                           f"(an e-mail address has at most {MAX_EMAIL} characters)")
    try:
        found = validate_email(raw, check_deliverability=False)
    except EmailNotValidError as exc:
        raise InvalidInput(f"邮箱地址无效 (not a valid e-mail address): {exc}") from exc
    return str(found.normalized)


def email_of(session: Session, principal: Principal) -> str | None:
    """The signed-in person's own notification address."""
    if principal.account_id is None:
        raise Unauthorized(Unauthorized.MESSAGE)
    account = repo.get(session, principal.account_id)
    return account.email if account is not None else None


def set_email(factory: sessionmaker[Session], principal: Principal, account_id: int,
              raw: str) -> str | None:
    """Set the notification address of account ``account_id`` (blank: none); the stored value.

    Raises
    ------
    Forbidden
        Someone other than the account's person or an administrator.
    NotFound
        No such account.
    InvalidInput
        Not an e-mail address.
    """
    if not principal.signed_in:
        raise Unauthorized(Unauthorized.MESSAGE)
    if not (principal.has(Role.ADMIN) or principal.account_id == account_id):
        raise Forbidden("只能修改自己的邮箱 (you may change only your own e-mail address)")
    email = normalise(raw)
    with unit_of_work(factory) as session:
        account = repo.get(session, account_id, for_update=True)
        if account is None:
            raise NotFound(f"账号 {account_id} 不存在 (no such account)")
        before = account.email
        if before == email:
            return email
        repo.set_email(session, account_id, email)
        record(session, principal, Event.EMAIL_CHANGED, target_kind="account",
               target_id=account_id, detail={"username": account.username,
                                             "before": {"email": before},
                                             "after": {"email": email}})
    return email

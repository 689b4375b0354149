"""Sign-in, sign-out and password changes, with the failure throttle and the audit log."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from gridmap.access import Principal
from gridmap.accounts import credentials
from gridmap.accounts.repositories import accounts as repo
from gridmap.accounts.services.audit import Event, record
from gridmap.accounts.throttle import SignInThrottle
from gridmap.db import unit_of_work
from gridmap.errors import Forbidden, InvalidInput, RateLimited, Unauthorized

WRONG = "用户名或密码错误 (wrong user name or password)"


class LockedOut(RateLimited):
    """Too many failed sign-ins for this name or from this address (HTTP 429)."""

    code = "signed_in_locked"


@dataclass(frozen=True)
class SignInResult:
    """A successful sign-in: whose, the session epoch to store, whether a change is due."""

    account_id: int
    epoch: int
    must_change_password: bool


def sign_in(factory: sessionmaker[Session], username: str, password: str, *,
            address: str, throttle: SignInThrottle) -> SignInResult:
    """Check a name and password; the same answer (and time) for an unknown name or a wrong one.

    Raises
    ------
    LockedOut
        After too many failures for the name or from the address, until the window passes.
    Unauthorized
        For a wrong name or password, or a deactivated account.
    """
    name = username.strip().lower()[:64]
    who = Principal(address=address)
    wait = throttle.wait_s(name, address)
    if wait is not None:
        with unit_of_work(factory) as session:
            record(session, who, Event.SIGN_IN_LOCKED, username=name, detail={"wait_s": wait})
        minutes = max(1, (wait + 59) // 60)
        raise LockedOut(f"登录失败次数过多，请 {minutes} 分钟后再试 "
                        f"(too many failed sign-ins: try again in {minutes} min)")
    with unit_of_work(factory) as session:
        account = repo.by_username(session, name) if name else None
        live = account if account is not None and account.active else None
        ok = credentials.verify_password(live.password_hash if live else None, password)
        if not ok or live is None:
            record(session, who, Event.SIGN_IN_FAILED, username=name)
            result = None
        else:
            upgraded = (credentials.hash_password(password)
                        if credentials.needs_rehash(live.password_hash) else None)
            repo.signed_in(session, live.id, new_hash=upgraded)
            record(session, who, Event.SIGN_IN, username=name, target_kind="account",
                   target_id=live.id)
            result = SignInResult(live.id, live.session_epoch, live.must_change_password)
    if result is None:
        throttle.failed(name, address)
        raise Unauthorized(WRONG)
    throttle.succeeded(name)
    return result


def sign_out(factory: sessionmaker[Session], principal: Principal) -> None:
    """Record a sign-out (the web layer clears the session)."""
    with unit_of_work(factory) as session:
        record(session, principal, Event.SIGN_OUT, target_kind="account",
               target_id=principal.account_id or "")


def change_password(factory: sessionmaker[Session], principal: Principal, *, current: str,
                    new: str, repeat: str) -> int:
    """Change the signed-in person's own password; the new session epoch (others sign out).

    Raises
    ------
    InvalidInput
        The current password is wrong, the two new ones differ, or the new one is too weak.
    """
    if principal.account_id is None:
        raise Unauthorized(Unauthorized.MESSAGE)
    if new != repeat:
        raise InvalidInput("两次输入的新密码不一致 (the two new passwords differ)")
    if new == current:
        raise InvalidInput("新密码不能与当前密码相同 (the new password must differ from the current one)")
    problem = credentials.password_problem(new, username=principal.username)
    if problem:
        raise InvalidInput(problem)
    with unit_of_work(factory) as session:
        account = repo.get(session, principal.account_id, for_update=True)
        if account is None or not account.active:
            raise Forbidden("账号已停用 (the account is deactivated)")
        if not credentials.verify_password(account.password_hash, current):
            raise InvalidInput("当前密码不正确 (the current password is wrong)")
        epoch = repo.set_password(session, account.id, credentials.hash_password(new),
                                  must_change=False)
        record(session, principal, Event.PASSWORD_CHANGED, target_kind="account",
               target_id=account.id)
    return epoch

"""Personal API tokens (for scripts, acting as their owner) and Open311 client keys."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from gridmap.access import Principal, Role
from gridmap.accounts import credentials
from gridmap.accounts.repositories import accounts as account_repo
from gridmap.accounts.repositories import people as people_repo
from gridmap.accounts.repositories import tokens as repo
from gridmap.accounts.services import rights
from gridmap.accounts.services.audit import Event, record
from gridmap.db import unit_of_work
from gridmap.errors import InvalidInput, NotFound, Unauthorized

TOKEN_KIND = "gmt"
CLIENT_KIND = "gmk"
MAX_NAME = 80
MAX_SECRET = 200
"""Longer than any token or key we issue: a longer one is not looked up at all."""
_REVOKED = {"before": {"revoked": False}, "after": {"revoked": True}}


def _name(raw: str, what_zh: str) -> str:
    name = " ".join(raw.split())
    if not name or len(name) > MAX_NAME:
        raise InvalidInput(f"请填写{what_zh}名称（1–{MAX_NAME} 个字符） "
                           f"(a name of 1–{MAX_NAME} characters is required)")
    return name


def _account(principal: Principal) -> int:
    if principal.account_id is None:
        raise Unauthorized(Unauthorized.MESSAGE)
    return principal.account_id


def issue_token(factory: sessionmaker[Session], principal: Principal, name: str) -> dict[str, Any]:
    """A new personal token for the signed-in person; the secret is in the answer only."""
    return _issue(factory, principal, _account(principal), name)


def issue_token_for(factory: sessionmaker[Session], principal: Principal, account_id: int,
                    name: str) -> dict[str, Any]:
    """A new token for another account, by an administrator (a script's account made at the
    command line); the secret is in the answer only."""
    rights.admin(principal)
    return _issue(factory, principal, account_id, name)


def _issue(factory: sessionmaker[Session], principal: Principal, account_id: int,
           name: str) -> dict[str, Any]:
    label = _name(name, "令牌")
    secret, digest, prefix = credentials.new_secret(TOKEN_KIND)
    with unit_of_work(factory) as session:
        if account_repo.get(session, account_id) is None:
            raise NotFound(f"账号 {account_id} 不存在 (no such account)")
        token_id = repo.add_token(session, account_id=account_id, name=label, digest=digest,
                                  prefix=prefix)
        record(session, principal, Event.TOKEN_CREATED, target_kind="api_token",
               target_id=token_id, detail={"before": None, "after": {
                   "name": label, "account_id": account_id, "prefix": prefix}})
    return {"id": token_id, "name": label, "prefix": prefix, "token": secret}


def my_tokens(session: Session, principal: Principal) -> list[dict[str, Any]]:
    """The signed-in person's tokens (never a secret)."""
    return repo.tokens_of(session, _account(principal))


def revoke_token(factory: sessionmaker[Session], principal: Principal, token_id: int) -> None:
    """Revoke one of one's own tokens (an administrator may revoke anyone's)."""
    owner = None if principal.has(Role.ADMIN) else _account(principal)
    with unit_of_work(factory) as session:
        if not repo.revoke_token(session, token_id, account_id=owner):
            raise NotFound("令牌不存在或已吊销 (no such live token)")
        record(session, principal, Event.TOKEN_REVOKED, target_kind="api_token",
               target_id=token_id, detail=_REVOKED)


def issue_client_key(factory: sessionmaker[Session], principal: Principal, name: str,
                     contact: str = "") -> dict[str, Any]:
    """A new Open311 client and its API key (shown once)."""
    rights.admin(principal)
    label = _name(name, "客户端")
    secret, digest, prefix = credentials.new_secret(CLIENT_KIND)
    with unit_of_work(factory) as session:
        client_id = repo.add_client(session, name=label, contact=contact.strip()[:200],
                                    digest=digest, prefix=prefix,
                                    created_by=principal.account_id)
        record(session, principal, Event.CLIENT_CREATED, target_kind="open311_client",
               target_id=client_id, detail={"before": None, "after": {
                   "name": label, "contact": contact.strip()[:200], "prefix": prefix}})
    return {"id": client_id, "name": label, "prefix": prefix, "api_key": secret}


def clients(session: Session) -> list[dict[str, Any]]:
    """Every Open311 client (never a key)."""
    return repo.clients(session)


def revoke_client_key(factory: sessionmaker[Session], principal: Principal, client_id: int) -> None:
    """Revoke an Open311 client's key."""
    rights.admin(principal)
    with unit_of_work(factory) as session:
        if not repo.revoke_client(session, client_id):
            raise NotFound("客户端不存在或已吊销 (no such live client)")
        record(session, principal, Event.CLIENT_REVOKED, target_kind="open311_client",
               target_id=client_id, detail=_REVOKED)


def open311_client(factory: sessionmaker[Session], api_key: str) -> dict[str, Any] | None:
    """The live Open311 client holding ``api_key`` (marked used), or None.

    Its ``person_id`` is the person its cases are created by: made at the client's first use,
    in the same transaction ("Open311: <name>", an office post), and the same one ever after.
    """
    if not api_key or len(api_key) > MAX_SECRET:
        return None
    with unit_of_work(factory) as session:
        client = repo.client_of_key(session, credentials.digest(api_key))
        if client is not None and client["person_id"] is None:
            person_id = people_repo.add_person(
                session, name=f"Open311: {client['name']}", phone="", role="staff",
                department_code=None, community_code=None)
            repo.set_client_person(session, client["id"], person_id)
            client["person_id"] = person_id
        return client

"""Who is asking, for any handler: :func:`current_principal` and the role checks.

The accounts feature decides how a request is authenticated (session cookie or personal API
token) and registers that as the app's *principal loader*; this module only asks it once per
request and caches the answer. Checks here are the first line; services and repositories take
the principal again and filter what they read, so a forgotten decorator cannot leak a row.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

from flask import current_app, g, has_request_context

from gridmap.access import PUBLIC, Principal, Role
from gridmap.errors import Forbidden, Unauthorized

P = ParamSpec("P")
R = TypeVar("R")

LOADER = "gridmap.principal_loader"


def current_principal() -> Principal:
    """The principal of the current request (the public outside a request or without accounts)."""
    if not has_request_context():
        return PUBLIC
    cached = g.get("gridmap_principal")
    if isinstance(cached, Principal):
        return cached
    loader: Callable[[], Principal] | None = current_app.extensions.get(LOADER)
    principal = loader() if loader is not None else PUBLIC
    g.gridmap_principal = principal
    return principal


def forbidden_role() -> Forbidden:
    """The refusal for a signed-in person whose role may not use this."""
    return Forbidden("您的岗位无权执行此操作 (your role may not do this)")


def ensure(principal: Principal, *roles: Role) -> Principal:
    """``principal`` if signed in with one of ``roles`` (any role when none are given).

    Raises
    ------
    Unauthorized
        For the public (HTTP 401; pages redirect to the sign-in page).
    Forbidden
        For a signed-in role that is not among ``roles``.
    """
    if not principal.signed_in:
        raise Unauthorized(Unauthorized.MESSAGE)
    if roles and not principal.has(*roles):
        raise forbidden_role()
    return principal


def require(*roles: Role) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Decorate a view: the caller must be signed in, with one of ``roles`` if any are given."""

    def decorate(view: Callable[P, R]) -> Callable[P, R]:
        @wraps(view)
        def checked(*args: P.args, **kwargs: P.kwargs) -> R:
            ensure(current_principal(), *roles)
            return view(*args, **kwargs)

        setattr(checked, "gridmap_roles", frozenset(roles) or None)  # noqa: B010 (read by tests)
        return checked

    return decorate

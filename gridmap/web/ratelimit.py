"""Rate limits per client address (Flask-Limiter), counted in a store every worker shares.

Feature web modules mark a view with :func:`limited` and the name of its budget in
:class:`~gridmap.config.RateLimits`; :func:`register_rate_limits` gives each app its own
limiter and applies the budgets from that app's settings, so two apps (two workers) with the
same Redis share their counters. If the store cannot be reached the app keeps serving and
counts in this process's memory until the store answers again (Flask-Limiter logs a warning
once per outage): a limit half-kept beats refusing every case.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from gridmap.config import RateLimits
from gridmap.errors import RateLimited

View = TypeVar("View", bound=Callable[..., object])

_MARK = "_gridmap_rate_limit"
BUDGETS = ("intake", "case_actions", "open311", "planning", "sign_in")
# A rate-limit check must never hold a request for long: an unreachable Redis is given up on
# quickly and the in-memory fallback takes over.
_REDIS_TIMEOUT_S = 1


def limited(budget: str, *, methods: tuple[str, ...] | None = None) -> Callable[[View], View]:
    """Mark a view for the rate limit ``budget`` (a field of :class:`RateLimits`), counting
    only requests of ``methods`` when given (a form page's GET need not count)."""
    if budget not in BUDGETS:
        raise ValueError(f"unknown rate-limit budget {budget!r}; one of {', '.join(BUDGETS)}")

    def mark(view: View) -> View:
        setattr(view, _MARK, (budget, methods))
        return view

    return mark


def _storage_options(url: str) -> dict[str, str | int]:
    if url.startswith(("redis://", "rediss://")):
        return {"socket_connect_timeout": _REDIS_TIMEOUT_S, "socket_timeout": _REDIS_TIMEOUT_S}
    return {}


def register_rate_limits(app: Flask, rates: RateLimits) -> Limiter:
    """Install the app's limiter and apply each marked view's budget (after the blueprints)."""
    limiter = Limiter(
        get_remote_address,  # request.remote_addr: the peer, or what ProxyFix trusted
        app=app,
        storage_uri=rates.storage_url,
        storage_options=_storage_options(rates.storage_url),
        key_prefix=rates.key_prefix,
        strategy="moving-window",  # no double burst at a window's edge
        headers_enabled=True,  # X-RateLimit-* and, on a 429, Retry-After
        in_memory_fallback_enabled=True,
    )
    for endpoint, view in list(app.view_functions.items()):
        mark = getattr(view, _MARK, None)
        if mark is not None:
            budget, methods = mark
            # Shared by budget, not by endpoint: siting and what-if draw on one planning budget.
            limit = limiter.shared_limit(getattr(rates, budget), scope=budget, methods=methods,
                                         error_message=RateLimited.MESSAGE)
            wrapped: Any = limit(view)  # the same view, checked first
            app.view_functions[endpoint] = wrapped
    app.extensions["gridmap.limiter"] = limiter
    return limiter

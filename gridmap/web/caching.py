"""Conditional requests: weak ETags made from data versions, ``If-None-Match`` → 304.

An ETag here is a digest of what decides an answer's bytes: the versions of the data it is read
from (``data_version``, bumped by statement triggers: migrations 0010 and 0015), the request's
query, the language, this code's version, and, for answers that differ per person (residents'
counts in the territory of the one asking), that person's scope. So

- an unchanged layer costs one small query and a 304 instead of a stream of features;
- a change to the data changes the ETag at once (the triggers run in the changing transaction);
- one person's scoped answer never matches another person's ETag, and such answers are marked
  ``Cache-Control: private`` so no shared cache keeps them.

The ETags are weak (``W/"…"``): the same answer is sent brotli-, gzip- or un-compressed, which a
strong validator would have to tell apart.
"""

from __future__ import annotations

import hashlib
import json
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version

from flask import Response, request

from gridmap.access import Principal

REVALIDATE = "no-cache"
"""Keep it, but ask each time (a cheap 304): edits must be seen at once."""


def _code_version() -> str:
    try:
        return package_version("gridmap")
    except PackageNotFoundError:  # pragma: no cover - a checkout run without installing it
        return "0"


def scope_key(principal: Principal) -> str:
    """What decides a scoped answer for ``principal``: role, area, department and grids."""
    if not principal.signed_in:
        return "public"
    return "|".join((str(principal.role), principal.area_code or "*",
                     principal.department_code or "", ",".join(sorted(principal.grids))))


def etag(*parts: object) -> str:
    """A digest of ``parts`` (data versions, query, language, scope) as an ETag value."""
    material = json.dumps([_code_version(), *parts], sort_keys=True, default=str,
                          ensure_ascii=False)
    return hashlib.sha256(material.encode()).hexdigest()[:32]


def query_key() -> list[tuple[str, str]]:
    """The request's query parameters, in a stable order."""
    return sorted(request.args.items(multi=True))


def not_modified(tag: str, *, private: bool) -> Response | None:
    """A 304 when the client's ``If-None-Match`` holds ``tag`` (weak comparison), else None."""
    if not request.if_none_match.contains_weak(tag):
        return None
    return validated(Response(status=304), tag, private=private)


def validated(response: Response, tag: str, *, private: bool) -> Response:
    """``response`` with its ETag and cache headers: private answers for one person only,
    revalidated every time; ``Vary`` names what can change a person's answer."""
    response.set_etag(tag, weak=True)
    response.headers["Cache-Control"] = f"{'private' if private else 'public'}, {REVALIDATE}"
    response.vary.update(("Accept-Language", "Authorization", "Cookie"))
    return response

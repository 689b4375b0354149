"""Helpers of the OGC API tests: read every page of an items request by its next links."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from flask.testing import FlaskClient


def local(href: str) -> str:
    """A link's path and query (the test client has no host)."""
    parts = urlsplit(href)
    return parts.path + ("?" + parts.query if parts.query else "")


def page(api: FlaskClient, url: str, headers: dict[str, str] | None = None,
         **params: Any) -> dict[str, Any]:
    """One items page as a dict; asserts a 200."""
    response = api.get(url, query_string=params or None, headers=headers or {})
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    doc: dict[str, Any] = json.loads(response.get_data(as_text=True))
    return doc


def all_ids(api: FlaskClient, collection: str, headers: dict[str, str] | None = None,
            **params: Any) -> list[Any]:
    """Every feature id of an items request, in order, following ``next`` links."""
    doc = page(api, f"/ogc/collections/{collection}/items", headers, **params)
    found = [f["id"] for f in doc["features"]]
    while True:
        following = [link["href"] for link in doc["links"] if link["rel"] == "next"]
        if not following:
            return found
        doc = page(api, local(following[0]), headers)
        found += [f["id"] for f in doc["features"]]

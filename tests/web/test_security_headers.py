"""Security headers on every response: pages, API, Open311, static and vendor files, errors."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from flask import Flask

from gridmap.config import Settings
from gridmap.web.security import PERMISSIONS_POLICY, tile_source

EXPECTED = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Permissions-Policy": PERMISSIONS_POLICY,
}
CSP_DIRECTIVES = {
    "default-src": "'self'", "script-src": "'self'", "style-src": "'self'",
    "style-src-elem": "'self'", "style-src-attr": "'unsafe-inline'",
    "img-src": "'self' data: blob:", "connect-src": "'self'", "object-src": "'none'",
    "base-uri": "'self'", "form-action": "'self'", "frame-ancestors": "'none'",
}


def _csp(value: str) -> dict[str, str]:
    pairs = (part.strip().split(" ", 1) for part in value.split(";"))
    return {name: rest for name, rest in pairs}


def _assert_secured(response, img_src: str = CSP_DIRECTIVES["img-src"]) -> None:  # type: ignore[no-untyped-def]
    for name, value in EXPECTED.items():
        assert response.headers.get(name) == value, name
    csp = _csp(response.headers["Content-Security-Policy"])
    assert {**CSP_DIRECTIVES, "img-src": img_src}.items() <= csp.items()
    assert "'unsafe-inline'" not in csp["script-src"] + csp["style-src"] + csp["style-src-elem"]
    assert "'unsafe-eval'" not in response.headers["Content-Security-Policy"]
    assert "geolocation=(self)" in response.headers["Permissions-Policy"]


@pytest.mark.parametrize(("path", "status"), [
    ("/", 200), ("/cases/new", 302), ("/cases/map", 302), ("/coverage", 302),
    ("/api/case-categories", 200), ("/open311/v2/services.json", 200),
    ("/open311/v2/services.xml", 200), ("/static/js/common.js", 200),
    ("/vendor/leaflet/dist/leaflet.css", 200),
    ("/no/such/page", 404), ("/api/cases/999999999", 401),
    ("/open311/v2/services/none.json", 404), ("/vendor/leaflet/../../etc/passwd", 404),
])
def test_every_kind_of_response_carries_the_headers(api, path: str, status: int) -> None:
    with api.get(path) as response:  # closes the file a static answer streams
        assert response.status_code == status
        _assert_secured(response)


def test_post_and_bad_request_answers_carry_the_headers(api) -> None:
    response = api.post("/open311/v2/requests.json", data={})
    assert response.status_code == 403  # refused: no api_key
    _assert_secured(response)


def test_unexpected_errors_carry_the_headers(api, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("boom")

    from gridmap.cases.open311 import services as open311
    from gridmap.cases.services import queries

    monkeypatch.setattr(queries, "categories", broken)
    monkeypatch.setattr(open311, "services", broken)
    for path in ("/api/case-categories", "/open311/v2/services.json"):
        response = api.get(path)
        assert response.status_code == 500
        assert b"boom" not in response.data
        _assert_secured(response)


@pytest.fixture
def app_with_tiles(settings: Settings) -> Iterator[Flask]:
    """An app whose basemap comes from another host."""
    from gridmap.app import create_app

    app = create_app(replace(settings, tile_url="https://{s}.tile.example.org/{z}/{x}/{y}.png"))
    yield app
    app.extensions["gridmap.read_pool"].close()
    app.extensions["gridmap.engine"].dispose()


def test_the_configured_basemap_host_may_serve_images(app_with_tiles: Flask) -> None:
    with app_with_tiles.test_client().get("/static/js/common.js") as response:
        _assert_secured(response, img_src="'self' data: blob: https://*.tile.example.org")
        csp = _csp(response.headers["Content-Security-Policy"])
    assert "tile.example.org" not in csp["connect-src"]


@pytest.mark.parametrize(("url", "source"), [
    ("https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png", "https://*.tile.openstreetmap.org"),
    ("https://webrd0{s}.is.autonavi.com/appmaptile?x={x}&y={y}&z={z}", "https://*.is.autonavi.com"),
    ("http://tiles.example.cn:8080/{z}/{x}/{y}.png", "http://tiles.example.cn:8080"),
    ("https://user@tiles.example.cn/{z}/{x}/{y}.png", "https://tiles.example.cn"),
    ("/tiles/{z}/{x}/{y}.png", None),  # same origin: 'self' already covers it
    ("javascript:alert(1)", None),
    ("https://evil.example; script-src *", None),
    ("https://{s}/{z}.png", None),
])
def test_tile_source(url: str, source: str | None) -> None:
    assert tile_source(url) == source

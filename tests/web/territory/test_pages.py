"""Pages and vendor assets through the test client: Chinese by default, English on request."""

from __future__ import annotations

import re


def test_map_page_is_chinese_by_default(client) -> None:
    response = client.get("/")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'lang="zh' in html and "网格地图" in html
    # Every script and stylesheet comes from this server: no CDN.
    for src in re.findall(r'(?:src|href)="([^"]+\.(?:js|css)[^"]*)"', html):
        assert src.startswith("/"), src


def test_map_page_in_english_and_remembered(client) -> None:
    response = client.get("/?lang=en")
    assert response.status_code == 200
    assert 'lang="en"' in response.get_data(as_text=True)
    assert "gridmap_lang=en" in response.headers.get("Set-Cookie", "")
    again = client.get("/")
    assert 'lang="en"' in again.get_data(as_text=True)


def test_vendor_leaflet_is_served_from_node_modules(client) -> None:
    response = client.get("/vendor/leaflet/dist/leaflet.js")
    try:
        assert response.status_code == 200
        assert b"Leaflet" in response.data[:2000]
        assert "max-age" in response.headers.get("Cache-Control", "")
    finally:
        response.close()  # the file is streamed; close it like a WSGI server would


def test_vendor_files_outside_the_whitelist_are_404(client) -> None:
    for path in ("/vendor/leaflet/package.json", "/vendor/leaflet/../../pyproject.toml",
                 "/vendor/left-pad/index.js", "/vendor/leaflet/dist/%2e%2e/%2e%2e/README.md"):
        assert client.get(path).status_code == 404, path


def test_unknown_page_is_a_404_page_for_people(client) -> None:
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert response.mimetype == "text/html"

"""What every page shares: one page-config blob read by id, and one JS helper module loaded
before the page's own scripts (helpers defined once, not per page)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import gridmap

PAGES = ["/", "/cases/new", "/cases", "/cases/1", "/cases/dashboard", "/cases/map", "/coverage",
         "/coverage/audit", "/inbox"]
JS = Path(gridmap.__file__).parent / "static" / "js"
GENERIC_HELPERS = ["readJSON", "fmt", "escapeHtml", "el", "debounce", "isAbort", "apiUrl",
                   "request", "errorFrom", "getJSON"]


def _config(html: str) -> dict:
    blobs = re.findall(r'<script type="application/json" id="gm-page-config">(.*?)</script>', html,
                       re.S)
    assert len(blobs) == 1, "exactly one page config per page"
    return json.loads(blobs[0])


SIGNED_IN = {"/coverage": "planner", "/coverage/audit": "planner", "/inbox": "planner"}
"""Pages for signed-in roles only, and a role that may open them."""


@pytest.mark.parametrize("path", PAGES)
def test_every_page_has_one_config_and_loads_the_helpers_first(api, login, path: str) -> None:
    # Case pages need an account (a district centre may open every one), coverage a reader.
    role = "district_centre" if path.startswith("/cases") else SIGNED_IN.get(path)
    headers = login(role, area="210103") if role else {}
    html = api.get(path, headers=headers).get_data(as_text=True)
    config = _config(html)
    assert config["apiBase"] == "/api" and config["root"] == "" and config["lang"] == "zh"
    scripts = re.findall(r'<script src="/static/js/([\w.-]+\.js)', html)
    assert scripts[0] == "common.js" and scripts.count("common.js") == 1, scripts
    assert len(scripts) > 1, "the page has a script of its own"


def test_map_page_config_comes_from_the_shared_builder(client) -> None:
    html = client.get("/?lang=en").get_data(as_text=True)
    assert "gm-map-config" not in html
    config = _config(html)
    assert config["lang"] == "en" and config["strings"]["loading"] == "Loading…"
    assert {"tileUrl", "tileAttribution"} <= config.keys()


def test_generic_helpers_are_defined_once_in_common_js() -> None:
    for name in GENERIC_HELPERS:
        defined_in = sorted(p.name for p in JS.glob("*.js")
                            if re.search(rf"\bfunction {name}\(", p.read_text(encoding="utf-8")))
        assert defined_in == ["common.js"], (name, defined_in)

"""The OpenAPI document: valid 3.1, complete against the URL map, detail merged over the
baseline; the docs page. (The property-based run is tests/e2e/test_api_schema.py.)"""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from openapi_spec_validator import validate

from gridmap.app import create_app
from gridmap.config import Settings
from gridmap.web import openapi


def _operations(app: Flask) -> set[tuple[str, str]]:
    document = openapi.document(app)
    return {(path, method) for path, item in document["paths"].items() for method in item
            if method in openapi.METHODS}


def _rules(app: Flask) -> set[tuple[str, str]]:
    found = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint in openapi.EXCLUDED:
            continue
        path = rule.rule
        for name in rule.arguments:
            path = path.replace(f"<{name}>", f"{{{name}}}")
            for converter in ("int", "path"):
                path = path.replace(f"<{converter}:{name}>", f"{{{name}}}")
        found |= {(path, m.lower()) for m in rule.methods or () if m not in ("HEAD", "OPTIONS")}
    return found


def test_the_document_is_valid_openapi_3_1(client: FlaskClient) -> None:
    answer = client.get("/api/openapi.json")
    assert answer.status_code == 200
    assert answer.mimetype == "application/vnd.oai.openapi+json"
    document = answer.get_json(force=True)
    assert document["openapi"] == "3.1.0"
    validate(document)


def test_every_endpoint_of_the_url_map_is_in_the_document(app: Flask) -> None:
    assert _operations(app) == _rules(app)
    assert set(openapi.EXCLUDED) == {"static", "assets.vendor_file"}  # said, not forgotten


def test_a_new_endpoint_gets_a_baseline_and_its_detail(settings: Settings) -> None:
    """What a feature landing later gets with no work, and with a dict."""
    from gridmap.access import Role
    from gridmap.web.auth import require

    app = create_app(settings)

    @app.get("/later/collections/<collection_id>/items/<int:feature_id>")
    @require(Role.PLANNER)
    def ogc_item(collection_id: str, feature_id: int) -> str:
        """One feature of a collection.

        More words."""
        return ""

    openapi.describe(app, {"ogc_item": {"get": {
        "parameters": [openapi.query("crs", openapi.STRING)],
        "responses": {"200": openapi.ok({"type": "object"}, media="application/geo+json")}}}})
    operation: dict[str, Any] = openapi.document(app)["paths"][
        "/later/collections/{collection_id}/items/{feature_id}"]["get"]
    assert operation["summary"] == "One feature of a collection."
    names = {(p["name"], p["in"]) for p in operation["parameters"]}
    assert names == {("collection_id", "path"), ("feature_id", "path"), ("crs", "query")}
    assert operation["x-gridmap-roles"] == ["planner"]
    assert {"token": []} in operation["security"]
    assert {"200", "400", "401", "403", "404", "429", "503"} <= set(operation["responses"])
    assert "application/geo+json" in operation["responses"]["200"]["content"]
    part = openapi.document(app, prefix="/later")
    assert list(part["paths"]) == ["/later/collections/{collection_id}/items/{feature_id}"]
    validate(part)


def test_secured_operations_say_which_roles(app: Flask) -> None:
    paths = openapi.document(app)["paths"]
    assert paths["/api/cases/{case_id}/actions"]["post"]["security"] == [
        {"token": []}, {"session": [], "csrf": []}]
    assert "security" not in paths["/api/meta"]["get"]
    assert paths["/metrics"]["get"]["x-gridmap-roles"] == ["admin"]


def test_the_docs_page_uses_the_local_swagger_ui(client: FlaskClient) -> None:
    page = client.get("/api/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "/vendor/swagger-ui-dist/swagger-ui-bundle.js?v=" in html
    assert 'data-spec-url="/api/openapi.json"' in html
    assert "<script>" not in html  # the CSP allows scripts from files of this site only
    bundle = client.get("/vendor/swagger-ui-dist/swagger-ui-bundle.js")
    assert bundle.status_code == 200
    bundle.close()


def test_the_document_answers_304_to_its_etag(client: FlaskClient) -> None:
    first = client.get("/api/openapi.json")
    again = client.get("/api/openapi.json", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""

"""Coverage exports go through the one CSV / GeoJSON writer; the web layer stays thin."""

from __future__ import annotations

import ast
import csv
import io
import json
from pathlib import Path

from gridmap.coverage import web
from gridmap.coverage.services import audit, queries

WEB = Path(web.__file__).parent


def _audit_row(name: str) -> dict[str, object]:
    return {"level": "community", "code": "210103001001", "name": name,
            "facility_type": "pocket_park", "circle": "5min", "status": "gap", "residents": 10,
            "residents_covered": 1, "residents_share": 0.1, "elderly": 2, "elderly_covered": 0,
            "run_id": 7, "command": None, "geometry": '{"type":"Point","coordinates":[123.4,41.8]}'}


def test_csv_exports_neutralise_formulas_and_carry_a_bom() -> None:
    for text_ in ("".join(audit.to_csv([_audit_row("=HYPERLINK(\"x\")")])),
                  "".join(queries.areas_csv([{"code": "210103", "name": "@SUM(A1)"}]))):
        assert text_.startswith("\ufeff")
        rows = list(csv.DictReader(io.StringIO(text_.removeprefix("\ufeff"))))
        assert rows[0]["name"] in ("'=HYPERLINK(\"x\")", "'@SUM(A1)")


def test_audit_geojson_is_a_feature_collection_with_its_count() -> None:
    doc = json.loads("".join(audit.to_geojson([_audit_row("a"), _audit_row("b")])))
    assert doc["type"] == "FeatureCollection" and doc["numberReturned"] == 2
    assert doc["features"][0]["geometry"]["type"] == "Point"
    assert list(doc["features"][1]["properties"]) == audit.COLUMNS


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    return found | {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}


def test_web_modules_import_services_and_core_only() -> None:
    for path in WEB.glob("*.py"):
        bad = {m for m in _imports(path)
               if m.startswith(("sqlalchemy", "psycopg", "gridmap.coverage.repositories",
                                "gridmap.territory", "gridmap.cases", "gridmap.models"))}
        assert not bad, (path.name, bad)


def test_handlers_are_short() -> None:
    for path in WEB.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            routed = isinstance(node, ast.FunctionDef) and any(
                isinstance(d, ast.Call) and isinstance(d.func, ast.Attribute)
                and d.func.attr in ("get", "post") for d in node.decorator_list)
            if routed:
                assert node.end_lineno - node.lineno + 1 <= 25, (path.name, node.name)

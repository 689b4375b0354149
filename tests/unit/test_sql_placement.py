"""Where SQL may live: in repositories and sql/ files, never in services, never as f-strings.

import-linter holds which modules import which (``make lint``); this holds what a services
module may take from SQLAlchemy: types to pass sessions around, nothing that builds a statement.
Features are listed as they are made clean (cases and coverage join at the merge of issue 7).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "gridmap"
CLEAN_FEATURES = ["territory", "demo", "operations", "ogc", "mediation"]
# What a service may import from sqlalchemy: the types of what it is handed or hands on.
SERVICE_SQLALCHEMY_NAMES = {"Connection", "Session", "sessionmaker", "Select"}


def _services(feature: str) -> list[Path]:
    return sorted((ROOT / feature / "services").glob("*.py"))


@pytest.mark.parametrize("feature", CLEAN_FEATURES)
def test_services_build_no_statements(feature: str) -> None:
    for path in _services(feature):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy"):
                names = {alias.name for alias in node.names}
                assert names <= SERVICE_SQLALCHEMY_NAMES, (path.name, names)
            if isinstance(node, ast.Import):
                assert not any(a.name.startswith("sqlalchemy") for a in node.names), path.name
            if isinstance(node, ast.Attribute) and node.attr in {"execute", "scalar", "scalars"}:
                pytest.fail(f"{path.name} runs a statement itself (.{node.attr})")


@pytest.mark.parametrize("pattern", [*(f"{f}/**/*.py" for f in CLEAN_FEATURES), "web/*.py",
                                     "analysis/*.py", "*.py"])
def test_no_sql_string_checks_are_silenced(pattern: str) -> None:
    # Ruff's S608 flags SQL built from strings; a noqa would hide one, so none is allowed.
    paths = sorted(ROOT.glob(pattern))
    assert paths
    for path in paths:
        assert "noqa: S608" not in path.read_text(encoding="utf-8"), path

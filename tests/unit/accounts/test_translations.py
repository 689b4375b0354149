"""Every string of the account and administration pages has its English translation (the pages
are Chinese first, English second)."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[3] / "gridmap"
SOURCES = [*sorted((ROOT / "templates" / "accounts").rglob("*.html")),
           *sorted((ROOT / "accounts" / "web").glob("*.py"))]


@pytest.fixture(scope="module")
def english() -> dict[str, str]:
    with (ROOT / "translations" / "en" / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return {str(m.id): str(m.string) for m in read_po(f, locale="en") if m.id}


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_string_is_translated(path: Path, english: dict[str, str]) -> None:
    method = "jinja2" if path.suffix == ".html" else "python"
    found = [message for _, message, _, _ in extract_from_file(method, str(path))]
    ids = [m if isinstance(m, str) else m[0] for m in found]
    if path.name == "_layout.html":
        assert ids, "no strings found: is the Jinja extractor installed?"
    untranslated = [m for m in ids if not english.get(m)]
    assert not untranslated, untranslated

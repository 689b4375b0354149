"""Backup files without a database: the manifest's checks, the restore listing, the password
kept off the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gridmap.errors import DataRejected, InvalidInput
from gridmap.operations import archive, pgtools

LISTING = """;
; Archive created at 2026-11-30 05:33:14 UTC
8; 2615 2200 SCHEMA - public pg_database_owner
4562; 0 0 COMMENT - SCHEMA public pg_database_owner
231; 1259 16390 TABLE public grid gridmap_owner
4300; 0 16390 TABLE DATA public grid gridmap_owner
4301; 0 0 COMMENT public TABLE grid gridmap_owner
"""


def _backup(root: Path) -> dict:
    (root / "media" / "cases" / "7").mkdir(parents=True)
    (root / archive.DUMP).write_bytes(b"PGDMP")
    (root / "media" / "cases" / "7" / "a.jpg").write_bytes(b"jpeg")
    manifest = {"format": archive.FORMAT, "row_counts": {}, "database": {},
                "files": archive.checksums(root)}
    archive.write_manifest(root, manifest)
    return manifest


def test_listing_drops_only_the_schemas_own_entries() -> None:
    kept = pgtools.without_schema_entry(LISTING, "public")
    assert "SCHEMA - public" not in kept and "COMMENT - SCHEMA public" not in kept
    assert "TABLE public grid" in kept and "TABLE DATA public grid" in kept
    assert "COMMENT public TABLE grid" in kept


def test_password_travels_in_the_environment_only() -> None:
    uri, env = pgtools._connection("postgresql+psycopg://owner:s%40cret@db:5433/gridmap?sslmode=require")
    assert "cret" not in uri and uri.startswith("postgresql://owner@db:5433/gridmap")
    assert "sslmode=require" in uri
    assert env["PGPASSWORD"] == "s@cret"


def test_pattern_quotes_names() -> None:
    assert pgtools._pattern("public", 'odd"name') == '"public"."odd""name"'


def test_a_whole_backup_verifies(tmp_path: Path) -> None:
    manifest = _backup(tmp_path)
    assert archive.read_manifest(tmp_path) == json.loads(json.dumps(manifest))
    archive.verify(tmp_path, manifest)


def test_missing_changed_and_extra_files_are_named(tmp_path: Path) -> None:
    manifest = _backup(tmp_path)
    (tmp_path / "media" / "cases" / "7" / "a.jpg").write_bytes(b"JPEG")
    (tmp_path / "media" / "stray.jpg").write_bytes(b"x")
    with pytest.raises(DataRejected) as caught:
        archive.verify(tmp_path, manifest)
    assert "checksum differs: media/cases/7/a.jpg" in caught.value.message
    assert "not in the manifest: media/stray.jpg" in caught.value.message
    (tmp_path / archive.DUMP).unlink()
    with pytest.raises(DataRejected, match="missing: database.dump"):
        archive.verify(tmp_path, manifest)


@pytest.mark.parametrize("name", ["../etc/passwd", "/etc/passwd", "media/../../x"])
def test_manifest_names_stay_inside_the_backup(tmp_path: Path, name: str) -> None:
    manifest = _backup(tmp_path)
    manifest["files"][name] = {"sha256": "0", "bytes": 0}
    (tmp_path / archive.MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(InvalidInput, match="leaves the backup directory"):
        archive.read_manifest(tmp_path)


def test_a_directory_without_manifest_is_not_a_backup(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="no manifest.json"):
        archive.read_manifest(tmp_path)


def test_cli_refusals_are_clean_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from gridmap.cli import main

    monkeypatch.setenv("GRIDMAP_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    monkeypatch.setenv("GRIDMAP_SECRET_KEY", "test")
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "keep.txt").write_text("x")
    result = CliRunner().invoke(main, ["backup", str(tmp_path / "old")])
    assert result.exit_code == 1 and "not an empty directory" in result.output
    result = CliRunner().invoke(main, ["restore", str(tmp_path / "old")])
    assert result.exit_code == 1 and "is not a gridmap backup" in result.output

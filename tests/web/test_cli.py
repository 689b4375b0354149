"""The gridmap CLI: help on every command, export to a file that GIS tools read."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pytest
from click.testing import CliRunner
from osm_extract import Extract, square
from sqlalchemy import text

from gridmap.cli import main


@pytest.fixture
def env(settings) -> dict[str, str]:
    return {"GRIDMAP_DATABASE_URL": settings.database_url,
            "GRIDMAP_SECRET_KEY": settings.secret_key}


@pytest.mark.parametrize("args", [[], ["db"], ["db", "upgrade"], ["db", "downgrade"], ["demo"],
                                  ["demo", "load"], ["demo", "accounts"], ["export"], ["locate"], ["serve"],
                                  ["coverage"], ["coverage", "compute"], ["coverage", "site"],
                                  ["coverage", "audit"], ["escalate"]])
def test_every_command_has_help(args) -> None:
    result = CliRunner().invoke(main, [*args, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output


def test_export_grids_of_a_subdistrict(engine, env, tmp_path) -> None:
    with engine.connect() as conn:
        code, n = conn.execute(text(
            "SELECT left(code, 9), count(*) FROM grid GROUP BY 1 ORDER BY 1 LIMIT 1")).one()
    out = tmp_path / "grids.geojson"
    result = CliRunner().invoke(main, ["export", "grids", str(out), "--subdistrict", code], env=env)
    assert result.exit_code == 0, result.output
    frame = gpd.read_file(out)
    assert len(frame) == n and frame.crs.to_epsg() == 4326


def test_export_streets_of_a_community_by_its_outline(engine, env, tmp_path) -> None:
    """Streets carry no code: an area keeps those crossing its outline."""
    with engine.connect() as conn:
        code = conn.execute(text("SELECT code FROM community ORDER BY code LIMIT 1")).scalar_one()
        n = conn.execute(text("SELECT count(*) FROM street_edge s JOIN community c ON c.code = :c "
                              "AND ST_Intersects(s.geom, c.geom)"), {"c": code}).scalar_one()
    out = tmp_path / "streets.csv"
    result = CliRunner().invoke(main, ["export", "streets", str(out), "--community", code],
                                env=env)
    assert result.exit_code == 0, result.output
    frame = gpd.read_file(out)
    assert len(frame) == n > 0


def test_export_rejects_bad_filter_and_writes_nothing(engine, env, tmp_path) -> None:
    out = tmp_path / "x.geojson"
    result = CliRunner().invoke(main, ["export", "grids", str(out), "--bbox", "1,2"], env=env)
    assert result.exit_code != 0
    assert "bbox" in result.output
    assert not out.exists()


def test_locate_command(engine, env) -> None:
    with engine.connect() as conn:
        code, lon, lat = conn.execute(text(
            "SELECT code, ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) "
            "FROM grid ORDER BY code LIMIT 1")).one()
    result = CliRunner().invoke(main, ["locate", str(lon), str(lat)], env=env)
    assert result.exit_code == 0, result.output
    assert code in result.output


def test_missing_settings_is_a_clear_error() -> None:
    result = CliRunner().invoke(main, ["locate", "123.4", "41.8"], env={
        "GRIDMAP_DATABASE_URL": "", "GRIDMAP_SECRET_KEY": ""})
    assert result.exit_code != 0
    assert "GRIDMAP_DATABASE_URL" in result.output


def test_coverage_compute_if_missing_runs_once(engine, env) -> None:
    args = ["coverage", "compute", "--type", "pocket_park", "--circle", "10min", "--if-missing"]
    try:
        first = CliRunner().invoke(main, args, env=env)
        assert first.exit_code == 0, first.output
        assert "buildings within 10min" in first.output
        second = CliRunner().invoke(main, args, env=env)
        assert second.exit_code == 0 and "nothing to do" in second.output
        with engine.connect() as conn:
            runs = conn.execute(text("SELECT count(*) FROM coverage_run WHERE facility_type = "
                                     "'pocket_park' AND circle = '10min'")).scalar_one()
        assert runs == 1
    finally:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM coverage_run WHERE facility_type = 'pocket_park' "
                              "AND circle = '10min'"))


@pytest.mark.parametrize(("storage", "workers", "warned"), [
    ("memory://", 4, True), ("memory://", 1, False), ("redis://127.0.0.1:54330/0", 4, False)])
def test_serve_warns_when_workers_would_count_rate_limits_alone(
        env, monkeypatch, storage: str, workers: int, warned: bool) -> None:
    started: list[dict[str, list[str]]] = []
    environments: list[dict[str, str]] = []

    def supervise(programs: dict[str, list[str]], environment: dict[str, str]) -> int:
        started.append(programs)
        environments.append(environment)
        return 0

    monkeypatch.setattr("gridmap.supervisor.supervise", supervise)
    result = CliRunner().invoke(main, ["serve", "--workers", str(workers)],
                                env={**env, "GRIDMAP_RATELIMIT_STORAGE_URL": storage})
    assert result.exit_code == 0, result.output
    web = started[0]["web"]
    assert web[web.index("--workers") + 1] == str(workers)
    assert started[0]["jobs"][-1] == "worker"  # the job worker runs beside it
    # The workers' metrics folder is gunicorn's, not this process's (tests run on after it).
    assert environments[0]["PROMETHEUS_MULTIPROC_DIR"]
    assert "PROMETHEUS_MULTIPROC_DIR" not in os.environ
    assert ("GRIDMAP_RATELIMIT_STORAGE_URL is memory://" in result.output) is warned


def test_the_command_finds_the_checkouts_settings_with_an_empty_environment(
        engine, settings, tmp_path) -> None:
    """`gridmap` as a new user runs it after `make demo`: no variable set, the file in the
    checkout (here a copy pointing at the test database), started from a subfolder."""
    root = Path(__file__).resolve().parents[2]
    checkout = tmp_path / "checkout"
    (checkout / ".gridmap").mkdir(parents=True)
    (checkout / "pyproject.toml").write_text('[project]\nname = "gridmap"\n')
    (checkout / ".gridmap" / "env").write_text(
        f"GRIDMAP_DATABASE_URL={settings.database_url}\nGRIDMAP_SECRET_KEY=s\n")
    (checkout / "docs").mkdir()
    with engine.connect() as conn:
        code, lon, lat = conn.execute(text(
            "SELECT code, ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) "
            "FROM grid ORDER BY code LIMIT 1")).one()
    bare = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(root),
            "PYTHONIOENCODING": "utf-8"}
    argv = [sys.executable, "-c", "from gridmap.cli import main; main()", "locate", str(lon), str(lat)]
    found = subprocess.run(argv, cwd=checkout / "docs", env=bare, capture_output=True, text=True,
                           timeout=120)
    assert found.returncode == 0, found.stderr
    assert code in found.stdout
    # The environment wins over the file: a wrong URL set there is used, and fails.
    wrong = {**bare, "GRIDMAP_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"}
    failed = subprocess.run(argv, cwd=checkout, env=wrong, capture_output=True, text=True,
                            timeout=120)
    assert failed.returncode != 0 and code not in failed.stdout
    # Outside any checkout: the old clear error.
    outside = subprocess.run(argv, cwd=tmp_path, env=bare, capture_output=True, text=True,
                             timeout=120)
    assert outside.returncode == 1
    assert "missing required setting(s): GRIDMAP_DATABASE_URL, GRIDMAP_SECRET_KEY" in outside.stderr


@pytest.mark.parametrize(("args", "message"), [
    (["--all", "--type", "pocket_park"], "leave out --type and --circle"),
    (["--type", "pocket_park"], "give --type and --circle, or --all"),
    ([], "give --type and --circle, or --all")])
def test_coverage_compute_wants_one_rule_or_all(env, args, message) -> None:
    result = CliRunner().invoke(main, ["coverage", "compute", *args], env=env)
    assert result.exit_code == 2 and message in result.output


def test_coverage_compute_all_prints_each_rule(engine, env, monkeypatch) -> None:
    # Every rule is computed in tests/db/coverage/test_compute_all.py (in a rolled-back
    # transaction); the command commits, so here it meets one rule, computed and then kept.
    from gridmap.coverage.repositories import compute as repo

    monkeypatch.setattr(repo, "rules", lambda session: [("pocket_park", "10min")])
    try:
        first = CliRunner().invoke(main, ["coverage", "compute", "--all", "--if-missing"], env=env)
        assert first.exit_code == 0, first.output
        assert "[1/1] pocket_park / 10min: run " in first.output
        assert "1 runs computed, 0 kept" in first.output
        second = CliRunner().invoke(main, ["coverage", "compute", "--all", "--if-missing"], env=env)
        assert second.exit_code == 0 and "is current; kept" in second.output
        assert "0 runs computed, 1 kept" in second.output
    finally:
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM coverage_run WHERE facility_type = 'pocket_park' "
                              "AND circle = '10min'"))


def test_import_osm_buildings_dry_run_and_where_tags_do_not_apply(engine, env, tmp_path) -> None:
    with engine.connect() as conn:
        x, y = conn.execute(text("SELECT ST_X(p), ST_Y(p) FROM (SELECT ST_PointOnSurface(geom) p "
                                 "FROM grid ORDER BY code LIMIT 1) g")).one()
    extract = Extract()
    extract.way(5, square(x, y, 0.00005), {"building": "yes"})
    path = extract.write(tmp_path / "extract.osm")
    result = CliRunner().invoke(main, ["import", "buildings", str(path), "--dry-run"], env=env)
    assert result.exit_code == 0, result.output
    assert "would change: 1 added" in result.output and "按 0 存储" in result.output
    for layer, said in (("streets", "only --dry-run, --source and --licence apply"),
                        ("grids", "--tags is for buildings or facilities from an OpenStreetMap")):
        result = CliRunner().invoke(main, ["import", layer, str(path), "--tags", str(path)],
                                    env=env)
        assert result.exit_code != 0 and said in result.output

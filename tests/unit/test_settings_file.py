"""The checkout's settings file: found from anywhere inside the checkout, never above the
environment, and never outside a checkout."""

from __future__ import annotations

from pathlib import Path

import pytest

from gridmap.app import create_app
from gridmap.config import Settings, find_env_file, project_environ
from gridmap.errors import ConfigurationError

FILE = ("GRIDMAP_DATABASE_URL=postgresql://app:pw@127.0.0.1:54329/gridmap\n"
        "GRIDMAP_SECRET_KEY=from-the-file\n"
        "GRIDMAP_POOL_SIZE=3\n"
        "OTHER_PROGRAM=not-ours\n")


def checkout(root: Path, env_text: str = FILE) -> Path:
    """A folder laid out like a checkout after `make demo`: pyproject.toml and .gridmap/env."""
    (root / ".gridmap").mkdir(parents=True)
    (root / ".gridmap" / "env").write_text(env_text)
    (root / "pyproject.toml").write_text('[project]\nname = "gridmap"\n')
    (root / "docs" / "deep").mkdir(parents=True)
    return root


@pytest.fixture
def no_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """An environment without any GRIDMAP_* variable (the suite itself runs with them set)."""
    import os

    for key in [k for k in os.environ if k.startswith("GRIDMAP_")]:
        monkeypatch.delenv(key)


def test_the_file_is_found_from_any_folder_of_the_checkout(tmp_path: Path) -> None:
    root = checkout(tmp_path / "repo")
    assert find_env_file(root) == root / ".gridmap" / "env"
    assert find_env_file(root / "docs" / "deep") == root / ".gridmap" / "env"


def test_no_file_outside_a_checkout(tmp_path: Path) -> None:
    assert find_env_file(tmp_path) is None
    stray = tmp_path / "stray"  # an env folder without a project beside it is not a checkout
    (stray / ".gridmap").mkdir(parents=True)
    (stray / ".gridmap" / "env").write_text(FILE)
    assert find_env_file(stray) is None


def test_the_environment_wins_over_the_file(tmp_path: Path) -> None:
    root = checkout(tmp_path / "repo")
    env = project_environ({"GRIDMAP_SECRET_KEY": "from-the-environment", "GRIDMAP_POOL_SIZE": ""},
                          start=root)
    assert env["GRIDMAP_SECRET_KEY"] == "from-the-environment"
    assert env["GRIDMAP_POOL_SIZE"] == ""  # set, though empty: still the environment's
    assert env["GRIDMAP_DATABASE_URL"].endswith("/gridmap")
    assert "OTHER_PROGRAM" not in env  # only our own settings come from the file


def test_values_are_read_literally(tmp_path: Path) -> None:
    root = checkout(tmp_path / "repo", 'GRIDMAP_SECRET_KEY=a$HOME${USER}b\n'
                                       'GRIDMAP_DATABASE_URL="postgresql://u:p@h/db"\n')
    env = project_environ({}, start=root)
    assert env["GRIDMAP_SECRET_KEY"] == "a$HOME${USER}b"
    assert env["GRIDMAP_DATABASE_URL"] == "postgresql://u:p@h/db"


def test_settings_and_the_app_read_the_file_in_a_checkout(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_settings: None) -> None:
    root = checkout(tmp_path / "repo")
    monkeypatch.chdir(root / "docs")
    settings = Settings.from_env()
    assert settings.secret_key == "from-the-file" and settings.pool_size == 3
    app = create_app()  # what gunicorn runs under `gridmap serve`
    assert app.config["SECRET_KEY"] == "from-the-file"
    app.extensions["gridmap.read_pool"].close()
    app.extensions["gridmap.engine"].dispose()


def test_a_given_mapping_is_read_as_it_is(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(checkout(tmp_path / "repo"))
    with pytest.raises(ConfigurationError):
        Settings.from_env({})


def test_outside_a_checkout_missing_settings_stay_a_clear_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, no_settings: None) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigurationError, match="GRIDMAP_DATABASE_URL, GRIDMAP_SECRET_KEY"):
        Settings.from_env()

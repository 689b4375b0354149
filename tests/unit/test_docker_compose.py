"""docker-compose.yml and the Dockerfile, checked the way `docker compose config` would (no
Docker engine runs here): the file parses, every gridmap command a service runs exists with
those options, and every path the app writes in the image is on a volume."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from gridmap.cli import main

ROOT = Path(__file__).resolve().parents[2]
_DEFAULT = re.compile(r"\$\{(\w+):?[-?]([^}]*)\}")


def _compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return data


def _dockerfile_env() -> dict[str, str]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    env: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("ENV "):
            for pair in shlex.split(line[4:]):
                key, _, value = pair.partition("=")
                env[key] = value
    return env


def _gridmap_invocations(command: list[str] | str) -> list[list[str]]:
    """The `gridmap …` command lines in a service's command (through `sh -c "a && b"`)."""
    words = shlex.split(command) if isinstance(command, str) else list(command)
    if words[:2] == ["sh", "-c"]:
        script = _DEFAULT.sub(lambda m: m.group(2), words[2])  # ${X:-default} → default
        lines = [shlex.split(part) for part in script.split("&&")]
    else:
        lines = [words]
    return [line[1:] for line in lines if line and line[0] == "gridmap"]


def _resolve(args: list[str]) -> None:
    """Parse ``gridmap ARGS`` with the real command-line interface (raises if it cannot)."""
    command: click.Command = main
    name = "gridmap"
    while isinstance(command, click.Group):
        ctx = click.Context(command, info_name=name)
        name, args = args[0], args[1:]
        found = command.get_command(ctx, name)
        assert found is not None, f"no command {name!r}"
        command = found
    command.make_context(name, list(args))  # unknown options or bad values raise


def test_the_compose_file_parses_with_its_services() -> None:
    services = _compose()["services"]
    assert {"db", "redis", "migrate", "web", "worker"} <= set(services)
    web = services["web"]
    assert {"GRIDMAP_DATABASE_URL", "GRIDMAP_SECRET_KEY", "GRIDMAP_OWNER_DATABASE_URL",
            "GRIDMAP_RATELIMIT_STORAGE_URL"} <= set(web["environment"])


def test_one_job_worker_runs_beside_the_web() -> None:
    """The worker is a service of its own, so the web must not start one too."""
    services = _compose()["services"]
    assert _gridmap_invocations(services["worker"]["command"]) == [["worker"]]
    (web,) = _gridmap_invocations(services["web"]["command"])
    assert web[0] == "serve" and "--no-jobs" in web
    assert services["worker"]["environment"]["GRIDMAP_DATABASE_URL"] == \
        services["web"]["environment"]["GRIDMAP_DATABASE_URL"]


@pytest.mark.parametrize("service", ["migrate", "web", "worker"])
def test_every_gridmap_command_a_service_runs_exists(service: str) -> None:
    spec = _compose()["services"][service]
    assert spec.get("build") == "."  # our image, where the gridmap command is installed
    image_cmd = re.search(r"^CMD (.*)$", (ROOT / "Dockerfile").read_text(), re.M)
    assert image_cmd is not None
    command = spec.get("command") or yaml.safe_load(image_cmd.group(1))
    invocations = _gridmap_invocations(command)
    assert invocations, command
    for args in invocations:
        _resolve(args)


def test_every_path_the_app_writes_is_on_a_volume() -> None:
    env = _dockerfile_env()
    writes = {"GRIDMAP_MEDIA_DIR": "web", "GRIDMAP_DEMO_ACCOUNTS_FILE": "migrate"}
    services = _compose()["services"]
    for key, service in writes.items():
        path = env.get(key)
        assert path, f"the image leaves {key} at a default under the installed package"
        mounts = [str(v).split(":")[1] for v in services[service].get("volumes", [])]
        assert any(path == m or path.startswith(m.rstrip("/") + "/") for m in mounts), \
            (key, path, mounts)
    assert "VOLUME" in (ROOT / "Dockerfile").read_text()

"""`gridmap volunteers import FILE` on the real PostGIS: a dry run writes nothing, a file with a
bad row writes nothing and names the row and column, a good file makes the team and volunteers.
The command commits, so what it made is removed afterwards."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, text

from gridmap.cli import main
from gridmap.config import Settings


@pytest.fixture
def team(engine: Engine, owner_engine: Engine) -> Iterator[tuple[str, str]]:
    """A community and a new team name; the team (and its volunteers) removed afterwards."""
    with engine.connect() as conn:
        community = conn.execute(text("SELECT min(code) FROM community")).scalar_one()
    name = f"命令行队{uuid.uuid4().hex[:6]}"
    yield community, name
    with owner_engine.begin() as conn:
        conn.execute(text("UPDATE volunteer_team SET leader_id = NULL WHERE name = :n"),
                     {"n": name})
        conn.execute(text("DELETE FROM volunteer WHERE team_id IN (SELECT id FROM volunteer_team "
                          "WHERE name = :n)"), {"n": name})
        conn.execute(text("DELETE FROM volunteer_team WHERE name = :n"), {"n": name})


def _teams(engine: Engine, name: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM volunteer_team WHERE name = :n"),
                                {"n": name}).scalar_one())


def test_import_from_the_command_line(settings: Settings, engine: Engine, tmp_path: Path,
                                      team: tuple[str, str]) -> None:
    community, name = team
    env = {"GRIDMAP_DATABASE_URL": settings.database_url,
           "GRIDMAP_SECRET_KEY": settings.secret_key}
    good = tmp_path / "volunteers.csv"
    good.write_text("社区编码,队伍名称,姓名,手机,技能,队长\n"
                    f"{community},{name},赵六,13911110000,维修,是\n"
                    f"{community},{name},钱七,13911110001,助老服务,否\n", encoding="utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_text(good.read_text(encoding="utf-8") + f"{community},{name},孙八,电话,,\n",
                   encoding="utf-8")
    refused = CliRunner().invoke(main, ["volunteers", "import", str(bad)], env=env)
    assert refused.exit_code == 1 and "第 4 行「phone」" in refused.output
    dry = CliRunner().invoke(main, ["volunteers", "import", str(good), "--dry-run"], env=env)
    assert dry.exit_code == 0 and "would make 1 teams, 2 volunteers" in dry.output
    assert _teams(engine, name) == 0
    done = CliRunner().invoke(main, ["volunteers", "import", str(good)], env=env)
    assert done.exit_code == 0, done.output
    assert "made 1 teams, 2 volunteers" in done.output and _teams(engine, name) == 1

"""``gridmap user …`` and ``gridmap open311 …`` through click's CliRunner on the test database.

The commands' sessions join the test's rolled-back transaction (``_sessions`` is pointed at
it), so what a command writes never outlives the test, and the test sees it at once.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Connection, text
from sqlalchemy.orm import Session, sessionmaker

from gridmap import cli
from gridmap.cli import main

COMMANDS = [["user"], ["user", "add"], ["user", "list"], ["user", "role"], ["user", "deactivate"],
            ["user", "reactivate"], ["user", "reset-password"], ["user", "token"],
            ["user", "revoke-token"], ["open311"], ["open311", "add-client"],
            ["open311", "revoke-client"], ["open311", "clients"]]


@pytest.fixture
def run(tx: Connection, settings, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Result]:  # type: ignore[no-untyped-def]
    factory = sessionmaker(bind=tx, join_transaction_mode="create_savepoint",
                           expire_on_commit=False)

    @contextmanager
    def sessions(_settings: Any) -> Iterator[sessionmaker[Session]]:
        yield factory

    monkeypatch.setattr(cli, "_sessions", sessions)
    env = {"GRIDMAP_DATABASE_URL": settings.database_url,
           "GRIDMAP_SECRET_KEY": settings.secret_key}

    def invoke(*args: str, stdin: str | None = None) -> Result:
        return CliRunner().invoke(main, list(args), env=env, input=stdin)

    return invoke


@pytest.mark.parametrize("args", COMMANDS)
def test_every_account_command_has_help(args: list[str]) -> None:
    result = CliRunner().invoke(main, [*args, "--help"])
    assert result.exit_code == 0 and "Usage:" in result.output


def _ok(result: Result) -> str:
    assert result.exit_code == 0, result.output
    return result.stdout  # the secret alone; the reminder to store it goes to stderr


def _fails(result: Result, words: str) -> None:
    assert result.exit_code == 1, result.output
    assert words in result.output and "Traceback" not in result.output


def test_add_list_and_change_a_role(run, tx) -> None:  # type: ignore[no-untyped-def]
    out = _ok(run("user", "add", "cli.first", "--role", "planner", "--name", "李规划"))
    assert "one-time password:" in out
    listed = _ok(run("user", "list", "--search", "李规划"))
    assert "cli.first\tplanner\t-\tactive" in listed
    assert "cli.first" not in _ok(run("user", "list", "--role", "admin"))
    out = _ok(run("user", "role", "cli.first", "--role", "district_centre", "--area", "210103"))
    assert "planner -> district_centre 210103" in out
    row = tx.execute(text("SELECT role, area_code, session_epoch FROM account "
                          "WHERE username = 'cli.first'")).one()
    assert tuple(row) == ("district_centre", "210103", 1)
    entry = tx.execute(text("SELECT username, detail FROM audit_log WHERE action = "
                            "'account_changed' ORDER BY id DESC LIMIT 1")).one()
    assert entry.username.startswith("cli:") and entry.detail["before"]["role"] == "planner"
    _fails(run("user", "role", "cli.first", "--role", "community_staff", "--area", "210103"),
           "12-digit")
    _fails(run("user", "role", "nobody.here", "--role", "planner"), "no such account")


def test_reset_password_and_token(run, app, tx) -> None:  # type: ignore[no-untyped-def]
    _ok(run("user", "add", "cli.script", "--role", "planner", "--name", "脚本账号"))
    out = _ok(run("user", "reset-password", "cli.script"))
    assert out.startswith("one-time password: ")
    assert tx.execute(text("SELECT must_change_password FROM account WHERE username = "
                           "'cli.script'")).scalar_one()
    out = _ok(run("user", "token", "cli.script", "--name", "月报脚本"))
    token_id, secret = out.split()[1], out.split()[-1]
    assert secret.startswith("gmt_")
    headers = {"Authorization": f"Bearer {secret}"}
    assert app.test_client().get("/account", headers=headers).status_code == 200
    assert _ok(run("user", "revoke-token", token_id)).strip() == f"token {token_id} revoked"
    assert app.test_client().get("/account", headers=headers).status_code == 401
    _fails(run("user", "revoke-token", token_id), "no such live token")
    _fails(run("user", "token", "cli.script", "--name", " "), "name")


def test_deactivate_and_reactivate(run, make_account, grids, tx) -> None:  # type: ignore[no-untyped-def]
    worker = tx.execute(text("SELECT person_id FROM grid_member WHERE grid_code = :g AND "
                             "role = 'grid_worker'"), {"g": grids[0]["code"]}).scalar_one()
    target = make_account("grid_worker", person_id=worker)
    admin = make_account("admin")
    case_id = tx.execute(text("""
        INSERT INTO "case" (category, description, geom, grid_code, community_code,
                            subdistrict_code, district_code, channel, state, owner_kind,
                            owner_person_id, created_by, respond_by, resolve_by)
        SELECT 'cityscape', '测试', ST_PointOnSurface(g.geom), g.code, g.community_code,
               left(g.code, 9), left(g.code, 6), 'grid_patrol', 'in_progress', 'grid', :w, :w,
               now(), now() + interval '1 day'
        FROM grid g WHERE g.code = :g RETURNING id"""),
        {"w": worker, "g": grids[0]["code"]}).scalar_one()
    _fails(run("user", "deactivate", target.username), "--by")
    assert tx.execute(text("SELECT active FROM account WHERE id = :a"),
                      {"a": target.account_id}).scalar_one()
    _fails(run("user", "deactivate", target.username, "--by", target.username),
           "not an active administrator")
    out = _ok(run("user", "deactivate", target.username, "--by", admin.username))
    # Cases other tests left committed in the grid may go back too; this one must.
    assert re.search(rf"\d+ cases returned to the community \(([0-9, ]*\b)?{case_id}\b", out), out
    event = tx.execute(text("SELECT actor_id, note FROM case_event WHERE case_id = :c"),
                       {"c": case_id}).one()
    assert event.actor_id == admin.person_id
    logged = tx.execute(text("SELECT account_id, username FROM audit_log WHERE action = "
                             "'account_deactivated' AND target_id = :t"),
                        {"t": str(target.account_id)}).one()
    assert logged.account_id == admin.account_id and logged.username.startswith(admin.username)
    _fails(run("user", "deactivate", target.username), "already deactivated")
    assert "reactivated" in _ok(run("user", "reactivate", target.username))
    other = make_account("planner")
    assert "0 cases returned" in _ok(run("user", "deactivate", other.username))


def test_open311_clients(run, app, grids, tx) -> None:  # type: ignore[no-untyped-def]
    out = _ok(run("open311", "add-client", "区 12345 平台", "--contact", "王工 024-1234"))
    client_id, key = out.split()[1], out.split()[-1]
    assert key.startswith("gmk_")
    assert f"{client_id}\t区 12345 平台\tgmk_" in _ok(run("open311", "clients"))
    form = {"service_code": "gas", "lat": grids[0]["lat"], "long": grids[0]["lon"],
            "api_key": key}
    assert app.test_client().post("/open311/v2/requests.json", data=form).status_code == 200
    assert "last used never" not in _ok(run("open311", "clients"))
    assert "revoked" in _ok(run("open311", "revoke-client", client_id))
    assert app.test_client().post("/open311/v2/requests.json", data=form).status_code == 403
    _fails(run("open311", "revoke-client", client_id), "no such live client")
    _fails(run("open311", "add-client", " "), "name")

"""Demo accounts: one per role in each loaded demo district and an administrator, their
passwords in a file only its owner can read, each account a principal with its role's scope.

The test database holds 沈河区 only, so 大东区 is skipped. The service runs on a session factory
inside the test's transaction (rolled back); the command runs once for real and cleans up.
"""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session, sessionmaker

from gridmap.access import Role
from gridmap.accounts import credentials
from gridmap.accounts.services import principals
from gridmap.config import Settings
from gridmap.demo.services import accounts as demo

DISTRICT = "210103"  # what tests/conftest.py loads


@pytest.fixture
def factory(connection: Connection) -> sessionmaker[Session]:
    """Sessions in the test's transaction: what the service commits is rolled back after."""
    return sessionmaker(bind=connection, join_transaction_mode="create_savepoint",
                        expire_on_commit=False)


def _by_username(factory: sessionmaker[Session]) -> dict[str, principals.SignedIn]:
    with factory() as session:
        ids = session.execute(text("SELECT username, id FROM account")).all()
        loaded = {name: principals.load(session, account_id, address=None)
                  for name, account_id in ids}
    return {name: found for name, found in loaded.items() if found is not None}


def _hash(factory: sessionmaker[Session], username: str) -> str:
    with factory() as session:
        return str(session.execute(text("SELECT password_hash FROM account WHERE username = :u"),
                                   {"u": username}).scalar_one())


def test_one_account_per_role_in_the_loaded_district_and_an_admin(
        factory: sessionmaker[Session], tmp_path: Path) -> None:
    path = tmp_path / "demo-accounts.txt"
    made = demo.make_demo_accounts(factory, path)
    assert {a.role for a in made} == {r.value for r in Role}
    assert all(a.state == "created" for a in made)
    assert [a.username for a in made if a.role == "admin"] == ["demo-admin"]
    assert not any(a.username.startswith("dadong") for a in made)  # 大东区 is not loaded
    assert all(a.district.endswith(DISTRICT) for a in made if a.role != "admin")
    accounts = _by_username(factory)
    for account in made:
        signed_in = accounts[account.username]
        assert not signed_in.must_change_password  # demo users sign in directly
        assert credentials.verify_password(_hash(factory, account.username), account.password)


def test_each_account_is_a_principal_with_its_roles_scope(factory: sessionmaker[Session],
                                                          tmp_path: Path,
                                                          connection: Connection) -> None:
    made = {a.role: a for a in demo.make_demo_accounts(factory, tmp_path / "a.txt")}
    who = {role: _by_username(factory)[a.username].principal for role, a in made.items()}
    worker = who["grid_worker"]
    assert len(worker.grids) >= 1 and made["grid_worker"].scope.endswith(min(worker.grids))
    grid = min(worker.grids)
    owner = connection.execute(text("SELECT person_id FROM grid_member WHERE grid_code = :g "
                                    "AND role = 'grid_worker'"), {"g": grid}).scalar_one()
    assert worker.person_id == owner  # a real demo grid worker, not a new person
    community = who["community_staff"]
    assert community.area_code == grid[:12] and community.covers(grid)
    post = connection.execute(text("SELECT role, community_code FROM person WHERE id = :p"),
                              {"p": community.person_id}).one()
    assert tuple(post) == ("community_secretary", grid[:12])
    assert who["subdistrict_staff"].area_code == grid[:9]
    department = who["department_staff"]
    assert department.department_code == demo.DEPARTMENT and grid in department.grids
    for role in ("district_centre", "planner", "data_officer"):
        assert who[role].area_code == DISTRICT and who[role].covers(grid)
    assert who["admin"].area_code is None
    assert not worker.covers(DISTRICT + "999999999")


def test_the_file_is_private_and_lists_every_account(factory: sessionmaker[Session],
                                                     tmp_path: Path) -> None:
    path = tmp_path / "private" / "demo-accounts.txt"
    made = demo.make_demo_accounts(factory, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("#") and lines[1].split("\t") == list(demo.COLUMNS)
    assert demo.read_file(path) == {a.username: a.password for a in made}
    assert not list(path.parent.glob("*.tmp"))


def test_running_again_keeps_what_the_file_knows_and_replaces_the_rest(
        factory: sessionmaker[Session], tmp_path: Path) -> None:
    path = tmp_path / "demo-accounts.txt"
    first = {a.username: a for a in demo.make_demo_accounts(factory, path)}
    path.chmod(0o644)  # someone loosened it: the next run makes it private again
    again = demo.make_demo_accounts(factory, path)
    assert {a.state for a in again} == {"kept"}
    assert {a.username: a.password for a in again} == {u: a.password for u, a in first.items()}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    people = {u: s.principal.person_id for u, s in _by_username(factory).items()}
    path.unlink()  # the passwords are lost: every account gets a new one, on the same person
    replaced = demo.make_demo_accounts(factory, path)
    assert {a.state for a in replaced} == {"replaced"}
    for account in replaced:
        old = first[account.username].password
        assert account.password != old
        assert not credentials.verify_password(_hash(factory, account.username), old)
        assert _by_username(factory)[account.username].principal.person_id == people[
            account.username]
    reset = demo.make_demo_accounts(factory, path, reset=True)
    assert {a.state for a in reset} == {"replaced"}


def test_nothing_is_made_without_a_demo_district(factory: sessionmaker[Session], tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(demo, "DEMO_DISTRICTS", {"210199": "nowhere"})
    assert demo.make_demo_accounts(factory, tmp_path / "x.txt") == []
    assert not (tmp_path / "x.txt").exists()


@pytest.fixture
def committed_cleanup(engine: Engine) -> Iterator[list[str]]:
    """User names the test commits; their accounts (and office people) are removed after."""
    names: list[str] = []
    yield names
    with engine.begin() as conn:
        people = conn.execute(text("SELECT person_id FROM account WHERE username = ANY(:u)"),
                              {"u": names}).scalars().all()
        conn.execute(text("DELETE FROM api_token WHERE account_id IN "
                          "(SELECT id FROM account WHERE username = ANY(:u))"), {"u": names})
        conn.execute(text("DELETE FROM account WHERE username = ANY(:u)"), {"u": names})
        conn.execute(text("DELETE FROM person WHERE id = ANY(:p) AND role = 'staff'"),
                     {"p": list(people)})


def test_the_command_writes_the_file_and_says_where(settings: Settings, tmp_path: Path,
                                                    committed_cleanup: list[str]) -> None:
    from gridmap.cli import main

    path = tmp_path / "demo-accounts.txt"
    env = {"GRIDMAP_DATABASE_URL": settings.database_url,
           "GRIDMAP_SECRET_KEY": settings.secret_key}
    result = CliRunner().invoke(main, ["demo", "accounts", "--file", str(path)], env=env)
    committed_cleanup.extend(demo.read_file(path))
    assert result.exit_code == 0, result.output
    assert str(path.resolve()) in result.output
    assert "shenhe-planner" in result.output and "password" not in result.output.split("\n")[0]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(demo.read_file(path)) == len(Role)
    for password in demo.read_file(path).values():
        assert password not in result.output  # passwords only in the private file

"""The administration services on the real database: keyset search, role changes that keep the
person's post in step, deactivation's rules, Open311 clients' persons, and who may call them.

Each test's writes stay in its rolled-back transaction (the services' commits are savepoints).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest
from sqlalchemy import Connection, text
from sqlalchemy.orm import Session, sessionmaker

from gridmap.access import Principal, Role
from gridmap.accounts import credentials
from gridmap.accounts.services import admin, assignments, tokens
from gridmap.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthorized

ADMIN = Principal(account_id=None, role=Role.ADMIN, username="cli:test")


@pytest.fixture
def factory(connection: Connection) -> sessionmaker[Session]:
    return sessionmaker(bind=connection, join_transaction_mode="create_savepoint",
                        expire_on_commit=False)


@pytest.fixture
def account(connection: Connection) -> Callable[..., tuple[int, int]]:
    """Make an account (and its person unless given); (account id, person id)."""
    def make(username: str, role: str = "planner", *, person_id: int | None = None,
             name: str = "某人", area: str | None = None,
             department: str | None = None) -> tuple[int, int]:
        if person_id is None:
            person_id = connection.execute(text(
                "INSERT INTO person (name, role) VALUES (:n, 'staff') RETURNING id"),
                {"n": name}).scalar_one()
        account_id = connection.execute(text(
            "INSERT INTO account (username, person_id, role, area_code, department_code, "
            "password_hash) VALUES (:u, :p, :r, :a, :d, 'x') RETURNING id"),
            {"u": username, "p": person_id, "r": role, "a": area, "d": department}).scalar_one()
        return account_id, person_id

    return make


def test_keyset_pages_cover_every_match_once_in_order(db_session, account) -> None:
    tag = uuid.uuid4().hex[:6]
    names = [f"k{tag}-{i}" for i in (5, 1, 3, 0, 6, 2, 4)]
    for name in names:
        account(name)
    seen, after = [], None
    while True:
        page = admin.search(db_session, ADMIN, query=f"k{tag}", after=after, limit=3)
        seen += [row["username"] for row in page.rows]
        assert len(page.rows) <= 3
        if page.next_after is None:
            break
        after = page.next_after
    assert seen == sorted(names)


def test_search_finds_person_names_and_takes_wildcards_literally(db_session, account) -> None:
    tag = uuid.uuid4().hex[:6]
    account(f"w{tag}-a_b", name="张三丰")
    account(f"w{tag}-axb", name="李四")
    found = [r["username"] for r in admin.search(db_session, ADMIN, query=f"{tag}-a_b").rows]
    assert found == [f"w{tag}-a_b"]
    assert not admin.search(db_session, ADMIN, query=f"{tag}%").rows
    by_name = admin.search(db_session, ADMIN, query="三丰").rows
    assert f"w{tag}-a_b" in [r["username"] for r in by_name]
    assert admin.search(db_session, ADMIN, query="三丰", role="admin").rows == []
    with pytest.raises(InvalidInput):
        admin.search(db_session, ADMIN, role="king")


def test_people_search_by_name_or_id(db_session, account) -> None:
    _, person = account(f"p{uuid.uuid4().hex[:6]}", name="独一无二的名字")
    rows = admin.people(db_session, ADMIN, query="一无二").rows
    assert [r["id"] for r in rows] == [person] and rows[0]["username"]
    assert [r["id"] for r in admin.people(db_session, ADMIN, query=str(person)).rows] == [person]


def test_a_role_change_moves_the_persons_post(factory, connection, account) -> None:
    community = connection.execute(text("SELECT code FROM community ORDER BY code LIMIT 1")
                                   ).scalar_one()
    account_id, person = account(f"r{uuid.uuid4().hex[:6]}")
    result = admin.change(factory, ADMIN, account_id,
                          admin.ScopeChange("community_staff", area_code=community))
    assert result["changed"] and result["after"]["area_code"] == community
    post = connection.execute(text("SELECT role, department_code, community_code FROM person "
                                   "WHERE id = :p"), {"p": person}).one()
    assert tuple(post) == ("community_secretary", None, community)
    admin.change(factory, ADMIN, account_id,
                 admin.ScopeChange("department_staff", department_code="water"))
    post = connection.execute(text("SELECT role, department_code FROM person WHERE id = :p"),
                              {"p": person}).one()
    assert tuple(post) == ("department_staff", "water")
    admin.change(factory, ADMIN, account_id, admin.ScopeChange("planner"))
    epoch = connection.execute(text("SELECT session_epoch FROM account WHERE id = :a"),
                               {"a": account_id}).scalar_one()
    assert epoch == 3
    unchanged = admin.change(factory, ADMIN, account_id, admin.ScopeChange("planner"))
    assert not unchanged["changed"]
    assert connection.execute(text("SELECT session_epoch FROM account WHERE id = :a"),
                              {"a": account_id}).scalar_one() == 3


def test_department_staff_keep_their_department_while_enrolled(factory, connection,
                                                              account) -> None:
    grid, staff = connection.execute(text(
        "SELECT grid_code, person_id FROM grid_enrollment WHERE department_code = 'gas' "
        "ORDER BY grid_code LIMIT 1")).one()
    account_id, _ = account(f"d{uuid.uuid4().hex[:6]}", "department_staff", person_id=staff,
                            department="gas")
    with pytest.raises(InvalidInput, match="still enrolled"):
        admin.change(factory, ADMIN, account_id,
                     admin.ScopeChange("department_staff", department_code="water"))
    assignments.remove_enrolment(factory, ADMIN, grid, "gas")
    connection.execute(text("DELETE FROM grid_enrollment WHERE person_id = :p"), {"p": staff})
    admin.change(factory, ADMIN, account_id,
                 admin.ScopeChange("department_staff", department_code="water"))
    post = connection.execute(text("SELECT role, department_code FROM person WHERE id = :p"),
                              {"p": staff}).one()
    assert tuple(post) == ("department_staff", "water")


def test_the_command_line_needs_an_actor_only_when_cases_go_back(factory, connection,
                                                                account) -> None:
    planner_id, _ = account(f"c{uuid.uuid4().hex[:6]}")
    assert admin.deactivate(factory, ADMIN, planner_id) == {"returned_cases": [],
                                                            "tokens_revoked": 0}
    grid, worker = connection.execute(text(
        "SELECT grid_code, person_id FROM grid_member WHERE role = 'grid_worker' "
        "ORDER BY grid_code LIMIT 1")).one()
    worker_account, _ = account(f"g{uuid.uuid4().hex[:6]}", "grid_worker", person_id=worker)
    connection.execute(text("""
        INSERT INTO "case" (category, description, geom, grid_code, community_code,
                            subdistrict_code, district_code, channel, state, owner_kind,
                            owner_person_id, created_by, respond_by, resolve_by)
        SELECT 'cityscape', '测试', ST_PointOnSurface(g.geom), g.code, g.community_code,
               left(g.code, 9), left(g.code, 6), 'grid_patrol', 'dispatched', 'grid', :w, :w,
               now(), now() + interval '1 day'
        FROM grid g WHERE g.code = :g"""), {"w": worker, "g": grid})
    with pytest.raises(InvalidInput, match="--by"):
        admin.deactivate(factory, ADMIN, worker_account)
    assert connection.execute(text("SELECT active FROM account WHERE id = :a"),
                              {"a": worker_account}).scalar_one()


def test_one_cannot_deactivate_oneself_and_unknown_accounts_are_404(factory, account) -> None:
    me, person = account(f"m{uuid.uuid4().hex[:6]}", "admin")
    principal = Principal(account_id=me, person_id=person, role=Role.ADMIN, username="me")
    with pytest.raises(Conflict, match="own account"):
        admin.deactivate(factory, principal, me)
    for call in (lambda: admin.deactivate(factory, ADMIN, 10**12),
                 lambda: admin.reactivate(factory, ADMIN, 10**12),
                 lambda: admin.reset_password(factory, ADMIN, 10**12),
                 lambda: admin.change(factory, ADMIN, 10**12, admin.ScopeChange("planner"))):
        with pytest.raises(NotFound):
            call()


@pytest.mark.parametrize("role", [r for r in Role if r is not Role.ADMIN])
def test_only_administrators_administer(factory, db_session, role: Role) -> None:
    principal = Principal(account_id=1, person_id=1, role=role, username="x")
    for call in (lambda: admin.search(db_session, principal),
                 lambda: admin.people(db_session, principal),
                 lambda: admin.deactivate(factory, principal, 1),
                 lambda: admin.reset_password(factory, principal, 1),
                 lambda: tokens.issue_client_key(factory, principal, "x"),
                 lambda: tokens.issue_token_for(factory, principal, 1, "x")):
        with pytest.raises(Forbidden):
            call()
    with pytest.raises(Unauthorized):
        admin.search(db_session, Principal())


def test_data_officers_assign_in_their_area_only(db_session, connection) -> None:
    grid = connection.execute(text("SELECT code FROM grid ORDER BY code LIMIT 1")).scalar_one()
    city = Principal(account_id=1, role=Role.DATA_OFFICER, username="x")
    district = Principal(account_id=1, role=Role.DATA_OFFICER, area_code="210103", username="x")
    other = Principal(account_id=1, role=Role.DATA_OFFICER, area_code="210104", username="x")
    for principal in (city, district):
        assert assignments.grid(db_session, principal, grid, lang="zh")["code"] == grid
    with pytest.raises(NotFound):
        assignments.grid(db_session, other, grid, lang="zh")
    assert assignments.grids(db_session, other).rows == []
    planner = Principal(account_id=1, role=Role.PLANNER, username="x")
    with pytest.raises(Forbidden):
        assignments.grids(db_session, planner)


def test_an_open311_client_gets_one_person_at_first_use(factory, connection) -> None:
    secret, digest, prefix = credentials.new_secret("gmk")
    connection.execute(text("INSERT INTO open311_client (name, digest, prefix) "
                            "VALUES ('热线', :d, :p)"), {"d": digest, "p": prefix})
    first = tokens.open311_client(factory, secret)
    second = tokens.open311_client(factory, secret)
    assert first and second and first["person_id"] == second["person_id"]
    person = connection.execute(text("SELECT name, role FROM person WHERE id = :p"),
                                {"p": first["person_id"]}).one()
    assert tuple(person) == ("Open311: 热线", "staff")
    assert tokens.open311_client(factory, secret + "x") is None
    assert tokens.open311_client(factory, "") is None
    connection.execute(text("UPDATE open311_client SET revoked_at = now() WHERE digest = :d"),
                       {"d": digest})
    assert tokens.open311_client(factory, secret) is None

"""Case intake and actions on a real PostGIS: routing, boundary, duplicates, tokens, conflicts."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from gridmap.access import PUBLIC, Principal, Role
from gridmap.cases.services import board as case_board
from gridmap.cases.services import cases
from gridmap.cases.services.photos import MAX_BYTES, PhotoStore, UploadedPhoto
from gridmap.errors import (
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    OutsideTerritory,
    PayloadTooLarge,
    Unauthorized,
)

ADMIN = Principal(account_id=1, person_id=1, role=Role.ADMIN)


def centre(g: dict) -> Principal:
    """The district command centre over the test district, signed in as a real person."""
    return Principal(account_id=2, person_id=g["secretary"], role=Role.DISTRICT_CENTRE,
                     area_code="210103")


def _quiet_grid(session: Session, offset: int = 0) -> dict:
    """A point inside a grid with no other grid within 60 m, and the grid's people."""
    row = session.execute(text("""
        SELECT g.code, g.community_code, ST_X(p) AS lon, ST_Y(p) AS lat
        FROM (SELECT code, community_code, ST_PointOnSurface(geom) AS p FROM grid) g
        WHERE NOT EXISTS (SELECT 1 FROM grid o WHERE o.code <> g.code
                          AND ST_DWithin(o.geom::geography, g.p::geography, 60))
        ORDER BY g.code OFFSET :offset LIMIT 1
    """), {"offset": offset}).mappings().one()
    people = session.execute(text("""
        SELECT (SELECT person_id FROM grid_member WHERE grid_code = :g AND role = 'grid_worker'),
               (SELECT id FROM person WHERE role = 'community_secretary'
                  AND community_code = left(:g, 12)),
               (SELECT person_id FROM grid_enrollment WHERE grid_code = :g
                  AND department_code = 'heating')
    """), {"g": row["code"]}).one()
    g = {**row, "worker": people[0], "secretary": people[1], "heating": people[2]}
    # The same people signed in: the grid's worker, the community's staff, heating's staff.
    g["as"] = {
        "worker": Principal(account_id=11, person_id=g["worker"], role=Role.GRID_WORKER,
                            grids=frozenset({g["code"]})),
        "community": Principal(account_id=12, person_id=g["secretary"], role=Role.COMMUNITY_STAFF,
                               area_code=g["community_code"]),
        "heating": Principal(account_id=13, person_id=g["heating"], role=Role.DEPARTMENT_STAFF,
                             department_code="heating", grids=frozenset({g["code"]})),
    }
    return g


def _request(g: dict, **overrides) -> tuple[dict, cases.IntakeRequest]:
    """A request at the grid's point, with the grid (whose worker files it by default)."""
    values = {"category": "heating", "description": "暖气不热", "channel": "grid_patrol",
              "lon": g["lon"], "lat": g["lat"]}
    values.update(overrides)
    return g, cases.IntakeRequest(**values)


@pytest.fixture
def factory(connection: Connection) -> sessionmaker[Session]:
    """Sessions on the test's connection: a service's commit becomes a released savepoint."""
    return sessionmaker(bind=connection, join_transaction_mode="create_savepoint",
                        expire_on_commit=False)


@pytest.fixture
def intake(factory: sessionmaker[Session],
           tmp_path: Path) -> Callable[..., cases.IntakeResult]:
    """The intake service in the test's transaction, storing photos under ``tmp_path``:
    ``intake(_request(g, …), who=None)`` files as ``who`` (default: the grid's worker)."""
    def run(made: tuple[dict, cases.IntakeRequest], who: Principal | None = None):  # type: ignore[no-untyped-def]
        g, request = made
        return cases.intake(factory, who or g["as"]["worker"], request, media_dir=tmp_path)

    return run


def _count(session: Session) -> int:
    return session.execute(text('SELECT count(*) FROM "case"')).scalar_one()


def test_intake_routes_to_the_grid_and_its_worker(db_session: Session, intake) -> None:
    g = _quiet_grid(db_session)
    result = intake(_request(g))
    assert result.status == "created"
    row = db_session.execute(text("""
        SELECT grid_code, community_code, district_code, owner_person_id, state,
               extract(epoch FROM resolve_by - created_at) / 3600 AS resolve_h,
               extract(epoch FROM respond_by - created_at) / 3600 AS respond_h
        FROM "case" WHERE id = :id"""), {"id": result.case_id}).mappings().one()
    hours = db_session.execute(text(
        "SELECT respond_hours, resolve_hours FROM case_category WHERE code = 'heating'")).one()
    assert row["grid_code"] == g["code"] and row["community_code"] == g["community_code"]
    assert row["district_code"] == "210103" and row["owner_person_id"] == g["worker"]
    assert row["state"] == "reported"
    assert (float(row["respond_h"]), float(row["resolve_h"])) == pytest.approx(tuple(hours))
    events = db_session.execute(text("SELECT action, to_state FROM case_event WHERE case_id = :i"),
                                {"i": result.case_id}).all()
    assert [tuple(e) for e in events] == [("report", "reported")]


def test_same_client_token_makes_one_case(db_session: Session, intake) -> None:
    g = _quiet_grid(db_session)
    before = _count(db_session)
    first = intake(_request(g, client_token="tok-1"))
    second = intake(_request(g, client_token="tok-1"))
    assert (first.status, second.status) == ("created", "existing")
    assert first.case_id == second.case_id and _count(db_session) == before + 1


def test_point_near_a_grid_boundary_asks_which_grid(db_session: Session, intake) -> None:
    edge = db_session.execute(text("""
        SELECT a.code AS a, b.code AS b,
               ST_X(ST_LineInterpolatePoint(s, 0.5)) AS lon,
               ST_Y(ST_LineInterpolatePoint(s, 0.5)) AS lat
        FROM grid a JOIN grid b ON a.code < b.code AND a.geom && b.geom,
             LATERAL (SELECT (ST_Dump(ST_LineMerge(ST_CollectionExtract(
                 ST_Intersection(a.geom, b.geom), 2)))).geom AS s) seg
        WHERE ST_Length(s::geography) > 40 ORDER BY a.code LIMIT 1""")).mappings().one()
    g = _quiet_grid(db_session)
    before = _count(db_session)
    asked = intake(_request(g, lon=edge["lon"], lat=edge["lat"]), centre(g))
    assert asked.status == "choose_grid" and _count(db_session) == before
    assert {edge["a"], edge["b"]} <= {c["code"] for c in asked.candidates}
    chosen = intake(_request(g, lon=edge["lon"], lat=edge["lat"], grid_code=edge["b"]), centre(g))
    assert chosen.status == "created"
    grid = db_session.execute(text('SELECT grid_code FROM "case" WHERE id = :i'),
                              {"i": chosen.case_id}).scalar_one()
    assert grid == edge["b"]
    with pytest.raises(InvalidInput, match="不在该位置附近"):
        intake(_request(g, grid_code="210103999999999"), centre(g))


def test_outside_every_grid_saves_nothing(db_session: Session, intake) -> None:
    g = _quiet_grid(db_session)
    before = _count(db_session)
    with pytest.raises(OutsideTerritory):
        intake(_request(g, lon=116.39, lat=39.91))
    assert _count(db_session) == before


@pytest.mark.parametrize(("overrides", "message"), [
    ({"category": "unicorns"}, "未知的案件类别"),
    ({"description": "字" * 4001}, "最多 4000 字"),
    ({"description": "   "}, "请填写问题描述"),
    ({"channel": "carrier_pigeon"}, "未知的来源渠道"),
    ({"reporter_phone": "call me"}, "反映人电话"),
])
def test_bad_input_is_refused_and_saves_nothing(db_session: Session, intake, overrides,
                                                message) -> None:
    g = _quiet_grid(db_session)
    before = _count(db_session)
    with pytest.raises(InvalidInput, match=message):
        intake(_request(g, **overrides))
    assert _count(db_session) == before


def test_only_reporters_in_their_territory_may_file_and_refusals_save_nothing(
        db_session: Session, intake) -> None:
    g, other = _quiet_grid(db_session), _quiet_grid(db_session, offset=5)
    before = _count(db_session)
    refusals = [(PUBLIC, Unauthorized), (g["as"]["heating"], Forbidden), (ADMIN, Forbidden),
                (other["as"]["worker"], Forbidden)]
    if other["community_code"] != g["community_code"]:
        refusals.append((other["as"]["community"], Forbidden))
    for who, error in refusals:
        with pytest.raises(error):
            intake(_request(g), who)
        with pytest.raises(error):
            intake(_request(g, grid_code=g["code"]), who)
    assert _count(db_session) == before
    assert intake(_request(g), g["as"]["community"]).status == "created"


def test_acting_on_a_case_out_of_scope_is_not_found(db_session: Session, intake, factory,
                                                    tmp_path) -> None:
    g, other = _quiet_grid(db_session, offset=2), _quiet_grid(db_session, offset=6)
    case_id = intake(_request(g)).case_id
    for who in (other["as"]["worker"], g["as"]["heating"]):  # not their grid; not sent to them
        with pytest.raises(NotFound):
            cases.act(factory, who, case_id, "cancel", version=1, params={"reason": "invalid"},
                      media_dir=tmp_path)
    with pytest.raises(Forbidden):  # reads every case, works none
        cases.act(factory, ADMIN, case_id, "cancel", version=1, params={"reason": "invalid"},
                  media_dir=tmp_path)


def test_possible_duplicates_then_link_or_file_anyway(db_session: Session, intake) -> None:
    g = _quiet_grid(db_session)
    first = intake(_request(g))
    nearby = {"lon": g["lon"] + 0.0003, "lat": g["lat"]}  # ~25 m east
    shown = intake(_request(g, **nearby))
    assert shown.status == "possible_duplicates"
    assert [c["id"] for c in shown.candidates] == [first.case_id]
    linked = intake(_request(g, **nearby, link_to=first.case_id,
                                               description="楼上也不热"))
    assert (linked.status, linked.case_id) == ("linked", first.case_id)
    notes = db_session.execute(text("SELECT action, note FROM case_event WHERE case_id = :i "
                                    "ORDER BY id"), {"i": first.case_id}).all()
    assert [tuple(n) for n in notes][-1] == ("add_report", "楼上也不热")
    filed = intake(_request(g, **nearby, confirm_new=True))
    assert filed.status == "created" and filed.case_id != first.case_id
    other = intake(_request(g, **nearby, category="gas",
                                              description="燃气味"))
    assert other.status == "created"  # another category is not a duplicate


def _png(size: tuple[int, int] = (64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 80, 40)).save(out, "PNG")
    return out.getvalue()


def test_photos_are_stored_with_thumbnails(db_session: Session, intake, tmp_path) -> None:
    g = _quiet_grid(db_session)
    result = intake(_request(g, photos=(UploadedPhoto.from_bytes("a.png", _png()),)))
    path, thumb = db_session.execute(text(
        "SELECT path, thumb_path FROM case_photo WHERE case_id = :i"),
        {"i": result.case_id}).one()
    # Re-encoded (metadata removed), so the same pixels rather than the same bytes.
    with Image.open(tmp_path / path) as stored, Image.open(io.BytesIO(_png())) as sent:
        assert stored.format == "PNG" and stored.tobytes() == sent.tobytes()
    with Image.open(tmp_path / thumb) as image:
        assert image.format == "JPEG" and max(image.size) <= 320


@pytest.mark.parametrize(("photo", "error"), [
    (UploadedPhoto.from_bytes("big.png", b"\0" * (MAX_BYTES + 1)), PayloadTooLarge),
    (UploadedPhoto.from_bytes("notes.txt", b"just text, not an image"), InvalidInput),
])
def test_bad_photos_are_refused_before_anything_is_written(db_session: Session, intake,
                                                           tmp_path, photo, error) -> None:
    g = _quiet_grid(db_session)
    before = _count(db_session)
    with pytest.raises(error):
        intake(_request(g, photos=(UploadedPhoto.from_bytes("ok.png", _png()), photo)))
    assert _count(db_session) == before and not list(tmp_path.rglob("*.*"))


def test_events_cannot_be_changed_even_by_the_owner(owner_session: Session,
                                                    tmp_path: Path) -> None:
    # The app role is refused before the trigger (tests/db/test_roles.py); the trigger holds
    # for the schema's owner, who may UPDATE the table, too.
    factory = sessionmaker(bind=owner_session.connection(), join_transaction_mode="create_savepoint",
                           expire_on_commit=False)
    g = _quiet_grid(owner_session)
    result = cases.intake(factory, g["as"]["worker"], _request(g)[1], media_dir=tmp_path)
    savepoint = owner_session.begin_nested()
    with pytest.raises(DBAPIError, match="immutable"):
        owner_session.execute(text("UPDATE case_event SET note = 'x' WHERE case_id = :i"),
                              {"i": result.case_id})
    savepoint.rollback()


def test_full_loop_through_the_service(db_session: Session, intake, factory, tmp_path) -> None:
    g = _quiet_grid(db_session)
    case_id = intake(_request(g)).case_id
    who = g["as"]
    steps = [(who["worker"], "dispatch", {"department": "heating"}, "dispatched"),
             (who["heating"], "start", {}, "in_progress"),
             (who["heating"], "resolve", {"note": "已修复"}, "resolved"),
             (who["community"], "verify", {}, "verified"),
             (who["worker"], "rate", {"rating": "satisfied"}, "rated"),
             (who["community"], "close", {}, "closed")]
    for version, (person, action, params, state) in enumerate(steps, start=1):
        transition = cases.act(factory, person, case_id, action, version=version,
                               params=params, media_dir=tmp_path)
        assert transition.case.state.value == state
    row = db_session.execute(text('SELECT state, version, rating, responded_at IS NOT NULL, '
                                  'resolved_at IS NOT NULL, closed_at IS NOT NULL '
                                  'FROM "case" WHERE id = :i'), {"i": case_id}).one()
    assert tuple(row) == ("closed", 7, "satisfied", True, True, True)


def test_stale_version_is_a_conflict(db_session: Session, intake, factory, tmp_path) -> None:
    g = _quiet_grid(db_session)
    case_id = intake(_request(g)).case_id
    cases.act(factory, g["as"]["worker"], case_id, "dispatch", version=1,
              params={"department": "heating"}, media_dir=tmp_path)
    with pytest.raises(Conflict, match="已被他人更新"):
        cases.act(factory, g["as"]["community"], case_id, "cancel", version=1,
                  params={"reason": "duplicate"}, media_dir=tmp_path)


@pytest.fixture
def committed_case(engine: Engine, tmp_path) -> Iterator[tuple[int, dict]]:
    """A case committed for real, so two concurrent sessions can both see it."""
    with Session(engine) as session:
        g = _quiet_grid(session, offset=7)
    result = cases.intake(sessionmaker(engine), g["as"]["worker"], _request(g, confirm_new=True)[1],
                          media_dir=tmp_path)
    yield result.case_id, g


def test_two_people_acting_at_once_one_wins(engine: Engine, committed_case, tmp_path) -> None:
    case_id, g = committed_case
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def attempt(person: Principal, action: str, params: dict) -> None:
        barrier.wait(timeout=10)
        try:
            cases.act(sessionmaker(engine), person, case_id, action, version=1, params=params,
                      media_dir=tmp_path)
            outcomes.append(action)
        except Conflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=attempt, args=(g["as"]["worker"], "dispatch",
                                                      {"department": "heating"})),
               threading.Thread(target=attempt, args=(g["as"]["community"], "cancel",
                                                      {"reason": "invalid"}))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(outcomes).count("conflict") == 1 and len(outcomes) == 2
    with engine.connect() as conn:
        version, n_events = conn.execute(text(
            'SELECT version, (SELECT count(*) FROM case_event WHERE case_id = c.id) '
            'FROM "case" c WHERE id = :i'), {"i": case_id}).one()
    assert (version, n_events) == (2, 2)  # the report and exactly one action


def test_board_lists_overdue_first_and_pages_without_gaps(db_session: Session, intake) -> None:
    g = _quiet_grid(db_session, offset=3)
    ids = [intake(_request(g, confirm_new=True, description=f"第{i}号")).case_id for i in range(7)]
    db_session.execute(text('UPDATE "case" SET resolve_by = now() - interval \'1 hour\' '
                            'WHERE id = ANY(:ids)'), {"ids": ids[2:4]})
    filters = case_board.parse_filter({"grid": g["code"]})
    seen, cursor = [], None
    while True:
        body = case_board.page(db_session, ADMIN, filters, cursor=cursor, limit=3, lang="zh")
        seen += body["cases"]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert sorted(c["id"] for c in seen) == sorted(ids)  # every case once
    assert [c["overdue"] for c in seen[:2]] == [True, True] and not any(
        c["overdue"] for c in seen[2:])
    newest_first = [c["id"] for c in seen[2:]]
    assert newest_first == sorted(newest_first, reverse=True)
    only = case_board.page(db_session, ADMIN, case_board.parse_filter(
        {"grid": g["code"], "overdue": "1"}), cursor=None, limit=50, lang="zh")
    assert {c["id"] for c in only["cases"]} == set(ids[2:4])


def _rated_case(intake, factory, g: dict, tmp_path: Path) -> int:  # type: ignore[no-untyped-def]
    """A case taken through the workflow until the resident has rated it (satisfied)."""
    case_id = intake(_request(g, confirm_new=True)).case_id
    who = g["as"]
    steps = [(who["worker"], "dispatch", {"department": "heating"}), (who["heating"], "start", {}),
             (who["heating"], "resolve", {"note": "已修复"}), (who["community"], "verify", {}),
             (who["worker"], "rate", {"rating": "satisfied"})]
    for version, (person, action, params) in enumerate(steps, start=1):
        cases.act(factory, person, case_id, action, version=version, params=params,
                  media_dir=tmp_path)
    return int(case_id)


def test_a_rated_case_is_neither_offered_nor_linkable(db_session: Session, intake, factory,
                                                      tmp_path) -> None:
    """The resident has judged a rated case; its only next step is closing. A new report of the
    same problem must become a case of its own (one rule for both the search and link_to)."""
    g = _quiet_grid(db_session, offset=11)
    rated = _rated_case(intake, factory, g, tmp_path)
    nearby = {"lon": g["lon"] + 0.0002, "lat": g["lat"]}
    offered = intake(_request(g, **nearby))
    assert offered.status == "created"  # no duplicate shown: the rated case is not one
    before = _count(db_session)
    with pytest.raises(InvalidInput, match="已评价、结案或作废"):
        intake(_request(g, **nearby, link_to=rated))
    assert _count(db_session) == before
    events = db_session.execute(text("SELECT count(*) FROM case_event WHERE case_id = :i "
                                     "AND action = 'add_report'"), {"i": rated}).scalar_one()
    assert events == 0


def test_link_to_another_category_is_refused(db_session: Session, intake) -> None:
    g = _quiet_grid(db_session, offset=12)
    first = intake(_request(g, confirm_new=True)).case_id
    with pytest.raises(InvalidInput, match="同类别"):
        intake(_request(g, category="gas", description="燃气味", link_to=first))


@pytest.fixture
def failing_save(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """PhotoStore.save_all writes the files, then something later in the transaction fails."""
    real_save = PhotoStore.save_all

    def save_then_fail(self, session, case_id, kind, photos):  # type: ignore[no-untyped-def]
        ids = real_save(self, session, case_id, kind, photos)
        if not photos:
            return ids
        assert list(tmp_path.rglob("*.png"))  # the files really were written
        raise Conflict("late failure")

    monkeypatch.setattr(PhotoStore, "save_all", save_then_fail)


def test_photo_files_are_removed_when_intake_fails(db_session: Session, intake, tmp_path,
                                                   failing_save) -> None:
    """Photos are written before the commit; if anything fails after that, the service that
    owns the transaction removes the files, so no file outlives its rolled-back row."""
    g = _quiet_grid(db_session)
    before = _count(db_session)
    with pytest.raises(Conflict, match="late failure"):
        intake(_request(g, confirm_new=True, photos=(UploadedPhoto.from_bytes("a.png", _png()),)))
    assert _count(db_session) == before and not list(tmp_path.rglob("*.*"))


def test_after_photos_are_removed_when_the_action_fails(db_session: Session, intake, factory,
                                                        tmp_path, failing_save) -> None:
    g = _quiet_grid(db_session, offset=13)
    case_id = intake(_request(g, confirm_new=True)).case_id
    with pytest.raises(Conflict, match="late failure"):
        cases.act(factory, g["as"]["worker"], case_id, "dispatch", version=1, params={},
                  after_photos=(UploadedPhoto.from_bytes("a.png", _png()),), media_dir=tmp_path)
    state = db_session.execute(text('SELECT state FROM "case" WHERE id = :i'),
                               {"i": case_id}).scalar_one()
    assert state == "reported" and not list(tmp_path.rglob("*.*"))

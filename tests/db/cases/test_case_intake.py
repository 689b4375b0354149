"""Case intake and actions on a real PostGIS: routing, boundary, duplicates, tokens, conflicts."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator

import pytest
from PIL import Image
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from gridmap.cases.services import board as case_board
from gridmap.cases.services import cases
from gridmap.cases.services.photos import MAX_BYTES, PhotoStore, UploadedPhoto
from gridmap.errors import Conflict, InvalidInput, OutsideTerritory, PayloadTooLarge


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
    return {**row, "worker": people[0], "secretary": people[1], "heating": people[2]}


def _request(g: dict, **overrides) -> cases.IntakeRequest:
    values = {"actor_id": g["worker"], "category": "heating", "description": "暖气不热",
              "channel": "grid_patrol", "lon": g["lon"], "lat": g["lat"]}
    values.update(overrides)
    return cases.IntakeRequest(**values)


@pytest.fixture
def store(tmp_path) -> PhotoStore:
    return PhotoStore(tmp_path)


def _count(session: Session) -> int:
    return session.execute(text('SELECT count(*) FROM "case"')).scalar_one()


def test_intake_routes_to_the_grid_and_its_worker(db_session: Session, store) -> None:
    g = _quiet_grid(db_session)
    result = cases.intake(db_session, _request(g), store)
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


def test_same_client_token_makes_one_case(db_session: Session, store) -> None:
    g = _quiet_grid(db_session)
    before = _count(db_session)
    first = cases.intake(db_session, _request(g, client_token="tok-1"), store)
    second = cases.intake(db_session, _request(g, client_token="tok-1"), store)
    assert (first.status, second.status) == ("created", "existing")
    assert first.case_id == second.case_id and _count(db_session) == before + 1


def test_point_near_a_grid_boundary_asks_which_grid(db_session: Session, store) -> None:
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
    asked = cases.intake(db_session, _request(g, lon=edge["lon"], lat=edge["lat"]), store)
    assert asked.status == "choose_grid" and _count(db_session) == before
    assert {edge["a"], edge["b"]} <= {c["code"] for c in asked.candidates}
    chosen = cases.intake(db_session, _request(g, lon=edge["lon"], lat=edge["lat"],
                                               grid_code=edge["b"]), store)
    assert chosen.status == "created"
    grid = db_session.execute(text('SELECT grid_code FROM "case" WHERE id = :i'),
                              {"i": chosen.case_id}).scalar_one()
    assert grid == edge["b"]
    with pytest.raises(InvalidInput, match="不在该位置附近"):
        cases.intake(db_session, _request(g, grid_code="210103999999999"), store)


def test_outside_every_grid_saves_nothing(db_session: Session, store) -> None:
    g = _quiet_grid(db_session)
    before = _count(db_session)
    with pytest.raises(OutsideTerritory):
        cases.intake(db_session, _request(g, lon=116.39, lat=39.91), store)
    assert _count(db_session) == before


@pytest.mark.parametrize(("overrides", "message"), [
    ({"category": "unicorns"}, "未知的案件类别"),
    ({"description": "字" * 4001}, "最多 4000 字"),
    ({"description": "   "}, "请填写问题描述"),
    ({"channel": "carrier_pigeon"}, "未知的来源渠道"),
    ({"reporter_phone": "call me"}, "联系电话"),
    ({"actor_id": 999_999_999_999_999}, "未知的操作人"),
])
def test_bad_input_is_refused_and_saves_nothing(db_session: Session, store, overrides,
                                                message) -> None:
    g = _quiet_grid(db_session)
    before = _count(db_session)
    with pytest.raises(InvalidInput, match=message):
        cases.intake(db_session, _request(g, **overrides), store)
    assert _count(db_session) == before


def test_possible_duplicates_then_link_or_file_anyway(db_session: Session, store) -> None:
    g = _quiet_grid(db_session)
    first = cases.intake(db_session, _request(g), store)
    nearby = {"lon": g["lon"] + 0.0003, "lat": g["lat"]}  # ~25 m east
    shown = cases.intake(db_session, _request(g, **nearby), store)
    assert shown.status == "possible_duplicates"
    assert [c["id"] for c in shown.candidates] == [first.case_id]
    linked = cases.intake(db_session, _request(g, **nearby, link_to=first.case_id,
                                               description="楼上也不热"), store)
    assert (linked.status, linked.case_id) == ("linked", first.case_id)
    notes = db_session.execute(text("SELECT action, note FROM case_event WHERE case_id = :i "
                                    "ORDER BY id"), {"i": first.case_id}).all()
    assert [tuple(n) for n in notes][-1] == ("add_report", "楼上也不热")
    filed = cases.intake(db_session, _request(g, **nearby, confirm_new=True), store)
    assert filed.status == "created" and filed.case_id != first.case_id
    other = cases.intake(db_session, _request(g, **nearby, category="gas",
                                              description="燃气味"), store)
    assert other.status == "created"  # another category is not a duplicate


def _png(size: tuple[int, int] = (64, 48)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 80, 40)).save(out, "PNG")
    return out.getvalue()


def test_photos_are_stored_with_thumbnails(db_session: Session, store, tmp_path) -> None:
    g = _quiet_grid(db_session)
    result = cases.intake(db_session, _request(g, photos=(UploadedPhoto("a.png", _png()),)),
                          store)
    path, thumb = db_session.execute(text(
        "SELECT path, thumb_path FROM case_photo WHERE case_id = :i"),
        {"i": result.case_id}).one()
    assert (tmp_path / path).read_bytes() == _png()
    with Image.open(tmp_path / thumb) as image:
        assert image.format == "JPEG" and max(image.size) <= 320


@pytest.mark.parametrize(("photo", "error"), [
    (UploadedPhoto("big.png", b"\0" * (MAX_BYTES + 1)), PayloadTooLarge),
    (UploadedPhoto("notes.txt", b"just text, not an image"), InvalidInput),
])
def test_bad_photos_are_refused_before_anything_is_written(db_session: Session, store,
                                                           tmp_path, photo, error) -> None:
    g = _quiet_grid(db_session)
    before = _count(db_session)
    with pytest.raises(error):
        cases.intake(db_session, _request(g, photos=(UploadedPhoto("ok.png", _png()), photo)),
                     store)
    assert _count(db_session) == before and not list(tmp_path.rglob("*.*"))


def test_events_cannot_be_changed(db_session: Session, store) -> None:
    g = _quiet_grid(db_session)
    result = cases.intake(db_session, _request(g), store)
    savepoint = db_session.begin_nested()
    with pytest.raises(DBAPIError, match="immutable"):
        db_session.execute(text("UPDATE case_event SET note = 'x' WHERE case_id = :i"),
                           {"i": result.case_id})
    savepoint.rollback()


def test_full_loop_through_the_service(db_session: Session, store) -> None:
    g = _quiet_grid(db_session)
    case_id = cases.intake(db_session, _request(g), store).case_id
    steps = [(g["worker"], "dispatch", {"department": "heating"}, "dispatched"),
             (g["heating"], "start", {}, "in_progress"),
             (g["heating"], "resolve", {"note": "已修复"}, "resolved"),
             (g["secretary"], "verify", {}, "verified"),
             (g["worker"], "rate", {"rating": "satisfied"}, "rated"),
             (g["secretary"], "close", {}, "closed")]
    for version, (person, action, params, state) in enumerate(steps, start=1):
        transition = cases.act(db_session, case_id, person, action, version=version,
                               params=params)
        assert transition.case.state.value == state
    row = db_session.execute(text('SELECT state, version, rating, responded_at IS NOT NULL, '
                                  'resolved_at IS NOT NULL, closed_at IS NOT NULL '
                                  'FROM "case" WHERE id = :i'), {"i": case_id}).one()
    assert tuple(row) == ("closed", 7, "satisfied", True, True, True)


def test_stale_version_is_a_conflict(db_session: Session, store) -> None:
    g = _quiet_grid(db_session)
    case_id = cases.intake(db_session, _request(g), store).case_id
    cases.act(db_session, case_id, g["worker"], "dispatch", version=1,
              params={"department": "heating"})
    with pytest.raises(Conflict, match="已被他人更新"):
        cases.act(db_session, case_id, g["secretary"], "cancel", version=1,
                  params={"reason": "duplicate"})


@pytest.fixture
def committed_case(engine: Engine, tmp_path) -> Iterator[tuple[int, dict]]:
    """A case committed for real, so two concurrent sessions can both see it."""
    with Session(engine) as session, session.begin():
        g = _quiet_grid(session, offset=7)
        case_id = cases.intake(session, _request(g, confirm_new=True), PhotoStore(tmp_path))
    yield case_id.case_id, g


def test_two_people_acting_at_once_one_wins(engine: Engine, committed_case) -> None:
    case_id, g = committed_case
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def attempt(person: int, action: str, params: dict) -> None:
        with Session(engine) as session:
            try:
                with session.begin():
                    barrier.wait(timeout=10)
                    cases.act(session, case_id, person, action, version=1, params=params)
                outcomes.append(action)
            except Conflict:
                outcomes.append("conflict")

    threads = [threading.Thread(target=attempt, args=(g["worker"], "dispatch",
                                                      {"department": "heating"})),
               threading.Thread(target=attempt, args=(g["secretary"], "cancel",
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


def test_board_lists_overdue_first_and_pages_without_gaps(db_session: Session, store) -> None:
    g = _quiet_grid(db_session, offset=3)
    ids = [cases.intake(db_session, _request(g, confirm_new=True, description=f"第{i}号"),
                        store).case_id for i in range(7)]
    db_session.execute(text('UPDATE "case" SET resolve_by = now() - interval \'1 hour\' '
                            'WHERE id = ANY(:ids)'), {"ids": ids[2:4]})
    filters = case_board.parse_filter({"grid": g["code"]})
    seen, cursor = [], None
    while True:
        body = case_board.page(db_session, filters, cursor=cursor, limit=3, lang="zh")
        seen += body["cases"]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert sorted(c["id"] for c in seen) == sorted(ids)  # every case once
    assert [c["overdue"] for c in seen[:2]] == [True, True] and not any(
        c["overdue"] for c in seen[2:])
    newest_first = [c["id"] for c in seen[2:]]
    assert newest_first == sorted(newest_first, reverse=True)
    only = case_board.page(db_session, case_board.parse_filter(
        {"grid": g["code"], "overdue": "1"}), cursor=None, limit=50, lang="zh")
    assert {c["id"] for c in only["cases"]} == set(ids[2:4])

"""Backup and restore on a real PostGIS: the test database (沈河区, plus a case with a photo)
round-trips into a scratch database with equal counts and checksums, and answers queries; a
non-empty database, a changed file and a non-empty target directory are refused."""

from __future__ import annotations

import io
import json
import shutil
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from gridmap.access import Principal, Role
from gridmap.cases.services import cases, queries
from gridmap.cases.services.photos import UploadedPhoto
from gridmap.config import Settings
from gridmap.errors import ConfigurationError, Conflict, DataRejected
from gridmap.operations import archive, pgtools
from gridmap.operations.services.backup import backup
from gridmap.operations.services.restore import restore
from gridmap.territory.services import lookup as territory

ADMIN = Principal(account_id=1, person_id=1, role=Role.ADMIN)


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(out, "JPEG")
    return out.getvalue()


def _photo_case(engine: Engine, media_dir: Path) -> tuple[int, float, float, str]:
    """A case with a photo, committed (a dump sees committed rows only), at a quiet grid."""
    with Session(engine) as session:
        g = session.execute(text("""
            SELECT g.code, ST_X(p) AS lon, ST_Y(p) AS lat,
                   (SELECT person_id FROM grid_member m
                    WHERE m.grid_code = g.code AND m.role = 'grid_worker') AS worker
            FROM (SELECT code, ST_PointOnSurface(geom) AS p FROM grid) g
            WHERE NOT EXISTS (SELECT 1 FROM grid o WHERE o.code <> g.code
                              AND ST_DWithin(o.geom::geography, g.p::geography, 60))
            ORDER BY g.code OFFSET 11 LIMIT 1
        """)).mappings().one()
    worker = Principal(account_id=11, person_id=g["worker"], role=Role.GRID_WORKER,
                       grids=frozenset({g["code"]}))
    result = cases.intake(sessionmaker(engine), worker, cases.IntakeRequest(
        category="heating", description="备份测试：暖气不热", channel="grid_patrol",
        lon=g["lon"], lat=g["lat"], confirm_new=True,
        photos=(UploadedPhoto.from_bytes("radiator.jpg", _jpeg()),)), media_dir=media_dir)
    assert result.status == "created" and result.case_id is not None
    return result.case_id, g["lon"], g["lat"], g["code"]


@pytest.fixture(scope="module")
def backed_up(engine: Engine, settings: Settings,
              tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One backup of the test database with a photo case in a temporary media folder."""
    media = tmp_path_factory.mktemp("media")
    case_id, lon, lat, grid = _photo_case(engine, media)
    directory = tmp_path_factory.mktemp("backups") / "nightly"
    report = backup(replace(settings, media_dir=media), directory)
    return {"dir": directory, "report": report, "case_id": case_id, "lon": lon, "lat": lat,
            "grid": grid, "media": media}


@pytest.fixture
def target(settings: Settings, scratch_settings: Settings, tmp_path: Path) -> Settings:
    """The scratch database as the deployment sees it: the app role with the owner beside it
    when roles are split (so the restore must grant the app role), and an empty media folder."""
    media = tmp_path / "restored-media"
    if not settings.owner_database_url:
        return replace(scratch_settings, media_dir=media)
    database = make_url(scratch_settings.database_url).database
    app_url = make_url(settings.database_url).set(database=database)
    return replace(settings, database_url=app_url.render_as_string(hide_password=False),
                   owner_database_url=scratch_settings.database_url, media_dir=media)


@pytest.fixture
def target_engine(target: Settings) -> Iterator[Engine]:
    """The scratch database as the app role."""
    eng = create_engine(target.sqlalchemy_url)
    yield eng
    eng.dispose()


def test_round_trip_counts_checksums_and_queries(backed_up: dict, target: Settings,
                                                 target_engine: Engine) -> None:
    manifest = json.loads((backed_up["dir"] / archive.MANIFEST).read_text(encoding="utf-8"))
    assert manifest["row_counts"]["case_photo"] >= 1 and manifest["row_counts"]["grid"] == 1439
    assert manifest["alembic_revision"] and manifest["gridmap_version"]
    assert sorted(manifest["files"]) == archive.files_of(backed_up["dir"])
    photos = [name for name in manifest["files"] if name.startswith("media/cases/")]
    assert len(photos) >= 2  # the photo and its thumbnail

    report = restore(target, backed_up["dir"])

    assert report.row_counts == manifest["row_counts"] == backed_up["report"].row_counts
    assert report.alembic_revision == manifest["alembic_revision"]
    restored = archive.checksums(target.media_dir)
    assert {f"media/{name}": v for name, v in restored.items()} == {
        name: v for name, v in manifest["files"].items() if name.startswith("media/")}
    with Session(target_engine) as session:  # the app role: granted after the restore
        found = territory.locate(session, backed_up["lon"], backed_up["lat"])
        assert found["grid"]["code"] == backed_up["grid"]
        case = queries.detail(session, ADMIN, backed_up["case_id"], lang="zh")
        assert case["description"] == "备份测试：暖气不热" and case["grid_code"] == backed_up["grid"]
        for photo in case["photos"]:
            assert (target.media_dir / photo["url"].removeprefix("/media/")).is_file()
        assert len(case["photos"]) == 1


def test_restore_refuses_a_database_with_tables(backed_up: dict, target: Settings) -> None:
    restore(target, backed_up["dir"])
    shutil.rmtree(target.media_dir)
    with pytest.raises(Conflict, match=r"not empty: it has the tables account, .* and [0-9]+ more"):
        restore(target, backed_up["dir"])


def test_restore_refuses_a_changed_file_before_writing(backed_up: dict, target: Settings,
                                                       target_engine: Engine,
                                                       tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(backed_up["dir"], copy)
    photo = next(p for p in (copy / "media").rglob("*.jpg"))
    photo.write_bytes(photo.read_bytes()[:-1] + b"\x00")
    with pytest.raises(DataRejected, match=r"checksum differs: media/cases/"):
        restore(target, copy)
    with target_engine.connect() as conn:
        assert conn.execute(text(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
            " AND tablename <> 'spatial_ref_sys'")).scalar_one() == 0
    assert not target.media_dir.exists()


def test_restore_names_an_extension_the_owner_cannot_create(backed_up: dict, target: Settings,
                                                            tmp_path: Path) -> None:
    copy = tmp_path / "copy"
    shutil.copytree(backed_up["dir"], copy)
    manifest = json.loads((copy / archive.MANIFEST).read_text(encoding="utf-8"))
    manifest["database"]["extensions"]["postgis_raster"] = {"version": "3", "schema": "public"}
    (copy / archive.MANIFEST).write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(ConfigurationError, match=r"lacks the extension\(s\) postgis_raster"):
        restore(target, copy)


def test_restore_refuses_a_media_folder_with_files(backed_up: dict, target: Settings) -> None:
    target.media_dir.mkdir(parents=True)
    (target.media_dir / "someone-elses.jpg").write_bytes(b"x")
    with pytest.raises(Conflict, match="--force"):
        restore(target, backed_up["dir"])
    report = restore(target, backed_up["dir"], force_media=True)
    assert report.media_files >= 2


def test_app_role_keeps_append_only_history_after_restore(backed_up: dict, target: Settings,
                                                          target_engine: Engine) -> None:
    if not target.owner_database_url:
        pytest.fail("the test cluster has a single role: run `make clean` for split roles")
    restore(target, backed_up["dir"])
    with target_engine.begin() as conn, pytest.raises(DBAPIError, match="permission denied"):
        conn.execute(text("UPDATE case_event SET note = note WHERE false"))


def test_backup_refuses_a_directory_with_files(settings: Settings, tmp_path: Path) -> None:
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "keep.txt").write_text("x")
    with pytest.raises(Conflict, match="not an empty directory"):
        backup(replace(settings, media_dir=tmp_path / "media"), tmp_path / "old")


def test_interrupted_backup_leaves_no_directory(settings: Settings, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    def killed(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(pgtools, "dump", killed)
    with pytest.raises(KeyboardInterrupt):
        backup(replace(settings, media_dir=tmp_path / "media"), tmp_path / "nightly")
    assert list(tmp_path.iterdir()) == []


def test_a_missing_client_program_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setattr(pgtools, "_DEBIAN_BINS", "/nonexistent/*/bin")
    with pytest.raises(ConfigurationError, match="pg_dump not found"):
        pgtools.find("pg_dump")

"""Shared fixtures: a real PostGIS test database, migrated from empty and loaded with 沈河区.

Every test that touches the database gets a connection whose transaction is rolled back at the
end, so tests never see each other's writes. A missing database is a failure, never a skip.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.orm import Session

from gridmap.config import Settings

TEST_DISTRICT = "210103"  # 沈河区: 11 sub-districts, 111 communities, 1,439 grids


def _test_url() -> str:
    url = os.environ.get("GRIDMAP_TEST_DATABASE_URL")
    if not url:
        pytest.fail("GRIDMAP_TEST_DATABASE_URL is not set: run the suite with `make test`, which "
                    "starts the project's PostGIS and sets it (tests never skip the database)")
    return url


# Far above what the suite asks of one endpoint, so no test trips a limit by accident; the
# limits themselves are tested in tests/web/test_rate_limits.py.
_SUITE_RATE = "10000/minute"


@pytest.fixture(scope="session")
def settings() -> Settings:
    """Settings pointing at the test database and the rate-limit store `make` starts.

    The counters live in the real store (Redis under `make test`) under a key prefix of this run
    alone, so earlier runs and other checkouts sharing the store do not count.
    """
    env = {"GRIDMAP_DATABASE_URL": _test_url(),
           "GRIDMAP_SECRET_KEY": "test-secret-not-for-production",
           "GRIDMAP_RATELIMIT_KEY_PREFIX": f"gridmap-test-{uuid.uuid4().hex}"}
    # The schema's owner migrates and loads; the app (and every test connection) is the app role.
    if os.environ.get("GRIDMAP_TEST_OWNER_DATABASE_URL"):
        env["GRIDMAP_OWNER_DATABASE_URL"] = os.environ["GRIDMAP_TEST_OWNER_DATABASE_URL"]
    if os.environ.get("GRIDMAP_RATELIMIT_STORAGE_URL"):
        env["GRIDMAP_RATELIMIT_STORAGE_URL"] = os.environ["GRIDMAP_RATELIMIT_STORAGE_URL"]
    for budget in ("INTAKE", "CASE_ACTIONS", "OPEN311", "PLANNING", "SIGN_IN",
                   "SIGN_IN_FAILURES_ACCOUNT", "SIGN_IN_FAILURES_ADDRESS"):
        env[f"GRIDMAP_RATELIMIT_{budget}"] = _SUITE_RATE
    return Settings.from_env(env)


def reset_schema(engine: Engine) -> None:
    """Drop what the migrations made, leaving the public schema with PostGIS.

    The owner drops what it owns: PostGIS was created by the superuser and stays (the owner could
    not create it again). A single superuser role (older trust clusters) drops the whole schema.
    """
    with engine.begin() as conn:
        if conn.execute(text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")).scalar():
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        else:
            conn.execute(text("DROP OWNED BY CURRENT_USER"))


def _reachable(eng: Engine, url: str) -> None:
    try:
        with eng.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - turned into a clear failure
        pytest.fail(f"cannot reach the test PostGIS at {url}: {exc}")


@pytest.fixture(scope="session")
def owner_engine(settings: Settings) -> Iterator[Engine]:
    """The test database as the schema's owner: migrated from empty and loaded with 沈河区."""
    from gridmap import schema
    from gridmap.db import make_session_factory
    from gridmap.demo.services.load import load_demo

    owner = settings.as_owner()
    eng = create_engine(owner.sqlalchemy_url)
    _reachable(eng, owner.database_url)
    reset_schema(eng)
    schema.upgrade(settings)
    # No historical cases: tests create the cases they look at (tests/db/test_demo_cases.py
    # checks the generator on its own).
    load_demo(make_session_factory(eng), districts=[TEST_DISTRICT], cases=0)
    yield eng
    eng.dispose()


@pytest.fixture(scope="session")
def engine(owner_engine: Engine, settings: Settings) -> Iterator[Engine]:
    """The loaded test database as the app's role (no DDL, append-only ``case_event``)."""
    eng = create_engine(settings.sqlalchemy_url)
    _reachable(eng, settings.database_url)
    yield eng
    eng.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    """A connection inside a transaction that is rolled back after the test."""
    with engine.connect() as conn:
        trans = conn.begin()
        yield conn
        trans.rollback()


@pytest.fixture
def db_session(connection: Connection) -> Iterator[Session]:
    """An ORM session in the test's transaction; its commits become savepoints."""
    with Session(bind=connection, join_transaction_mode="create_savepoint") as session:
        yield session


@pytest.fixture
def owner_session(owner_engine: Engine) -> Iterator[Session]:
    """An ORM session as the schema's owner (for TRUNCATE and the like), rolled back after."""
    with owner_engine.connect() as conn:
        trans = conn.begin()
        with Session(bind=conn, join_transaction_mode="create_savepoint") as session:
            yield session
        trans.rollback()


@pytest.fixture(scope="session")
def app(engine: Engine, settings: Settings):  # type: ignore[no-untyped-def]
    """The Flask app on the loaded test database."""
    from gridmap.app import create_app

    application = create_app(settings)
    application.config["TESTING"] = True
    yield application
    application.extensions["gridmap.read_pool"].close()
    application.extensions["gridmap.engine"].dispose()


@pytest.fixture
def client(app):  # type: ignore[no-untyped-def]
    """A Flask test client."""
    return app.test_client()


class JobWorker:
    """A real ``gridmap worker`` process on the test database (started by :func:`job_worker`)."""

    def __init__(self, settings: Settings, folder: Path) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDMAP_")}
        env.update(GRIDMAP_DATABASE_URL=settings.database_url,
                   GRIDMAP_SECRET_KEY=settings.secret_key, GRIDMAP_JOB_CONCURRENCY="1",
                   GRIDMAP_MEDIA_DIR=str(settings.media_dir),
                   PYTHONPATH=str(Path(__file__).resolve().parents[1]))
        self.log = folder / "worker.log"
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [str(Path(sys.executable).with_name("gridmap")), "worker"], env=env, cwd=folder,
                stdout=out, stderr=subprocess.STDOUT)

    def stop(self) -> None:
        """SIGTERM, as `gridmap serve` and docker stop it; killed if it does not stop."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@pytest.fixture
def job_worker(engine: Engine, app: Any, tmp_path: Path) -> Iterator[JobWorker]:
    """A job worker process for the test (the app's settings: its database and media folder),
    stopped afterwards; its log is ``.log``."""
    worker = JobWorker(app.extensions["gridmap.settings"], tmp_path)
    deadline = time.monotonic() + 30
    with engine.connect() as conn:  # ready once it has registered with the queue
        while not conn.execute(text(
                "SELECT count(*) FROM procrastinate_workers WHERE last_heartbeat > now() - "
                "interval '5 seconds'")).scalar():
            if worker.process.poll() is not None or time.monotonic() > deadline:
                pytest.fail("the job worker did not start:\n" + worker.log.read_text())
            time.sleep(0.1)
            conn.rollback()
    yield worker
    worker.stop()

"""A web worker killed with SIGKILL in the middle of intakes with photos loses nothing and leaves
nothing half-saved; ``gridmap doctor`` finds exactly the files the kills left behind, and
``--clean`` removes them (issue 11, faults).

The real thing, nothing mocked or slowed: ``gridmap serve`` (gunicorn, 2 sync workers) on a
database of its own on the test PostGIS (migrated and loaded with 沈河区 like the shared one:
doctor looks at a whole database, and the shared test database holds photo rows other tests
committed with files in their own media folders), with a temporary media folder. Client threads
post intakes with three photos each, every one with a client token that the client re-sends
until it is answered (a phone resending its form); meanwhile a worker that is serving is killed
with SIGKILL every few tenths of a second. No timing is arranged, so the assertions are the
ones that must hold whatever a kill interrupted:

- every token has exactly one case and every client got an answer naming it (nothing lost,
  nothing doubled);
- every case has its "report" event and all its photos, and every photo row has both files,
  of the size it records (intake writes case, event and photo rows in one transaction);
- files no row names can only come from an intake killed after writing them and before
  committing: they lie in folders of case ids that were never committed, and doctor reports
  exactly them once they are older than its grace period (not before), ``--clean`` removes
  them and doctor then exits 0.

Whether a run leaves such files depends on where the kills land; that the kills did interrupt
requests in flight is asserted, so the test always proves something.
"""

from __future__ import annotations

import http.client
import io
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ProgrammingError

from gridmap.config import Settings

DISTRICT = "210103"  # 沈河区, as in tests/conftest.py
WORKERS = 2
CLIENTS = 12
KILLS = 16
MIN_KILLS = 5  # on a busy machine workers boot slowly, and only booted workers are killed
LOAD_S = 18.0  # the load stops once KILLS kills are done, or after this once MIN_KILLS are
LOAD_MAX_S = 120.0
"""On a loaded machine (a shared CI host, a suite beside this one) a killed worker takes seconds
to come back; the load goes on up to this long so that MIN_KILLS kills still land."""
READY_S = 1.5
"""A new worker is left this long to boot (import and build the app) before it may be killed,
so that kills land on workers that serve requests."""
PHOTOS = 3
TRIES = 20


# --- a database and a server of the test's own -------------------------------------------------

def _drop(admin: Engine, name: str) -> None:
    """Drop the database, retried while an autovacuum worker visits it (see tests/db)."""
    for attempt in range(50):
        try:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))  # noqa: S608
            return
        except ProgrammingError:
            if attempt == 49:
                raise
            time.sleep(0.1)


@pytest.fixture(scope="module")
def own_db(settings: Settings) -> Iterator[Settings]:
    """Settings for a new database beside the test database, migrated and loaded with 沈河区;
    dropped afterwards."""
    from gridmap import schema
    from gridmap.db import make_session_factory
    from gridmap.demo.services.load import load_demo

    owner = settings.as_owner()
    base = make_url(owner.database_url)
    name = f"{base.database}_sigkill"[:63]
    admin = create_engine(base.set(database="postgres").render_as_string(hide_password=False)
                          .replace("postgresql://", "postgresql+psycopg://", 1),
                          isolation_level="AUTOCOMMIT")
    try:
        _drop(admin, name)
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))  # from template1: PostGIS is there
    except Exception as exc:  # noqa: BLE001 - a missing database is a failure, never a skip
        admin.dispose()
        pytest.fail(f"cannot create a database on the test PostGIS at {base.host}:{base.port}: "
                    f"{exc}")

    def at(url: str) -> str:
        return make_url(url).set(database=name).render_as_string(hide_password=False)

    own = Settings(database_url=at(settings.database_url), secret_key=settings.secret_key,
                   owner_database_url=at(settings.owner_database_url)
                   if settings.owner_database_url else "")
    try:
        schema.upgrade(own)
        loader = create_engine(own.as_owner().sqlalchemy_url)
        try:
            load_demo(make_session_factory(loader), districts=[DISTRICT], cases=0)
        finally:
            loader.dispose()
        yield own
    finally:
        _drop(admin, name)
        admin.dispose()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _environment(own: Settings, settings: Settings, media: Path, run: str,
                 metrics: Path) -> dict[str, str]:
    """The server's and doctor's environment: this process's, without any GRIDMAP_* setting
    but those of the own database and media folder (they run outside the checkout, so no
    ``.gridmap/env`` fills anything in), and this checkout's code first on the path."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRIDMAP_")}
    root = Path(__file__).resolve().parents[3]
    env.update({
        "PYTHONPATH": os.pathsep.join(p for p in (str(root), os.environ.get("PYTHONPATH")) if p),
        "GRIDMAP_DATABASE_URL": own.database_url,
        "GRIDMAP_OWNER_DATABASE_URL": own.owner_database_url,
        "GRIDMAP_SECRET_KEY": own.secret_key,
        "GRIDMAP_MEDIA_DIR": str(media),
        "GRIDMAP_RATELIMIT_STORAGE_URL": settings.rate_limits.storage_url,
        "GRIDMAP_RATELIMIT_KEY_PREFIX": f"gridmap-sigkill-{run}",
        "GRIDMAP_RATELIMIT_INTAKE": "1000000/minute",
        "PROMETHEUS_MULTIPROC_DIR": str(metrics),
    })
    return env


def _script(name: str) -> str:
    """A console script of the venv this test runs in (gridmap, and gunicorn behind it)."""
    return str(Path(sys.executable).with_name(name))


def _children(pid: int) -> list[int]:
    """Live child processes of ``pid`` (gunicorn's workers, for its master), from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(entry.name))
    return found


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    base: tuple[str, int]
    log: Path


def _serve(env: dict[str, str], workdir: Path) -> Server:
    port = _free_port()
    log = workdir / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [_script("gridmap"), "serve", "--host", "127.0.0.1", "--port", str(port),
             "--workers", str(WORKERS), "--threads", "1", "--no-jobs"],
            env=env, cwd=workdir, stdout=subprocess.DEVNULL, stderr=out)
    server = Server(process, ("127.0.0.1", port), log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"gunicorn exited during start-up:\n{log.read_text()[-3000:]}")
        try:
            conn = http.client.HTTPConnection(*server.base, timeout=2)
            try:
                conn.request("GET", "/api/health")
                if conn.getresponse().status == 200:
                    return server
            finally:
                conn.close()
        except OSError:
            pass
        time.sleep(0.1)
    _stop(server)
    pytest.fail(f"gunicorn did not answer within 30 s:\n{log.read_text()[-3000:]}")


def _stop(server: Server) -> None:
    server.process.send_signal(signal.SIGTERM)  # graceful: workers finish what they serve
    try:
        server.process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


# --- the load -----------------------------------------------------------------------------------

def _photo(fmt: str, size: tuple[int, int], seed: int) -> bytes:
    rng = random.Random(seed)
    image = Image.frombytes("RGB", size, bytes(rng.randrange(256) for _ in range(3 * size[0] * size[1])))
    out = io.BytesIO()
    image.save(out, fmt)
    return out.getvalue()


PHOTO_FILES = [("a.jpg", "image/jpeg", _photo("JPEG", (96, 72), 1)),
               ("b.png", "image/png", _photo("PNG", (48, 48), 2)),
               ("c.jpg", "image/jpeg", _photo("JPEG", (64, 80), 3))]


def _multipart(fields: dict[str, str]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                     .encode() + value.encode() + b"\r\n")
    for filename, content_type, data in PHOTO_FILES:
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="photos"; '
                     f'filename="{filename}"\r\nContent-Type: {content_type}\r\n\r\n'.encode()
                     + data + b"\r\n")
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


_INTERRUPTED = (ConnectionResetError, ConnectionAbortedError, BrokenPipeError,
                http.client.RemoteDisconnected, http.client.IncompleteRead)
"""What a client sees when the worker serving it is killed (RemoteDisconnected is a
ConnectionResetError too: the connection closed without an answer)."""


@dataclass
class Load:
    base: tuple[str, int]
    auth: str
    points: list[tuple[str, float, float]]
    marker: str
    run: str
    stop: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    answers: dict[str, tuple[int, Any]] = field(default_factory=dict)
    """token → (status, body) of the answer that finally came."""
    interrupted: int = 0
    unanswered: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)

    def post(self, body: bytes, content_type: str) -> tuple[int, Any]:
        conn = http.client.HTTPConnection(*self.base, timeout=30)
        try:
            conn.request("POST", "/api/cases", body,
                         {"Content-Type": content_type, "Authorization": self.auth})
            response = conn.getresponse()
            return response.status, json.loads(response.read() or b"{}")
        finally:
            conn.close()

    def client(self, index: int) -> None:
        n = 0
        while not self.stop.is_set():
            n += 1
            token = f"{self.run}-{index}-{n}"
            code, lon, lat = self.points[(index * 31 + n) % len(self.points)]
            body, content_type = _multipart({
                "category": "heating", "description": f"{self.marker} 暖气不热 {token}",
                "lon": f"{lon:.7f}", "lat": f"{lat:.7f}", "grid_code": code, "confirm_new": "1",
                "channel": "grid_patrol", "client_token": token})
            for _ in range(TRIES):  # the same form again until it is answered
                try:
                    answer = self.post(body, content_type)
                except _INTERRUPTED:
                    with self.lock:
                        self.interrupted += 1
                    continue
                except Exception as exc:  # noqa: BLE001 - reported by the test
                    with self.lock:
                        self.unexpected.append(f"{token}: {exc!r}")
                    return
                with self.lock:
                    self.answers[token] = answer
                break
            else:
                with self.lock:
                    self.unanswered.append(token)

    def answered(self) -> int:
        with self.lock:
            return len(self.answers)


def _kill_workers(master: int, load: Load, rng: random.Random) -> int:
    """Kill a serving worker with SIGKILL every few tenths of a second; how many were killed."""
    seen: dict[int, float] = {}
    killed = 0
    progress = load.answered()
    start = time.monotonic()

    def going() -> bool:
        spent = time.monotonic() - start
        return killed < KILLS and (spent < LOAD_S or killed < MIN_KILLS) and spent < LOAD_MAX_S

    while going():
        pause = time.monotonic() + rng.uniform(0.25, 0.6)
        while time.monotonic() < pause:
            now = time.monotonic()
            for pid in _children(master):
                seen.setdefault(pid, now)
            time.sleep(0.02)
        now = time.monotonic()
        live = _children(master)
        ready = [pid for pid in live if now - seen.get(pid, now) >= READY_S]
        if not ready or load.answered() == progress:
            continue  # workers still booting, or nothing answered since the last kill
        os.kill(rng.choice(ready), signal.SIGKILL)
        killed += 1
        progress = load.answered()
    return killed


# --- the test ------------------------------------------------------------------------------------

def _doctor(env: dict[str, str], workdir: Path, *args: str) -> tuple[int, str]:
    done = subprocess.run([_script("gridmap"), "doctor", *args], env=env, cwd=workdir,
                          capture_output=True, text=True, timeout=60, check=False)
    return done.returncode, done.stdout + done.stderr


def _listed(output: str, label: str) -> tuple[int, list[str]]:
    """The count doctor gives after ``label`` and the items it lists below it."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(label + ":"))
    count = int(lines[start].rsplit(":", 1)[1])
    items = []
    for line in lines[start + 1:]:
        if not line.startswith("  "):
            break
        items.append(line.strip())
    return count, items


def _wait_for_no_sessions(engine: Engine, database: str) -> None:
    """Until no other session is connected to ``database``: a killed worker's transaction has
    been rolled back (or its commit has landed) before anything is counted."""
    deadline = time.monotonic() + 15
    while True:
        with engine.connect() as conn:
            others = conn.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = :d "
                "AND backend_type = 'client backend' AND pid <> pg_backend_pid()"),
                {"d": database}).scalar_one()
        if others == 0:
            return
        assert time.monotonic() < deadline, f"{others} sessions still connected to {database}"
        time.sleep(0.1)


def _account_token(own: Settings, run: str) -> str:
    """A district centre's account in 沈河区 (who may report anywhere in it) and a personal API
    token of it, made through the accounts services as a script would."""
    from gridmap.access import Principal, Role
    from gridmap.accounts.services import accounts, tokens
    from gridmap.db import make_session_factory

    engine = create_engine(own.sqlalchemy_url)
    try:
        factory = make_session_factory(engine)
        made = accounts.create(factory, Principal(username="sigkill-test"), accounts.NewAccount(
            username=f"sigkill-{run}", role=Role.DISTRICT_CENTRE.value, name="断电测试指挥中心",
            area_code=DISTRICT))
        owner = Principal(account_id=made["id"], person_id=made["person_id"],
                          role=Role.DISTRICT_CENTRE, area_code=DISTRICT, username=made["username"])
        return str(tokens.issue_token(factory, owner, "sigkill test")["token"])
    finally:
        engine.dispose()


def _points(engine: Engine) -> list[tuple[str, float, float]]:
    """Points well inside grids (no other grid within 30 m): intake never asks which grid."""
    with engine.connect() as conn:
        rows = conn.execute(text("""
            SELECT g.code, ST_X(g.p), ST_Y(g.p)
            FROM (SELECT code, ST_PointOnSurface(geom) AS p FROM grid ORDER BY code) g
            WHERE NOT EXISTS (SELECT 1 FROM grid o WHERE o.code <> g.code
                              AND ST_DWithin(o.geom::geography, g.p::geography, 30))
            LIMIT 200""")).all()
    assert len(rows) > 50
    return [(str(code), float(lon), float(lat)) for code, lon, lat in rows]


def test_sigkill_during_intake_loses_nothing_and_doctor_cleans_what_is_left(
        own_db: Settings, settings: Settings, tmp_path: Path) -> None:
    from gridmap.cases.services.doctor import GRACE_S

    run = uuid.uuid4().hex[:10]
    media, metrics = tmp_path / "media", tmp_path / "metrics"
    media.mkdir()
    metrics.mkdir()
    env = _environment(own_db, settings, media, run, metrics)
    engine = create_engine(own_db.sqlalchemy_url)
    try:
        load = Load(("", 0), "Bearer " + _account_token(own_db, run), _points(engine),
                    marker=f"sigkill-{run}", run=run)
        server = _serve(env, tmp_path)
        try:
            load.base = server.base
            clients = [threading.Thread(target=load.client, args=(i,), daemon=True)
                       for i in range(CLIENTS)]
            for thread in clients:
                thread.start()
            # `gridmap serve` supervises gunicorn: its one child (no job worker) is the master.
            (master,) = _children(server.process.pid)
            killed = _kill_workers(master, load, random.Random(run))
            load.stop.set()
            for thread in clients:
                thread.join(timeout=60)
            assert not any(t.is_alive() for t in clients), "a client is still waiting"
        finally:
            _stop(server)
        _wait_for_no_sessions(engine, make_url(own_db.database_url).database or "")

        # The clients: every form was answered in the end, as created or already there.
        assert load.unexpected == [] and load.unanswered == []
        statuses = [status for status, _ in load.answers.values()]
        assert set(statuses) <= {200, 201}, [a for a in load.answers.values() if a[0] not in (200, 201)]
        assert all(body["status"] in ("created", "existing") for _, body in load.answers.values())
        acked = {token: int(body["case_id"]) for token, (_, body) in load.answers.items()}
        assert killed >= MIN_KILLS, f"only {killed} kills"
        assert load.interrupted > 0, "the kills interrupted no request: the test proved nothing"

        with engine.connect() as conn:
            stored: dict[str, int] = dict(conn.execute(text(
                'SELECT client_token, id FROM "case" WHERE description LIKE :m'),
                {"m": f"{load.marker} %"}).all())
            events: dict[int, list[str] | None] = dict(conn.execute(text("""
                SELECT c.id, array_agg(e.action ORDER BY e.id) FILTER (WHERE e.id IS NOT NULL)
                FROM "case" c LEFT JOIN case_event e ON e.case_id = c.id
                GROUP BY c.id""")).all())
            photos = conn.execute(text(
                "SELECT case_id, path, thumb_path, bytes FROM case_photo")).all()
        # Nothing lost, nothing doubled: each token's case is the one its client was told.
        assert stored == acked
        # No case without its first event, nor with only part of its photos.
        assert set(events) == set(stored.values())
        assert all(actions == ["report"] for actions in events.values()), \
            {case: actions for case, actions in events.items() if actions != ["report"]}
        per_case: dict[int, int] = {}
        for case_id, *_ in photos:
            per_case[case_id] = per_case.get(case_id, 0) + 1
        assert per_case == {case_id: PHOTOS for case_id in stored.values()}
        # No row without its files, whole.
        named: set[str] = set()
        for _, path, thumb, size in photos:
            named.update((path, thumb))
            assert (media / path).is_file() and (media / thumb).is_file(), path
            assert (media / path).stat().st_size == size, path
            with Image.open(media / thumb) as image:
                image.verify()
        # Files no row names: only from intakes killed before their commit.
        files = {str(p.relative_to(media)) for p in (media / "cases").rglob("*") if p.is_file()}
        orphans = sorted(files - named)
        assert named <= files
        orphan_cases = {int(Path(o).parts[1]) for o in orphans}
        assert not orphan_cases & set(stored.values()), orphan_cases & set(stored.values())
        assert len(orphan_cases) <= killed  # a kill stops one intake at most
        assert all(sum(1 for o in orphans if Path(o).parts[1] == str(case)) <= 2 * PHOTOS
                   for case in orphan_cases)
        existing = sum(1 for status in statuses if status == 200)
        print(f"\n{killed} workers killed, {load.interrupted} requests interrupted, "
              f"{len(stored)} cases ({existing} committed before the kill answered them), "
              f"{len(orphans)} orphan files in {len(orphan_cases)} folders")

        # Doctor: young orphans may belong to an intake in flight, so none is reported yet.
        status, output = _doctor(env, tmp_path)
        assert (status, _listed(output, "orphan files (no row names them)")) == (0, (0, [])), output
        assert _listed(output, "photo rows with a missing file") == (0, [])
        assert _listed(output, "cases without any event") == (0, [])
        past = time.time() - GRACE_S - 60  # after the grace period: every file is old
        for path in files:
            os.utime(media / path, (past, past))
        status, output = _doctor(env, tmp_path)
        assert status == (1 if orphans else 0), output
        assert _listed(output, "orphan files (no row names them)") == (len(orphans), orphans[:20])
        assert _listed(output, "photo rows with a missing file") == (0, [])
        assert _listed(output, "cases without any event") == (0, [])

        status, output = _doctor(env, tmp_path, "--clean")
        assert status == 0, output
        if orphans:
            assert f"cleaned: {len(orphans)} orphan files removed, 0 photo rows deleted" in output
        assert "cases and photo files agree" in output
        left = {str(p.relative_to(media)) for p in (media / "cases").rglob("*") if p.is_file()}
        assert left == named
        status, output = _doctor(env, tmp_path)
        assert status == 0 and "cases and photo files agree" in output, output
        assert _listed(output, "orphan files (no row names them)") == (0, [])
    finally:
        engine.dispose()

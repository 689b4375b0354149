"""Jobs in a real worker: a coverage compute runs to the end, a cancel stops it with nothing
stored, a worker killed in the middle of storing leaves the previous run current, and the job
it held is failed as interrupted, not left "running" for ever.

The jobs are committed (the worker reads through its own connections); each test puts the
rule's runs back as they were.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, text

from gridmap.access import Principal, Role
from gridmap.coverage.services import jobs as coverage_jobs
from gridmap.db import make_session_factory
from gridmap.jobs.services import jobs, runner

TYPE, CIRCLE = "pocket_park", "5min"
ADMIN = Principal(role=Role.ADMIN, username="test-admin")
TIMEOUT_S = 60


@pytest.fixture
def runs(engine: Engine) -> Iterator[Callable[[], list[tuple[int, bool]]]]:
    """The rule's runs (id, current), put back as they were after the test."""

    def now() -> list[tuple[int, bool]]:
        with engine.connect() as conn:
            return [(int(i), bool(c)) for i, c in conn.execute(text(
                "SELECT id, current FROM coverage_run WHERE facility_type = :t AND circle = :c "
                "ORDER BY id"), {"t": TYPE, "c": CIRCLE})]

    before = now()
    yield now
    with engine.begin() as conn:
        kept = [i for i, _ in before] or [0]
        conn.execute(text("DELETE FROM coverage_run WHERE facility_type = :t AND circle = :c "
                          "AND id <> ALL(:kept)"), {"t": TYPE, "c": CIRCLE, "kept": kept})
        for run_id, current in before:
            conn.execute(text("UPDATE coverage_run SET current = :c WHERE id = :i"),
                         {"c": current, "i": run_id})


def _job(engine: Engine, job_id: int) -> dict[str, Any]:
    with engine.connect() as conn:
        return dict(conn.execute(text("SELECT * FROM job WHERE id = :i"),
                                 {"i": job_id}).mappings().one())


def _wait(engine: Engine, job_id: int, until: Callable[[dict[str, Any]], bool],
          worker_log: Any = None) -> dict[str, Any]:
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        row = _job(engine, job_id)
        if until(row):
            return row
        time.sleep(0.05)
    log = worker_log.read_text() if worker_log is not None else ""
    pytest.fail(f"job {job_id} stuck at {_job(engine, job_id)}\n{log}")


def _blocked_backend(conn: Connection, statement: str) -> int | None:
    """The pid of a backend waiting for a lock while running ``statement``, if any."""
    pid = conn.execute(text(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
        "AND wait_event_type = 'Lock' AND query LIKE :q"), {"q": f"%{statement}%"}).scalar()
    return int(pid) if pid is not None else None


def test_a_compute_runs_in_the_worker_with_progress_and_becomes_current(
        engine: Engine, job_worker: Any, runs: Callable[[], list[tuple[int, bool]]]) -> None:
    factory = make_session_factory(engine)
    job, created = coverage_jobs.start_compute(factory, ADMIN, TYPE, CIRCLE,
                                               request_id="req-test-1234567")
    assert created
    seen = set()
    deadline = time.monotonic() + TIMEOUT_S
    while not (row := _job(engine, job["id"]))["finished_at"] and time.monotonic() < deadline:
        seen.add(row["progress_text"])
        time.sleep(0.02)
    assert row["state"] == "succeeded", (row, job_worker.log.read_text())
    assert row["progress"] == 1.0 and row["error"] is None
    result = row["result"]
    assert (result["facility_type"], result["circle"]) == (TYPE, CIRCLE)
    assert result["buildings"] > 1000 and 0 <= result["residents_rate"] <= 1
    assert runs()[-1] == (result["run_id"], True)
    assert [r for r in runs() if r[1]] == [(result["run_id"], True)]
    assert any("最短路径" in line or "保存结果" in line for line in seen), seen
    # The worker logged the job under the id of the request that started it.
    assert "req-test-1234567" in job_worker.log.read_text()


def test_a_cancel_stops_the_compute_at_its_next_step_with_nothing_stored(
        engine: Engine, owner_engine: Engine,
        runs: Callable[[], list[tuple[int, bool]]]) -> None:
    """In-process run (the worker's code path) held at its first read by a lock on the streets,
    cancelled meanwhile: the next step raises, the compute's transaction rolls back."""
    factory = make_session_factory(engine)
    before = runs()
    job, _ = coverage_jobs.start_compute(factory, ADMIN, TYPE, CIRCLE)
    with owner_engine.connect() as holder:
        holder.execute(text("LOCK TABLE street_node IN ACCESS EXCLUSIVE MODE"))
        thread = threading.Thread(target=runner.run,
                                  args=(factory, coverage_jobs.HANDLERS, job["id"]))
        thread.start()
        with engine.connect() as watcher:
            deadline = time.monotonic() + TIMEOUT_S
            while _blocked_backend(watcher, "street_node") is None:
                assert time.monotonic() < deadline, "the compute never reached the streets"
                time.sleep(0.05)
                watcher.rollback()
        assert _job(engine, job["id"])["state"] == "running"
        assert jobs.cancel(factory, ADMIN, job["id"])["cancel_requested"] is True
        holder.rollback()
    thread.join(TIMEOUT_S)
    row = _job(engine, job["id"])
    assert (row["state"], row["error"], row["result"]) == ("cancelled", None, None)
    assert runs() == before


def test_a_worker_killed_while_storing_leaves_the_previous_run_and_fails_the_job(
        engine: Engine, owner_engine: Engine, job_worker: Any,
        runs: Callable[[], list[tuple[int, bool]]]) -> None:
    """The worker is held after writing the new run and its buildings (uncommitted), at the
    per-area totals, and killed there with SIGKILL."""
    factory = make_session_factory(engine)
    first, _ = coverage_jobs.start_compute(factory, ADMIN, TYPE, CIRCLE)
    previous = _wait(engine, first["id"], lambda r: r["finished_at"] is not None,
                     job_worker.log)["result"]["run_id"]
    before = runs()
    assert (previous, True) in before
    job, _ = coverage_jobs.start_compute(factory, ADMIN, TYPE, CIRCLE)
    with owner_engine.connect() as holder:
        holder.execute(text("LOCK TABLE coverage_area IN SHARE MODE"))
        with engine.connect() as watcher:
            deadline = time.monotonic() + TIMEOUT_S
            while (backend := _blocked_backend(watcher, "INSERT INTO coverage_area")) is None:
                assert time.monotonic() < deadline, job_worker.log.read_text()
                time.sleep(0.05)
                watcher.rollback()
        os.kill(job_worker.process.pid, signal.SIGKILL)
        job_worker.process.wait()
        holder.rollback()
    # The killed worker's session ends when PostgreSQL finds its client gone: rolled back.
    with engine.connect() as watcher:
        deadline = time.monotonic() + TIMEOUT_S
        while watcher.execute(text("SELECT 1 FROM pg_stat_activity WHERE pid = :p"),
                              {"p": backend}).first():
            assert time.monotonic() < deadline
            time.sleep(0.05)
            watcher.rollback()
    assert runs() == before
    with engine.connect() as conn:
        orphans = conn.execute(text("SELECT count(*) FROM coverage_building b WHERE NOT EXISTS "
                                    "(SELECT 1 FROM coverage_run r WHERE r.id = b.run_id)"))
        assert orphans.scalar_one() == 0
    assert _job(engine, job["id"])["state"] == "running"  # nobody has noticed yet
    # A minute of silence later, any worker's periodic check fails it, saying why.
    assert runner.fail_stalled(factory, stale_s=3600) == []
    assert job["id"] in runner.fail_stalled(factory, stale_s=0)
    row = _job(engine, job["id"])
    assert row["state"] == "failed" and row["error"] == runner.INTERRUPTED
    # And the rule may be computed again at once.
    again, created = coverage_jobs.start_compute(factory, ADMIN, TYPE, CIRCLE)
    assert created and again["id"] != job["id"]
    jobs.cancel(factory, ADMIN, again["id"])


def test_a_failing_job_records_its_error_and_the_worker_goes_on(
        engine: Engine, job_worker: Any) -> None:
    factory = make_session_factory(engine)
    bad = jobs.start(factory, ADMIN, jobs.Spec("coverage.compute", {
        "facility_type": "no_such_type", "circle": CIRCLE}))[0]
    unknown = jobs.start(factory, ADMIN, jobs.Spec("no.such.kind", {}))[0]
    failed = _wait(engine, bad["id"], lambda r: r["finished_at"] is not None, job_worker.log)
    assert failed["state"] == "failed" and "no coverage rule" in failed["error"]
    other = _wait(engine, unknown["id"], lambda r: r["finished_at"] is not None, job_worker.log)
    assert other["state"] == "failed" and "unknown job kind" in other["error"]
    assert job_worker.process.poll() is None


@pytest.fixture
def planner(engine: Engine) -> Iterator[Principal]:
    """A committed planner account of the test district, removed afterwards."""
    from gridmap.accounts.services import accounts

    made = accounts.create(make_session_factory(engine), Principal(username="test"),
                           accounts.NewAccount(username=f"jobs-planner-{os.getpid()}",
                                               role="planner", name="测试规划",
                                               area_code="210103"))
    yield Principal(role=Role.PLANNER, username=made["username"], account_id=made["id"],
                    person_id=made["person_id"], area_code="210103")
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM account WHERE id = :a"), {"a": made["id"]})
        conn.execute(text("DELETE FROM person WHERE id = :p"), {"p": made["person_id"]})


def test_a_siting_job_answers_what_the_request_would(engine: Engine,
                                                     planner: Principal) -> None:
    """The job's result is the siting answer computed in a request, for the same inputs."""
    from gridmap.coverage.services import siting

    factory = make_session_factory(engine)
    job = coverage_jobs.start_siting(factory, planner, facility_type="elder_care_station",
                                     circle="15min", area="210103", k=3, max_candidates=500,
                                     candidates=None)
    runner.run(factory, coverage_jobs.HANDLERS, job["id"])
    row = _job(engine, job["id"])
    assert row["state"] == "succeeded", row["error"]
    with factory() as session:
        direct = siting.siting_answer(siting.site(
            session, planner, "elder_care_station", "15min", area_code="210103", k=3,
            max_candidates=500))
    strip = ("seconds",)
    assert {k: v for k, v in row["result"].items() if k not in strip} == \
        {k: v for k, v in direct.items() if k not in strip}
    assert len(row["result"]["sites"]) == 3

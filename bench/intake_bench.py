"""Case intake over HTTP with 50 concurrent clients: throughput, latency, nothing lost or doubled.

Usage (after `make setup`):  .venv/bin/python bench/intake_bench.py [--seconds 20] [--workers 4]
                             [--restart-at 10]   (restart PostgreSQL in the middle)
gunicorn (sync workers) on the city-scale benchmark database (see locate_bench.py); 50 client
threads on loopback, each with a keep-alive connection, POST cases at points well inside grids
for a fixed time and record every answer. Double submits are part of the load: every 10th
request re-sends the previous token right after its answer, and every 10th request is sent by
two clients at the same moment with the same token. Afterwards: every acknowledged case is in
the database (zero lost) and no token has more than one case (zero doubled).

The clients report as one district command centre (who may file anywhere in its district, so
paired clients at different points may share a client token), authenticated with a personal API
token made in the setup through the accounts services, as a script would be.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path
from urllib.parse import quote

import psycopg
from sqlalchemy import create_engine
from sqlalchemy.orm import sessionmaker

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.locate_bench import ensure_bench_db  # noqa: E402
from bench.server import gunicorn  # noqa: E402
from gridmap.access import Principal, Role  # noqa: E402
from gridmap.accounts.services import accounts, tokens  # noqa: E402
from gridmap.config import Settings  # noqa: E402


def busiest_district(url: str) -> str:
    """The district with the most grids: the one the bench's account reports in."""
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT left(code, 6) FROM grid GROUP BY 1 ORDER BY count(*) DESC, 1 "
                           "LIMIT 1").fetchone()
    assert row is not None, "the bench database has no grids"
    return str(row[0])


def bodies(url: str, district: str) -> list[str]:
    """Form bodies at points inside the district's grids with no other grid within 30 m."""
    with psycopg.connect(url) as conn:
        rows = conn.execute("""
            SELECT g.code, ST_X(g.p), ST_Y(g.p)
            FROM (SELECT code, ST_PointOnSurface(geom) AS p FROM grid
                  TABLESAMPLE SYSTEM (50) WHERE code LIKE %s) g
            WHERE NOT EXISTS (SELECT 1 FROM grid o WHERE o.code <> g.code
                              AND ST_DWithin(o.geom::geography, g.p::geography, 30))
            LIMIT 500""", (district + "%",)).fetchall()
    description = quote("楼道灯不亮，晚上上下楼很不方便，请尽快维修")
    return [f"category=stairwell_lighting&channel=grid_patrol"
            f"&description={description}&lon={lon:.7f}&lat={lat:.7f}&grid_code={code}"
            "&confirm_new=1" for code, lon, lat in rows]


def bench_token(url: str, district: str, run: str) -> str:
    """A new district-centre account for ``district`` and a personal API token of it (the
    secret), made through the accounts services as an administrator's script would."""
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    factory = sessionmaker(engine, expire_on_commit=False)
    setup = Principal(username="intake-bench")
    made = accounts.create(factory, setup, accounts.NewAccount(
        username=f"intake-bench-{run}", role=Role.DISTRICT_CENTRE.value, name="压测指挥中心",
        area_code=district))
    owner = Principal(account_id=made["id"], person_id=made["person_id"],
                      role=Role.DISTRICT_CENTRE, area_code=district, username=made["username"])
    secret = str(tokens.issue_token(factory, owner, "intake bench")["token"])
    engine.dispose()
    return secret


def restart_database(after_s: float) -> None:
    """Restart the project's PostgreSQL (fast shutdown: open transactions roll back)."""
    time.sleep(after_s)
    script = str(ROOT / "scripts" / "devdb.sh")
    t0 = time.monotonic()
    subprocess.run([script, "stop"], check=True, capture_output=True)
    subprocess.run([script, "start"], check=True, capture_output=True)
    print(f"PostgreSQL restarted at {after_s:.0f} s, down for {time.monotonic() - t0:.1f} s",
          flush=True)


def client(base: str, bodies_: list[str], run: str, index: int, until: float,
           partner: threading.Barrier | None, log: list[tuple[str, int, int | None, float]],
           api_token: str) -> None:
    """One client: POST until ``until``; log (token, status, case id, seconds) per answer."""
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    n, last = 0, ""
    while time.monotonic() < until:
        n += 1
        shared = n % 10 == 5 and partner is not None
        token = f"{run}-pair{index % 25}-{n}" if shared else f"{run}-{index}-{n}"
        if n % 10 == 0 and last:
            token = last
        last = token
        body = bodies_[(n * 7 + index) % len(bodies_)] + "&client_token=" + token
        if shared:
            try:
                partner.wait(timeout=5)  # the pair sends the same token together
            except threading.BrokenBarrierError:
                shared = False
        t0 = time.perf_counter()
        conn.request("POST", "/api/cases", body,
                     {"Content-Type": "application/x-www-form-urlencoded",
                      "Authorization": f"Bearer {api_token}"})
        response = conn.getresponse()
        data = json.loads(response.read() or b"{}")
        if response.status == 503 and not response.getheader("Retry-After"):
            raise SystemExit("a 503 without Retry-After")
        log.append((token, response.status, data.get("case_id"), time.perf_counter() - t0))
    conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--scale", choices=["city", "districts"], default="city",
                        help="Demo scale of the benchmark database (districts: quicker to build).")
    parser.add_argument("--restart-at", type=float, default=None, metavar="SECONDS",
                        help="Restart PostgreSQL (scripts/devdb.sh stop + start, i.e. pg_ctl "
                             "-m fast) this many seconds into the run.")
    args = parser.parse_args()
    url = ensure_bench_db(Settings.from_env().database_url, args.scale)
    run = uuid.uuid4().hex[:8]
    tmp = Path(tempfile.mkdtemp())
    district = busiest_district(url)
    bodies_ = bodies(url, district)
    token = bench_token(url, district, run)
    # 50 clients from one address: the per-address intake budget would answer nearly all with
    # 429; this measures intake itself (the limiter has tests of its own).
    env = {**os.environ, "GRIDMAP_DATABASE_URL": url, "GRIDMAP_MEDIA_DIR": str(tmp / "media"),
           "GRIDMAP_RATELIMIT_INTAKE": "1000000/minute",
           "GRIDMAP_RATELIMIT_KEY_PREFIX": f"bench-{run}"}
    log: list[tuple[str, int, int | None, float]] = []
    barriers = [threading.Barrier(2) for _ in range(args.clients // 2)]
    with gunicorn(5092, env, workers=args.workers) as base:
        until = time.monotonic() + args.seconds
        threads = [threading.Thread(target=client, args=(
            base, bodies_, run, i, until, barriers[i % len(barriers)], log, token))
            for i in range(args.clients)]
        started = time.monotonic()
        if args.restart_at is not None:
            threads.append(threading.Thread(target=restart_database, args=(args.restart_at,)))
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - started
    with psycopg.connect(url) as conn:
        stored = dict(conn.execute(
            'SELECT client_token, count(*) FROM "case" WHERE client_token LIKE %s '
            "GROUP BY 1", (run + "-%",)).fetchall())
    acked = {token: case for token, status, case, _ in log if status in (200, 201)}
    lost = [t for t in acked if t not in stored]
    doubled = sum(n - 1 for n in stored.values())
    mismatched = sum(1 for token, status, case, _ in log
                     if status in (200, 201) and case != acked[token])
    statuses: dict[int, int] = {}
    for _, status, _, _ in log:
        statuses[status] = statuses.get(status, 0) + 1
    ms = sorted(1000 * s for *_, s in log)
    print(f"{args.clients} clients, {args.seconds} s, gunicorn {args.workers} sync workers, "
          f"{args.scale} scale, {len(log)} requests")
    print(f"requests/s {len(log) / elapsed:.0f}; latency ms p50 {ms[len(ms) // 2]:.1f}, "
          f"p95 {ms[int(len(ms) * 0.95)]:.1f}, p99 {ms[int(len(ms) * 0.99)]:.1f}")
    print(f"answers by status: {dict(sorted(statuses.items()))}")
    print(f"tokens acknowledged {len(acked)}, cases stored {sum(stored.values())}: "
          f"lost {len(lost)}, doubled {doubled}, same token answered with another case "
          f"{mismatched}")
    errors = {s: n for s, n in statuses.items() if s >= 500 and s != 503}
    if lost or doubled or mismatched or errors:
        raise SystemExit(f"FAILED: lost {len(lost)}, doubled {doubled}, errors {errors}")


if __name__ == "__main__":
    main()

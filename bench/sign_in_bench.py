"""Sign-in under 50 concurrent users: do board requests starve while passwords are hashed?

Usage (after `make setup`):  .venv/bin/python bench/sign_in_bench.py [--seconds 20]
gunicorn as `gridmap serve` runs it (one sync worker per CPU) on the city-scale benchmark
database (see locate_bench.py). Four readers page a district centre's case board with a
personal token: alone; while 50 people sign in through the real form over and over (GET /login
for the form's CSRF token and cookie, 1–3 s to type, POST the name and password — a 302 is a
success — then 3–6 s of work before signing in again: fifty people in the middle of signing in at
any moment, about seven sign-ins a second); and, as a stress case, while 50 scripts do the same
with no pause at all (a flood no group of people makes; the per-address limit stops it in
production, switched off here). Each user comes from an address of their own (X-Forwarded-For
behind one trusted proxy) and the sign-in budget is raised, so no POST becomes a cheap 429:
every one costs a real argon2id verification. Also prints the argon2 parameters and the time per hash.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import re
import statistics
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.locate_bench import ensure_bench_db  # noqa: E402
from bench.server import gunicorn  # noqa: E402
from gridmap.access import Principal  # noqa: E402
from gridmap.accounts import credentials  # noqa: E402
from gridmap.accounts.services import accounts, principals, tokens  # noqa: E402
from gridmap.config import Settings  # noqa: E402
from gridmap.db import make_engine, make_session_factory  # noqa: E402

USERS = 50
READERS = 4
PASSWORD = "bench-Sign-in-2026"
_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


def _existing(factory: sessionmaker[Session], names: list[str]) -> set[str]:
    with factory() as session:
        return set(session.execute(text("SELECT username FROM account WHERE username = ANY(:n)"),
                                   {"n": names}).scalars())


def setup(settings: Settings) -> tuple[list[str], str]:
    """The 50 users' names (made once) and a district centre's token (new each run)."""
    factory = make_session_factory(make_engine(settings))
    who = Principal(username="bench")
    names = [f"bench-user-{i:02d}" for i in range(USERS)]
    have = _existing(factory, [*names, "bench-centre"])
    for name in names:
        if name not in have:
            accounts.create(factory, who, accounts.NewAccount(
                username=name, role="grid_worker", name=name, password=PASSWORD))
    if "bench-centre" not in have:
        accounts.create(factory, who, accounts.NewAccount(
            username="bench-centre", role="district_centre", name="基准指挥中心",
            area_code="210103", password=PASSWORD))
    with factory() as session:
        account_id = session.execute(text(
            "SELECT id FROM account WHERE username = 'bench-centre'")).scalar_one()
        found = principals.load(session, account_id, address=None)
    assert found is not None
    token = tokens.issue_token(factory, found.principal, "sign-in bench")["token"]
    return names, str(token)


def reader(base: str, token: str, until: float, out: list[float]) -> None:
    """Page the board's first page until ``until``; milliseconds per answer."""
    host, port = base.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=60)
    while time.monotonic() < until:
        t0 = time.perf_counter()
        conn.request("GET", "/api/cases?limit=50", headers={"Authorization": f"Bearer {token}"})
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            raise SystemExit(f"board answered {response.status}")
        out.append((time.perf_counter() - t0) * 1000)


def signer(base: str, name: str, address: str, until: float, out: list[float],
           statuses: dict[int, int], think: bool) -> None:
    """Sign in through the form, again and again, as one user from one address; with ``think``
    as a person does (1–3 s to type after the form arrives, 3–6 s of work before the next)."""
    host, port = base.removeprefix("http://").split(":")
    pause = random.Random(name)
    while time.monotonic() < until:
        conn = http.client.HTTPConnection(host, int(port), timeout=60)
        headers = {"X-Forwarded-For": address}
        t0 = time.perf_counter()
        conn.request("GET", "/login", headers=headers)
        page = conn.getresponse()
        html = page.read().decode()
        cookie = page.getheader("Set-Cookie", "").split(";")[0]
        found = _CSRF.search(html)
        if not found:
            raise SystemExit("no CSRF token on /login")
        typing = pause.uniform(1, 3) if think else 0.0
        time.sleep(typing)
        body = urlencode({"username": name, "password": PASSWORD, "csrf_token": found.group(1)})
        if think:  # the server closed the idle keep-alive connection meanwhile, as it would
            conn.close()
            conn = http.client.HTTPConnection(host, int(port), timeout=60)
        conn.request("POST", "/login", body=body, headers={
            **headers, "Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})
        answer = conn.getresponse()
        answer.read()
        out.append((time.perf_counter() - t0 - typing) * 1000)
        statuses[answer.status] = statuses.get(answer.status, 0) + 1
        conn.close()
        if think:
            time.sleep(pause.uniform(3, 6))


def run(base: str, token: str, names: list[str], seconds: float, *, signing: bool,
        think: bool = True) -> tuple[list[float], list[float], dict[int, int]]:
    """Readers (and signers) for ``seconds``: board ms, sign-in ms, sign-in statuses."""
    until = time.monotonic() + seconds
    board: list[float] = []
    sign: list[float] = []
    statuses: dict[int, int] = {}
    threads = [threading.Thread(target=reader, args=(base, token, until, board))
               for _ in range(READERS)]
    if signing:
        threads += [threading.Thread(target=signer, args=(
            base, name, f"10.8.{i // 250}.{i % 250 + 1}", until, sign, statuses, think))
            for i, name in enumerate(names)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return board, sign, statuses


def pct(values: list[float], q: int) -> float:
    """The q-th percentile."""
    return statistics.quantiles(values, n=100)[q - 1] if len(values) > 1 else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--port", type=int, default=5098)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 4],
                        help="Threads per worker to compare (1 = sync workers).")
    args = parser.parse_args()
    url = ensure_bench_db(Settings.from_env().database_url, "city")
    base_env = dict(os.environ)
    settings = Settings.from_env({**base_env, "GRIDMAP_DATABASE_URL": url})
    names, token = setup(settings)
    hashes = []
    for _ in range(20):
        t0 = time.perf_counter()
        credentials.hash_password(PASSWORD)
        hashes.append((time.perf_counter() - t0) * 1000)
    env = {**base_env, "GRIDMAP_DATABASE_URL": url, "GRIDMAP_TRUSTED_PROXIES": "1",
           "GRIDMAP_RATELIMIT_SIGN_IN": "100000/minute",
           "GRIDMAP_RATELIMIT_KEY_PREFIX": f"bench-{time.time_ns()}"}
    print(f"argon2id m={credentials.MEMORY_KIB} KiB t={credentials.TIME_COST} "
          f"p={credentials.PARALLELISM}: hash p50 {statistics.median(hashes):.1f} ms "
          f"(max {max(hashes):.1f} ms, {len(hashes)} hashes)")
    print(f"{READERS} board readers; {USERS} users signing in over and over; "
          f"{args.seconds:.0f} s per phase; gunicorn {args.workers} workers")
    print("| workers | phase | board requests | board p50 ms | board p95 ms | sign-ins "
          "| sign-in p50 ms | sign-in p95 ms |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    ratios = []
    for threads in args.threads:
        with gunicorn(args.port, env, workers=args.workers, threads=threads) as base:
            alone, _, _ = run(base, token, names, args.seconds, signing=False)
            busy, sign, statuses = run(base, token, names, args.seconds, signing=True)
            flood, flood_sign, _ = run(base, token, names, args.seconds, signing=True,
                                       think=False)
            again, _, _ = run(base, token, names, args.seconds, signing=False)
        kind = "sync" if threads == 1 else f"{threads} threads each"
        for label, board, signs in (("board alone", alone, []),
                                    ("board + 50 people signing in", busy, sign),
                                    ("board + 50 scripts signing in, no pause", flood, flood_sign),
                                    ("board alone again", again, [])):
            cells = [f"{len(signs)}", f"{statistics.median(signs):.0f}",
                     f"{pct(signs, 95):.0f}"] if signs else ["", "", ""]
            print(f"| {kind} | {label} | {len(board)} | {statistics.median(board):.1f} | "
                  f"{pct(board, 95):.1f} | " + " | ".join(cells) + " |")
        ratios.append(f"{kind}: {pct(busy, 95) / pct(alone, 95):.2f}x "
                      f"(sign-in answers {statuses})")
    print("board p95 while signing in / alone: " + "; ".join(ratios))


if __name__ == "__main__":
    main()

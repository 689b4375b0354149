"""The cost of tagging every SQL statement with the request id (``/* request_id=… */``).

Usage (after `make setup`):  .venv/bin/python bench/sql_comment_bench.py [--rounds 3] [-n 200]
                             [--existing]

A tagged statement's text differs per request, so psycopg never prepares it (it prepares a
statement after five runs of the same text on a connection): PostgreSQL parses and plans it every
time. This measures what that costs on the pages' heaviest SQLAlchemy reads, in-process (the
Flask test client, one thread, no network), on the city-scale benchmark database
(see locate_bench.py): the case board of a district centre, one case, the coverage runs and the
GB 50180 audit of a community. Two apps on the same database, one with the tagging and one
without, alternate request by request; the figure is the median time per request and the ratio.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

import psycopg
from sqlalchemy import create_engine, event
from sqlalchemy.orm import sessionmaker

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench.locate_bench import ensure_bench_db  # noqa: E402
from gridmap.access import Principal, Role  # noqa: E402
from gridmap.accounts.services import accounts, tokens  # noqa: E402
from gridmap.app import create_app  # noqa: E402
from gridmap.config import Settings  # noqa: E402
from gridmap.web.request_log import tag_statement  # noqa: E402


def _token(url: str, role: Role, area: str) -> str:
    engine = create_engine(Settings(database_url=url, secret_key="b").sqlalchemy_url)
    factory = sessionmaker(engine, expire_on_commit=False)
    made = accounts.create(factory, Principal(role=Role.ADMIN, username="bench"),
                           accounts.NewAccount(username=f"sqlc-{role.value}-{uuid.uuid4().hex[:6]}",
                                               role=role.value, name="压测", area_code=area))
    owner = Principal(account_id=made["id"], person_id=made["person_id"], role=role,
                      area_code=area, username=made["username"])
    secret = str(tokens.issue_token(factory, owner, "sql comment bench")["token"])
    engine.dispose()
    return secret


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("-n", type=int, default=200, help="requests per endpoint per round")
    parser.add_argument("--existing", action="store_true",
                        help="use GRIDMAP_DATABASE_URL as it is (an already loaded database)")
    args = parser.parse_args()
    url = os.environ["GRIDMAP_DATABASE_URL"]
    if not args.existing:
        url = ensure_bench_db(url, "city")
    with psycopg.connect(url) as conn:
        district, community = conn.execute(
            "SELECT left(code, 6), left(code, 12) FROM grid GROUP BY 1, 2 "
            "ORDER BY count(*) DESC LIMIT 1").fetchone() or ("", "")
        case = conn.execute('SELECT id FROM "case" WHERE district_code = %s ORDER BY id DESC '
                            "LIMIT 1", (district,)).fetchone()
    centre = {"Authorization": "Bearer " + _token(url, Role.DISTRICT_CENTRE, district)}
    planner = {"Authorization": "Bearer " + _token(url, Role.PLANNER, district)}
    paths = [("board", "/api/cases?limit=50", centre),
             ("audit", f"/api/coverage/audit?level=grid&area={community}", planner),
             ("runs", "/api/coverage/runs", planner)]
    if case:
        paths.insert(1, ("case", f"/api/cases/{case[0]}", centre))
    settings = Settings.from_env({**os.environ, "GRIDMAP_DATABASE_URL": url,
                                  "GRIDMAP_RATELIMIT_STORAGE_URL": "memory://",
                                  "GRIDMAP_RATELIMIT_CASE_ACTIONS": "100000/second"})
    tagged = create_app(settings)
    plain = create_app(settings)
    event.remove(plain.extensions["gridmap.engine"], "before_cursor_execute", tag_statement)
    clients = {"tagged": tagged.test_client(), "plain": plain.test_client()}
    for _name, path, headers in paths:  # warm both: connections, caches, first preparations
        for client in clients.values():
            for _ in range(10):
                client.get(path, headers=headers)
    times: dict[tuple[str, str], list[float]] = {}
    for _ in range(args.rounds):
        for name, path, headers in paths:
            for i in range(args.n):  # alternate one request each, the first in turn
                order = ("tagged", "plain") if i % 2 else ("plain", "tagged")
                for label in order:
                    start = time.perf_counter()
                    answer = clients[label].get(path, headers=headers)
                    times.setdefault((name, label), []).append(time.perf_counter() - start)
                    assert answer.status_code == 200, (path, answer.get_data()[:200])
    print(f"sql comment bench: {args.rounds} rounds x {args.n} requests per endpoint, in-process")
    print("| request | untagged ms (median) | tagged ms (median) | tagged / untagged |")
    print("|---|---:|---:|---:|")
    for name, _, _ in paths:
        plain_ms = statistics.median(times[(name, "plain")]) * 1000
        tagged_ms = statistics.median(times[(name, "tagged")]) * 1000
        print(f"| {name} | {plain_ms:.2f} | {tagged_ms:.2f} | {tagged_ms / plain_ms:.3f} |")


if __name__ == "__main__":
    main()

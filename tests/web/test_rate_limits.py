"""Rate limits: 429 in each API's own format, counters shared through Redis, one budget per
client address, and the app keeps serving when Redis is down.

The apps here are built with tiny budgets and a key prefix of their own; the requests are
malformed or refused on purpose (answered 400 or 403), because a request counts against its
budget whatever its answer. They carry a planner's personal token (committed for this module):
an anonymous POST is refused by the CSRF check before any view, so it would never be counted,
and a planner reaches every limited view but may not file a case (403 after counting).
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest
import redis
from flask import Flask
from flask_limiter import Limiter
from limits.storage import MemoryStorage, RedisStorage
from sqlalchemy import Engine, text

from gridmap.accounts import credentials
from gridmap.app import create_app
from gridmap.config import RateLimits, Settings
from gridmap.errors import RateLimited

TINY = {"intake": "2/minute", "case_actions": "2/minute", "open311": "1/minute",
        "planning": "2/minute"}


@pytest.fixture(scope="module")
def redis_url() -> str:
    """The Redis `make` starts; unreachable is a failure, as a missing database is (never a skip)."""
    url = os.environ.get("GRIDMAP_RATELIMIT_STORAGE_URL", "")
    problem = "" if url.startswith("redis://") else "GRIDMAP_RATELIMIT_STORAGE_URL is not a redis:// URL"
    if not problem:
        try:
            redis.Redis.from_url(url, socket_connect_timeout=2).ping()
        except redis.RedisError as exc:
            problem = f"cannot reach the rate-limit Redis at {url}: {exc}"
    if problem:
        pytest.fail(problem + " (run the suite with `make test`, which starts it)")
    return url


@pytest.fixture
def make_app(settings: Settings) -> Iterator[Callable[..., Flask]]:
    """Build apps (as separate workers would be) with tiny budgets; closed after the test."""
    built: list[Flask] = []

    def build(storage_url: str, prefix: str | None = None, trusted_proxies: int = 0) -> Flask:
        rates = RateLimits(storage_url=storage_url, key_prefix=prefix or uuid.uuid4().hex, **TINY)
        app = create_app(replace(settings, rate_limits=rates, trusted_proxies=trusted_proxies))
        app.config["TESTING"] = True
        built.append(app)
        return app

    yield build
    for app in built:
        app.extensions["gridmap.read_pool"].close()
        app.extensions["gridmap.engine"].dispose()


@pytest.fixture(scope="module")
def bearer(engine: Engine) -> Iterator[dict[str, str]]:
    """A planner's personal token, committed (the apps here open connections of their own)."""
    secret, digest, prefix = credentials.new_secret("gmt")
    with engine.begin() as conn:
        person = conn.execute(text("INSERT INTO person (name, role) VALUES ('限流测试', 'staff') "
                                   "RETURNING id")).scalar_one()
        account = conn.execute(text(
            "INSERT INTO account (username, person_id, role, password_hash, must_change_password)"
            " VALUES (:u, :p, 'planner', 'x', false) RETURNING id"),
            {"u": f"limits-{uuid.uuid4().hex[:10]}", "p": person}).scalar_one()
        conn.execute(text("INSERT INTO api_token (account_id, name, digest, prefix) "
                          "VALUES (:a, 'limits', :d, :p)"), {"a": account, "d": digest, "p": prefix})
    yield {"Authorization": f"Bearer {secret}"}
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM api_token WHERE account_id = :a"), {"a": account})
        conn.execute(text("DELETE FROM account WHERE id = :a"), {"a": account})
        conn.execute(text("DELETE FROM person WHERE id = :p"), {"p": person})


def _limiter(app: Flask) -> Limiter:
    limiter: Limiter = app.extensions["gridmap.limiter"]
    return limiter


@pytest.fixture
def post_case(bearer: dict[str, str]) -> Callable[..., int]:
    """POST an (empty) case to ``app`` from ``addr`` with the planner's token; its status."""
    def post(app: Flask, addr: str = "192.0.2.1", **headers: str) -> int:
        return app.test_client().post("/api/cases", data={}, headers={**bearer, **headers},
                                      environ_base={"REMOTE_ADDR": addr}).status_code

    return post


def test_the_store_make_starts_is_reachable(redis_url: str, make_app) -> None:
    app = make_app(redis_url)
    assert isinstance(_limiter(app).storage, RedisStorage)
    assert _limiter(app).storage.check()


def test_intake_over_the_limit_is_429_with_retry_after_and_both_languages(redis_url, make_app,
                                                                          bearer) -> None:
    client = make_app(redis_url).test_client()
    assert [client.post("/api/cases", data={}, headers=bearer).status_code
            for _ in range(2)] == [403, 403]
    answer = client.post("/api/cases", data={}, headers=bearer)
    assert answer.status_code == 429
    assert answer.get_json() == {"error": {"code": "rate_limited", "message": RateLimited.MESSAGE}}
    assert "请求过于频繁" in RateLimited.MESSAGE and "too many requests" in RateLimited.MESSAGE
    assert 0 < int(answer.headers["Retry-After"]) <= 60
    assert "Traceback" not in answer.get_data(as_text=True)


def test_case_actions_have_their_own_budget(redis_url, make_app, bearer) -> None:
    client = make_app(redis_url).test_client()
    assert [client.post("/api/cases/1/actions", data={}, headers=bearer).status_code
            for _ in range(3)] == [403, 403, 429]  # a planner works no case
    assert client.post("/api/cases", data={}, headers=bearer).status_code == 403  # own budget


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_open311_answers_429_in_its_own_format(redis_url, make_app, fmt: str) -> None:
    client = make_app(redis_url).test_client()
    assert client.post(f"/open311/v2/requests.{fmt}", data={}).status_code == 403  # no api_key
    answer = client.post(f"/open311/v2/requests.{fmt}", data={})
    assert answer.status_code == 429 and int(answer.headers["Retry-After"]) > 0
    if fmt == "json":
        assert answer.get_json() == [{"code": 429, "description": RateLimited.MESSAGE}]
    else:
        body = answer.get_data(as_text=True)
        assert answer.mimetype == "text/xml" and "<errors><error><code>429</code>" in body
        assert RateLimited.MESSAGE in body


def test_siting_and_what_if_draw_on_one_planning_budget(redis_url, make_app, bearer) -> None:
    client = make_app(redis_url).test_client()
    assert client.post("/api/coverage/siting", json={}, headers=bearer).status_code == 400
    assert client.post("/api/coverage/what-if", json={}, headers=bearer).status_code == 400
    assert client.post("/api/coverage/siting", json={}, headers=bearer).status_code == 429
    assert client.post("/api/coverage/what-if", json={}, headers=bearer).status_code == 429


def test_reads_are_not_limited(redis_url, make_app) -> None:
    client = make_app(redis_url).test_client()
    assert {client.get("/api/coverage/siting").status_code for _ in range(4)} == {405}


def test_two_workers_share_the_counters_through_redis(redis_url, make_app, post_case) -> None:
    prefix = uuid.uuid4().hex
    first, second = make_app(redis_url, prefix), make_app(redis_url, prefix)
    assert _limiter(first) is not _limiter(second)
    assert [post_case(first), post_case(second)] == [403, 403]
    assert post_case(first) == 429 and post_case(second) == 429


def test_each_client_address_has_its_own_budget(redis_url, make_app, post_case) -> None:
    app = make_app(redis_url)
    assert [post_case(app, "192.0.2.1") for _ in range(3)] == [403, 403, 429]
    assert [post_case(app, "192.0.2.2") for _ in range(3)] == [403, 403, 429]


def test_a_client_cannot_choose_its_address_without_a_trusted_proxy(redis_url, make_app, post_case) -> None:
    app = make_app(redis_url)
    codes = [post_case(app, **{"X-Forwarded-For": f"198.51.100.{i}"}) for i in range(3)]
    assert codes == [403, 403, 429]


def test_behind_a_trusted_proxy_the_forwarded_address_is_the_key(redis_url, make_app, post_case) -> None:
    app = make_app(redis_url, trusted_proxies=1)
    assert [post_case(app, **{"X-Forwarded-For": "198.51.100.7"}) for _ in range(3)][-1] == 429
    assert post_case(app, **{"X-Forwarded-For": "198.51.100.8"}) == 403


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_without_redis_the_app_keeps_serving_and_counts_in_memory(make_app, caplog, post_case) -> None:
    app = make_app(f"redis://127.0.0.1:{_closed_port()}/0")
    with caplog.at_level(logging.WARNING, logger="flask-limiter"):
        codes = [post_case(app) for _ in range(3)]
    assert codes == [403, 403, 429]  # served, and still limited, by this process's counters
    assert isinstance(_limiter(app).limiter.storage, MemoryStorage)
    warnings = [r for r in caplog.records if "falling back to in-memory" in r.getMessage()]
    assert len(warnings) == 1

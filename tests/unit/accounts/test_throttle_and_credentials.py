"""The failed-sign-in throttle (in-memory store here; Redis in tests/web/accounts) and the
secrets and passwords it protects."""

from __future__ import annotations

import pytest
from limits.storage import MemoryStorage
from limits.strategies import FixedWindowRateLimiter

from gridmap.accounts import credentials
from gridmap.accounts.throttle import SignInThrottle


def _throttle(store: MemoryStorage, prefix: str = "p1") -> SignInThrottle:
    return SignInThrottle.build(FixedWindowRateLimiter(store), per_account="2/minute",
                                per_address="3/minute", prefix=prefix)


def test_a_name_locks_after_its_failures_and_a_success_clears_it() -> None:
    throttle = _throttle(MemoryStorage())
    for _ in range(2):
        assert throttle.wait_s("Zhang", "1.2.3.4") is None
        throttle.failed("Zhang", "1.2.3.4")
    wait = throttle.wait_s("zhang", "5.6.7.8")  # names are not case-sensitive
    assert wait is not None and 0 < wait <= 60
    throttle.succeeded("ZHANG")
    assert throttle.wait_s("zhang", "5.6.7.8") is None


def test_an_address_locks_after_failures_for_any_names() -> None:
    throttle = _throttle(MemoryStorage())
    for name in ("a", "b", "c"):
        throttle.failed(name, "1.2.3.4")
    assert throttle.wait_s("d", "1.2.3.4") is not None
    assert throttle.wait_s("d", "9.9.9.9") is None


def test_deployments_sharing_a_store_count_apart() -> None:
    store = MemoryStorage()
    ours, theirs = _throttle(store, "ours"), _throttle(store, "theirs")
    for _ in range(2):
        ours.failed("zhang", "1.2.3.4")
    assert ours.wait_s("zhang", "1.2.3.4") is not None
    assert theirs.wait_s("zhang", "1.2.3.4") is None


@pytest.mark.parametrize(("password", "problem"), [
    ("short", "at least"), ("x" * 300, "too long"), ("zhangsan-12345", "user name"),
    ("aaaaaaaaaaaa", "too simple"), ("a-fine-password-9", None)])
def test_password_rules(password: str, problem: str | None) -> None:
    found = credentials.password_problem(password, username="zhangsan")
    assert (found is None) if problem is None else (problem in (found or ""))


def test_hashes_verify_and_unknown_users_fail_alike() -> None:
    stored = credentials.hash_password("a-fine-password-9")
    assert stored.startswith("$argon2id$")
    assert credentials.verify_password(stored, "a-fine-password-9")
    assert not credentials.verify_password(stored, "a-fine-password-8")
    assert not credentials.verify_password(None, "a-fine-password-9")
    assert not credentials.verify_password("not a hash", "x")


def test_one_time_passwords_and_secrets() -> None:
    password = credentials.one_time_password()
    assert len(password) == 19 and password.count("-") == 3
    assert credentials.password_problem(password, username="x") is None
    assert not set(password) & set("0O1lI")  # nothing to misread on paper
    secret, digest, prefix = credentials.new_secret("gmk")
    assert secret.startswith("gmk_") and secret.startswith(prefix) and len(digest) == 64
    assert credentials.digest(secret) == digest and digest != credentials.digest(secret + "x")

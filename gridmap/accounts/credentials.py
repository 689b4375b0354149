"""Passwords (argon2id through argon2-cffi) and random secrets (API tokens, client keys).

Argon2id parameters are OWASP's first recommendation (19 MiB, 2 iterations, 1 lane), not
argon2-cffi's default (64 MiB, 3 iterations, 4 lanes): fifty people signing in at once must not
take 3 GB, and a web worker has 300 MB. A hash takes ~25 ms here (bench/README.md,
``bench/sign_in_bench.py``); argon2-cffi releases the GIL while hashing, so other requests go
on meanwhile. Hashes made with other parameters still verify and are upgraded at the next
sign-in (:func:`needs_rehash`).

Hashing runs on one background thread per process with the lowest CPU priority (nice 19): the
kernel then gives request threads the CPU first, so a wave of sign-ins queues behind itself
instead of starving everyone's board and map requests (``bench/sign_in_bench.py``). The waiting
sign-in request holds no CPU and, with gunicorn's threaded workers (``gridmap serve``), no worker.

Tokens and keys are 32 random bytes; only their SHA-256 digest is stored. A fast hash is right
for secrets nobody can guess (the slow hash protects passwords people chose).
"""

from __future__ import annotations

import hashlib
import os
import secrets
import threading
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

TIME_COST = 2
MEMORY_KIB = 19 * 1024
PARALLELISM = 1
MIN_PASSWORD_CHARS = 10
MAX_PASSWORD_CHARS = 256

HASHING_NICE = 19
_HASHER = PasswordHasher(time_cost=TIME_COST, memory_cost=MEMORY_KIB, parallelism=PARALLELISM)
_DUMMY_HASH = _HASHER.hash("gridmap: a password nobody has")


def _lowest_priority() -> None:
    """Run this thread (only it: Linux schedules threads one by one) at the lowest priority."""
    if hasattr(os, "setpriority"):  # POSIX; elsewhere hashing keeps the normal priority
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASHING_NICE)


# Started lazily on the first hash, so each forked web worker gets a thread of its own.
_HASHING = ThreadPoolExecutor(max_workers=1, thread_name_prefix="argon2",
                              initializer=_lowest_priority)


def hash_password(password: str) -> str:
    """The argon2id hash of ``password`` (salted; PHC string with its parameters)."""
    return _HASHING.submit(_HASHER.hash, password).result()


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches ``stored_hash``; without a hash, as slow as a real check.

    An unknown user and a wrong password therefore take the same time and get the same answer.
    """
    return _HASHING.submit(_verify, stored_hash, password).result()


def _verify(stored_hash: str | None, password: str) -> bool:
    try:
        return _HASHER.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """Whether a hash was made with other parameters than today's (upgrade it at sign-in)."""
    return _HASHER.check_needs_rehash(stored_hash)


def password_problem(password: str, *, username: str) -> str | None:
    """Why ``password`` is not acceptable ("中文 (English)"), or None."""
    if len(password) < MIN_PASSWORD_CHARS:
        return (f"密码至少 {MIN_PASSWORD_CHARS} 个字符 "
                f"(the password needs at least {MIN_PASSWORD_CHARS} characters)")
    if len(password) > MAX_PASSWORD_CHARS:
        return f"密码不能超过 {MAX_PASSWORD_CHARS} 个字符 (the password is too long)"
    if len(username) >= 3 and username.lower() in password.lower():  # "x" is not a word
        return "密码不能包含用户名 (the password must not contain the user name)"
    if len(set(password)) < 4:
        return "密码过于简单 (the password is too simple)"
    return None


def one_time_password() -> str:
    """A readable random password for a new or reset account (changed at first sign-in)."""
    alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "-".join("".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(4))


def new_secret(kind: str) -> tuple[str, str, str]:
    """A new token or key: (the secret shown once, its digest to store, a prefix to recognise it).

    ``kind`` is a short tag put in front (``gmt`` personal token, ``gmk`` Open311 key), so a
    leaked secret is recognisable in logs and by secret scanners.
    """
    secret = f"{kind}_{secrets.token_urlsafe(32)}"
    return secret, digest(secret), secret[:10]


def digest(secret: str) -> str:
    """The SHA-256 hex digest under which a token or key is stored and looked up."""
    return hashlib.sha256(secret.encode()).hexdigest()

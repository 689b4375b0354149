"""Deliver the notification outbox: run by the job worker, with retries and backoff.

A request (or the escalation job) only writes outbox rows in its own transaction; this job
sends them later, so a slow or broken mail server never holds a request. Each row is locked
(``FOR UPDATE SKIP LOCKED``) while it is sent, so two workers never send it twice; a failure
is recorded with its reason and retried after an exponential backoff, up to
:data:`MAX_ATTEMPTS`. A channel with no sender configured (e-mail rows after the SMTP
settings were removed) counts as a failure, so nothing is lost silently.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from gridmap.db import unit_of_work
from gridmap.supervision.repositories import outbox as repo
from gridmap.supervision.senders import DeliveryError, Message, Sender

MAX_ATTEMPTS = 8
"""After this many failures a row stays in the outbox with its last error (for an operator)."""
BACKOFF_BASE = timedelta(minutes=1)
BACKOFF_CAP = timedelta(hours=6)
BATCH = 50


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failure: 1, 2, 4 … minutes, at most 6 hours."""
    if attempts < 1:
        raise ValueError("attempts counts failures so far, from 1")
    wait: timedelta = BACKOFF_BASE * 2 ** min(attempts - 1, 20)
    return min(wait, BACKOFF_CAP)


@dataclass(frozen=True)
class DeliveryResult:
    """What one run did."""

    sent: int = 0
    failed: int = 0


def _message(row: Mapping[str, Any]) -> Message:
    payload = row["payload"]
    return Message(recipient=row["recipient"], subject=str(payload.get("subject", "")),
                   body=str(payload.get("body", "")))


def deliver(factory: sessionmaker[Session], senders: Mapping[str, Sender], *,
            now: datetime | None = None) -> DeliveryResult:
    """Send every due row once (one batch per transaction, until none is due)."""
    total = DeliveryResult()
    while True:
        with unit_of_work(factory) as session:
            result = deliver_in(session, senders, now=now or datetime.now(UTC))
        total = DeliveryResult(total.sent + result.sent, total.failed + result.failed)
        if result.sent + result.failed < BATCH:
            return total


def deliver_in(session: Session, senders: Mapping[str, Sender], *,
               now: datetime) -> DeliveryResult:
    """One batch inside the caller's transaction."""
    sent = failed = 0
    for row in repo.due(session, now=now, max_attempts=MAX_ATTEMPTS, batch=BATCH):
        sender = senders.get(row["channel"])
        try:
            if sender is None:
                raise DeliveryError(f"no sender for channel {row['channel']}")
            sender.send(_message(row))
        except DeliveryError as exc:
            repo.failed(session, row["id"], error=exc.reason,
                        retry_at=now + backoff(row["attempts"] + 1))
            failed += 1
        else:
            repo.sent(session, row["id"], now=now)
            sent += 1
    return DeliveryResult(sent, failed)


def figures(factory: sessionmaker[Session]) -> dict[str, float]:
    """For the metrics: notifications waiting to be sent, given up on (after
    :data:`MAX_ATTEMPTS`), and the age in seconds of the oldest waiting one (0: none)."""
    with factory() as session:
        found = repo.figures(session, max_attempts=MAX_ATTEMPTS)
    return {"pending": float(found["pending"]), "failed": float(found["failed"]),
            "oldest_pending_s": float(found["oldest"] or 0.0)}

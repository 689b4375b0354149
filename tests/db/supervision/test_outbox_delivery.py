"""Delivering the outbox on a real PostGIS: sent once, failures retried after a backoff."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from gridmap.supervision.senders import DeliveryError, Message
from gridmap.supervision.services.outbox import MAX_ATTEMPTS, DeliveryResult, deliver_in

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


class FlakySender:
    """Fails the first ``failures`` sends, then delivers; keeps what it delivered."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.delivered: list[Message] = []

    def send(self, message: Message) -> None:
        if self.failures > 0:
            self.failures -= 1
            raise DeliveryError("SMTP 451")
        self.delivered.append(message)


def _queue(session: Session, key: str, channel: str = "email") -> int:
    row_id: int = session.execute(text(
        "INSERT INTO notification_outbox (channel, recipient, payload, dedupe_key, "
        "next_attempt_at) VALUES (:c, 'a@example.cn', CAST(:p AS jsonb), :k, :now) "
        "ON CONFLICT (dedupe_key) DO NOTHING RETURNING id"),
        {"c": channel, "p": json.dumps({"subject": "督办", "body": "正文"}), "k": key,
         "now": NOW}).scalar_one_or_none()
    return row_id


def _row(session: Session, row_id: int) -> tuple[int, datetime | None, str | None, datetime]:
    r = session.execute(text("SELECT attempts, sent_at, last_error, next_attempt_at "
                             "FROM notification_outbox WHERE id = :i"), {"i": row_id}).one()
    return r.attempts, r.sent_at, r.last_error, r.next_attempt_at


def test_the_same_notice_is_never_queued_twice(db_session: Session) -> None:
    assert _queue(db_session, "t:once") is not None
    assert _queue(db_session, "t:once") is None


def test_sent_once_and_not_again(db_session: Session) -> None:
    row_id = _queue(db_session, "t:sent")
    sender = FlakySender()
    assert deliver_in(db_session, {"email": sender}, now=NOW) == DeliveryResult(sent=1)
    assert deliver_in(db_session, {"email": sender}, now=NOW + timedelta(hours=1)) == \
        DeliveryResult()
    assert [m.subject for m in sender.delivered] == ["督办"]
    attempts, sent_at, error, _ = _row(db_session, row_id)
    assert (attempts, sent_at, error) == (1, NOW, None)


def test_a_failure_waits_for_its_backoff_then_succeeds(db_session: Session) -> None:
    row_id = _queue(db_session, "t:retry")
    sender = FlakySender(failures=1)
    assert deliver_in(db_session, {"email": sender}, now=NOW) == DeliveryResult(failed=1)
    attempts, sent_at, error, retry_at = _row(db_session, row_id)
    assert (attempts, sent_at, error, retry_at) == (1, None, "SMTP 451", NOW + timedelta(minutes=1))
    # Not before the backoff has passed …
    assert deliver_in(db_session, {"email": sender}, now=NOW + timedelta(seconds=30)) == \
        DeliveryResult()
    # … then delivered.
    assert deliver_in(db_session, {"email": sender}, now=retry_at) == DeliveryResult(sent=1)
    assert _row(db_session, row_id)[:3] == (2, retry_at, None)


def test_gives_up_after_the_last_attempt_and_keeps_the_error(db_session: Session) -> None:
    row_id = _queue(db_session, "t:never")
    sender = FlakySender(failures=10**6)
    at = NOW
    for _ in range(MAX_ATTEMPTS + 2):
        deliver_in(db_session, {"email": sender}, now=at)
        at += timedelta(days=1)
    attempts, sent_at, error, _ = _row(db_session, row_id)
    assert (attempts, sent_at, error) == (MAX_ATTEMPTS, None, "SMTP 451")


def test_a_channel_without_a_sender_is_a_recorded_failure(db_session: Session) -> None:
    row_id = _queue(db_session, "t:nochannel")
    assert deliver_in(db_session, {"log": FlakySender()}, now=NOW) == DeliveryResult(failed=1)
    assert _row(db_session, row_id)[2] == "no sender for channel email"

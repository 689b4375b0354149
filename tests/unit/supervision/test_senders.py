"""Notification senders: SMTP e-mail against a local aiosmtpd server (no network), the log."""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterator
from email import message_from_bytes
from email.message import Message as EmailMessage
from email.policy import default

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from gridmap.config import Mail
from gridmap.errors import ConfigurationError
from gridmap.supervision.senders import (
    DeliveryError,
    LogSender,
    Message,
    SmtpSender,
    senders,
)
from gridmap.supervision.services.outbox import backoff


class _Inbox:
    """An aiosmtpd handler that keeps what it receives, or refuses one recipient."""

    def __init__(self) -> None:
        self.received: list[tuple[list[str], EmailMessage]] = []

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope,  # noqa: N802
                          address: str, rcpt_options: list[str]) -> str:
        if address.startswith("refused@"):
            return "550 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session,  # noqa: N802
                          envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        self.received.append((list(envelope.rcpt_tos), message_from_bytes(raw, policy=default)))
        return "250 Message accepted"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def smtp_server() -> Iterator[tuple[_Inbox, int]]:
    handler = _Inbox()
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


def _mail(port: int) -> Mail:
    return Mail(host="127.0.0.1", port=port, sender="gridmap@example.cn", timeout_s=5)


def test_smtp_sender_delivers_chinese_text(smtp_server: tuple[_Inbox, int]) -> None:
    handler, port = smtp_server
    SmtpSender(_mail(port)).send(Message("staff@example.cn", "督办：案件 7 已超时 (supervision)",
                                         "督办：案件 7 已超过处置时限"))
    [(to, mail)] = handler.received
    assert to == ["staff@example.cn"]
    assert mail["Subject"] == "督办：案件 7 已超时 (supervision)"
    assert mail["From"] == "gridmap@example.cn"
    assert mail.get_content().strip() == "督办：案件 7 已超过处置时限"


def test_a_refused_recipient_is_a_delivery_error(smtp_server: tuple[_Inbox, int]) -> None:
    _, port = smtp_server
    with pytest.raises(DeliveryError, match="refused"):
        SmtpSender(_mail(port)).send(Message("refused@example.cn", "s", "b"))


def test_a_server_that_is_down_is_a_delivery_error() -> None:
    with pytest.raises(DeliveryError):
        SmtpSender(_mail(_free_port())).send(Message("a@example.cn", "s", "b"))


def test_log_sender_logs(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="gridmap.supervision.senders"):
        LogSender().send(Message("person:5", "督办", "body"))
    assert "person:5" in caplog.text


def test_channels_follow_the_settings() -> None:
    assert set(senders(Mail())) == {"log"}
    assert Mail().channel == "log"
    assert set(senders(_mail(25))) == {"log", "email"}
    assert _mail(25).channel == "email"


@pytest.mark.parametrize(("env", "message"), [
    ({"GRIDMAP_SMTP_HOST": "mail"}, "GRIDMAP_SMTP_FROM"),
    ({"GRIDMAP_SMTP_HOST": "mail", "GRIDMAP_SMTP_FROM": "a@b", "GRIDMAP_SMTP_PORT": "x"},
     "integer"),
    ({"GRIDMAP_SMTP_HOST": "mail", "GRIDMAP_SMTP_FROM": "a@b", "GRIDMAP_SMTP_PORT": "70000"},
     "port"),
])
def test_mail_settings_are_checked(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        Mail.from_env(env)


def test_mail_settings_read() -> None:
    mail = Mail.from_env({"GRIDMAP_SMTP_HOST": "mail.example.cn", "GRIDMAP_SMTP_FROM": "g@e.cn",
                          "GRIDMAP_SMTP_PORT": "587", "GRIDMAP_SMTP_STARTTLS": "1",
                          "GRIDMAP_SMTP_PASSWORD": "secret"})
    assert (mail.host, mail.port, mail.starttls, mail.sender) == ("mail.example.cn", 587, True,
                                                                  "g@e.cn")
    assert "secret" not in repr(mail)


@pytest.mark.parametrize(("attempts", "minutes"), [(1, 1), (2, 2), (3, 4), (8, 128), (9, 256),
                                                   (10, 360), (100, 360)])
def test_backoff_doubles_up_to_a_cap(attempts: int, minutes: int) -> None:
    assert backoff(attempts).total_seconds() == minutes * 60

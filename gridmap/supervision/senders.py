"""Notification senders: one interface, a logging sender (development) and SMTP e-mail.

No database, no Flask: the outbox job (:mod:`gridmap.supervision.services.outbox`) hands each
message to the sender of its channel. A sender raises :class:`DeliveryError` for a failure
worth retrying (server down, refused recipient); the job records it and backs off.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Protocol

from gridmap.config import Mail

log = logging.getLogger(__name__)


class DeliveryError(Exception):
    """A message could not be delivered now; ``reason`` is safe to store (no secrets)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Message:
    """One notification to one recipient (an address, or ``person:<id>`` for the log)."""

    recipient: str
    subject: str
    body: str


class Sender(Protocol):
    """Delivers one message or raises :class:`DeliveryError`."""

    def send(self, message: Message) -> None:
        """Deliver ``message``."""


class LogSender:
    """Development: writes each message to the log instead of sending it."""

    def send(self, message: Message) -> None:
        """Log ``message`` at INFO."""
        log.info("notification to %s: %s", message.recipient, message.subject)


class SmtpSender:
    """E-mail through an SMTP server (``GRIDMAP_SMTP_*``), one connection per message."""

    def __init__(self, mail: Mail) -> None:
        self.mail = mail

    def _message(self, message: Message) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = self.mail.sender
        mail["To"] = message.recipient
        mail["Subject"] = message.subject
        mail["Date"] = formatdate(localtime=False)
        mail["Message-ID"] = make_msgid(domain=self.mail.sender.rpartition("@")[2] or None)
        mail.set_content(message.body)  # UTF-8; the Chinese text is encoded as needed
        return mail

    def send(self, message: Message) -> None:
        """Send ``message``; DeliveryError (with a short reason) for any SMTP or network failure."""
        try:
            with smtplib.SMTP(self.mail.host, self.mail.port,
                              timeout=self.mail.timeout_s) as smtp:
                if self.mail.starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self.mail.username:
                    smtp.login(self.mail.username, self.mail.password)
                smtp.send_message(self._message(message))
        except smtplib.SMTPResponseException as exc:
            raise DeliveryError(f"SMTP {exc.smtp_code}") from exc
        except smtplib.SMTPRecipientsRefused as exc:
            raise DeliveryError("recipient refused") from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(type(exc).__name__) from exc


def senders(mail: Mail) -> Mapping[str, Sender]:
    """The sender of every outbox channel these settings can deliver."""
    channels: dict[str, Sender] = {"log": LogSender()}
    if mail.host:
        channels["email"] = SmtpSender(mail)
    return channels

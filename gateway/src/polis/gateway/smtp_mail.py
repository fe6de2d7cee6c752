"""Sending one e-mail through SMTP (the standard library's client, blocking: called from a
worker thread), with optional STARTTLS and login.

Failures are sorted into those worth another attempt (the server unreachable or busy, 4xx
replies) and permanent ones (5xx: the address or the message refused).
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime

from pydantic import SecretStr


class MailError(Exception):
    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True, slots=True)
class Outgoing:
    id: str  # the outbox row's id, in the Message-ID: a resent mail carries the same one
    to: str
    subject: str
    body: str


@dataclass(frozen=True)
class SmtpSender:
    host: str
    port: int
    sender: str
    starttls: bool = True
    username: str | None = None
    password: SecretStr | None = None
    timeout_s: float = 10.0

    def message(self, mail: Outgoing) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = mail.to
        message["Subject"] = mail.subject
        # The wall clock, as receivers' filters judge it (not the Polis clock of the records).
        message["Date"] = format_datetime(datetime.now(UTC))
        domain = self.sender.rpartition("@")[2] or "polis"
        message["Message-ID"] = f"<{mail.id}@{domain}>"
        message.set_content(mail.body)
        return message

    def send(self, mail: Outgoing) -> None:
        """Deliver ``mail`` to the SMTP server, or raise MailError."""
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout_s) as client:
                if self.starttls:
                    client.starttls(context=ssl.create_default_context())
                if self.username:
                    password = self.password.get_secret_value() if self.password else ""
                    client.login(self.username, password)
                client.send_message(self.message(mail))
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _ in error.recipients.values()]
            raise MailError(
                f"recipient refused: {codes}", permanent=all(c >= 500 for c in codes)
            ) from None
        except smtplib.SMTPResponseException as error:
            raise MailError(
                f"{error.smtp_code} {error.smtp_error!r}", permanent=error.smtp_code >= 500
            ) from None
        except (smtplib.SMTPException, OSError) as error:
            raise MailError(type(error).__name__, permanent=False) from None

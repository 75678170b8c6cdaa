"""The e-mail channel: notices as UTF-8 plain-text mail through the configured SMTP server.

smtplib runs in a worker thread, one connection per message. The Message-ID is derived from
the outbox key, and the Date from when the notice was written, so a message sent again
after a crash is byte-for-byte the same mail and a mail client can drop the copy.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import smtplib
import ssl
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime

from salesflow.core.db import utcnow
from salesflow.core.settings import SmtpSettings
from services.notifications.channels import (
    OutgoingMessage,
    PermanentError,
    TransientError,
    plain_text,
)
from services.notifications.limits import utf8_bytes
from services.notifications.models import CHANNEL_EMAIL

logger = logging.getLogger(__name__)


def message_id(key: str, sender: str) -> str:
    """The Message-ID of a notice: the same for every attempt to send it."""
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:40]
    domain = sender.rpartition("@")[2] or "salesflow.invalid"
    return f"<notice.{digest}@{domain}>"


def build_mail(message: OutgoingMessage, *, sender: str) -> EmailMessage:
    """The mail for one notice (headers encoded for non-ASCII, body UTF-8)."""
    # 7-bit transfer encoding: the body goes as quoted-printable or base64, which every
    # server takes, instead of raw UTF-8 that needs the 8BITMIME extension.
    mail = EmailMessage(policy=SMTP_POLICY.clone(cte_type="7bit"))
    mail["From"] = sender
    mail["To"] = message.target
    mail["Subject"] = message.subject
    mail["Date"] = format_datetime(message.created_at)
    mail["Message-ID"] = message_id(message.key, sender)
    mail.set_content(plain_text(message.body), charset="utf-8")
    return mail


class EmailChannel:
    """Delivers notices to e-mail addresses through one SMTP server."""

    name = CHANNEL_EMAIL
    content_limit = None
    cost = staticmethod(utf8_bytes)

    def __init__(self, smtp: SmtpSettings) -> None:
        self._smtp = smtp

    def free_slots(self, target: str) -> int | None:
        return None

    def next_slot_at(self, target: str) -> datetime:
        return utcnow()

    async def send(self, message: OutgoingMessage) -> None:
        if "@" not in message.target:
            raise PermanentError(f"{message.target!r} is not an e-mail address")
        mail = build_mail(message, sender=self._smtp.sender)
        try:
            await asyncio.to_thread(self._deliver, mail)
        except smtplib.SMTPRecipientsRefused as error:
            raise PermanentError(f"recipient refused: {error.recipients}") from error
        except smtplib.SMTPResponseException as error:
            reason = f"SMTP {error.smtp_code}: {error.smtp_error!r}"
            # 4xx replies are temporary by definition (RFC 5321); 5xx are not.
            if 400 <= error.smtp_code < 500:
                raise TransientError(reason) from error
            raise PermanentError(reason) from error
        except (smtplib.SMTPException, OSError) as error:
            raise TransientError(f"SMTP server unreachable: {error}") from error
        logger.debug("email delivered key=%s", message.key)

    def _deliver(self, mail: EmailMessage) -> None:
        smtp = self._smtp
        if smtp.security == "ssl":
            context = ssl.create_default_context()
            client = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=smtp.timeout, context=context)
        else:
            client = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
        with client:
            if smtp.security == "starttls":
                client.starttls(context=ssl.create_default_context())
            if smtp.username:
                client.login(smtp.username, smtp.password)
            client.send_message(mail)

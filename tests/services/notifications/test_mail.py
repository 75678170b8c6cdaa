"""The e-mail channel against a real SMTP server (aiosmtpd) on 127.0.0.1 that checks mail."""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

import pytest

from salesflow.core.settings import SmtpSettings
from services.notifications.channels import OutgoingMessage, PermanentError, TransientError
from services.notifications.mail import EmailChannel, message_id
from tests.services.notifications.fakes import SmtpServer

SENDER = "salesflow@notices.example.com"
SUBJECT = "【提醒】客户已 72 小时无回应 / Reminder: customer silent for 72 h"
BODY = (
    "**【提醒】客户已 72 小时无回应**\n"
    "Reminder: customer silent for 72 h — opportunity 1C1I7A6R, rep Anna Snelling\n\n"
    "> 商机 Opportunity: 1C1I7A6R\n"
    "> 区域 Region: 华东 East"
)
CREATED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def notice(key: str = "evt-1|Anna Snelling|email", to: str = "anna@example.com"):
    return OutgoingMessage(key=key, target=to, subject=SUBJECT, body=BODY, created_at=CREATED)


@pytest.fixture
def smtp():
    server = SmtpServer(sender=SENDER).start()
    yield server
    server.stop()


@pytest.fixture
def channel(smtp) -> EmailChannel:
    return EmailChannel(
        SmtpSettings(host="127.0.0.1", port=smtp.port, sender=SENDER, security="none")
    )


async def test_a_notice_arrives_as_utf8_mail_with_a_message_id_from_its_key(smtp, channel):
    await channel.send(notice())

    [mail] = smtp.received
    assert smtp.refused == []
    assert (mail.sender, mail.recipients) == (SENDER, ["anna@example.com"])
    assert str(mail.message["Subject"]) == SUBJECT
    assert mail.message["Message-ID"].strip() == message_id("evt-1|Anna Snelling|email", SENDER)
    assert mail.message["Message-ID"].strip().endswith("@notices.example.com>")
    assert parsedate_to_datetime(mail.message["Date"]) == CREATED
    assert mail.text.startswith("【提醒】客户已 72 小时无回应\nReminder: customer silent")
    assert "区域 Region: 华东 East" in mail.text

    # Sent again (after a crash), it is the same mail: a client can drop the copy.
    await channel.send(notice())
    assert smtp.received[1].message["Message-ID"] == mail.message["Message-ID"]
    assert smtp.received[1].message["Date"] == mail.message["Date"]
    other = notice(key="evt-2|Anna Snelling|email")
    await channel.send(other)
    assert smtp.received[2].message["Message-ID"] != mail.message["Message-ID"]


async def test_smtp_replies_are_typed_by_what_retrying_can_do(smtp, channel):
    smtp.fail_next(1, "451 4.3.0 mailbox busy")
    with pytest.raises(TransientError, match="451"):
        await channel.send(notice())

    smtp.fail_next(1, "550 5.1.1 no such user")
    with pytest.raises(PermanentError, match="550"):
        await channel.send(notice())

    with pytest.raises(PermanentError, match="not an e-mail address"):
        await channel.send(notice(to="Anna Snelling"))

    smtp.stop()
    with pytest.raises(TransientError, match="unreachable"):
        await channel.send(notice())
    assert smtp.received == []

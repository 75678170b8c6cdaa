"""The one interface every delivery channel speaks, its typed errors, and the log channel.

A channel delivers one message to one target or raises:

    RetryLater      not a failure: the channel is at its rate limit; try again at `at`
    TransientError  this attempt failed (server down, 5xx, "system busy"); back off, retry
    PermanentError  retrying cannot help (unknown robot, refused request); mark dead

Channels are built from the settings; a notice whose channel is not configured here is a
permanent failure, visible in the outbox, never silently dropped.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from salesflow.core.db import utcnow
from salesflow.core.settings import Settings
from services.notifications.limits import Clock, Cost, utf8_bytes
from services.notifications.models import CHANNEL_LOG, CHANNELS

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class OutgoingMessage:
    """What a channel sends: one notice (or one part of it, or a digest of several)."""

    # Stable across attempts: the outbox key, with "#<part>" for a part of a long notice.
    key: str
    target: str
    subject: str
    # Markdown that already fits the channel's content limit.
    body: str
    # When the notice was written; mail uses it as the Date, so a resend is identical.
    created_at: datetime


class ChannelError(Exception):
    """A delivery that did not happen; the subclass says what to do next."""


class RetryLater(ChannelError):
    """The channel is at its rate limit; nothing is wrong with the message."""

    def __init__(self, at: datetime, reason: str) -> None:
        super().__init__(reason)
        self.at = at


class TransientError(ChannelError):
    """This attempt failed; another one later may work."""


class PermanentError(ChannelError):
    """Retrying the same message cannot work."""


class Channel(Protocol):
    """A way of delivering notices: WeCom, DingTalk, Feishu, e-mail or the log."""

    name: str
    # How much body one message may carry (as `cost` counts it); None for no limit.
    content_limit: int | None
    cost: Cost

    def free_slots(self, target: str) -> int | None:
        """Messages the target may receive right now; None when the channel has no limit."""
        ...

    def next_slot_at(self, target: str) -> datetime:
        """When the target may receive the next message."""
        ...

    async def send(self, message: OutgoingMessage) -> None:
        """Delivers the message or raises RetryLater, TransientError or PermanentError."""
        ...


class LogChannel:
    """Delivers a notice by writing one line to the service log.

    The destination of notices with no route (and of everything in `salesflow demo`), so
    the outbox always drains and nothing tries to reach a host that was never configured.
    """

    name = CHANNEL_LOG
    content_limit = None
    cost = staticmethod(utf8_bytes)

    def free_slots(self, target: str) -> int | None:
        return None

    def next_slot_at(self, target: str) -> datetime:
        return utcnow()

    async def send(self, message: OutgoingMessage) -> None:
        logger.info("notice key=%s subject=%s", message.key, message.subject)


def plain_text(markdown: str) -> str:
    """The markdown of a notice as plain text, for channels that show text as it is."""
    lines = []
    for line in markdown.splitlines():
        line = re.sub(r"^(#+|>)\s?", "", line)
        lines.append(line.replace("**", ""))
    return "\n".join(lines) + ("\n" if markdown.endswith("\n") else "")


def channels_from_settings(settings: Settings, *, clock: Clock = utcnow) -> dict[str, Channel]:
    """Every channel the settings configure, by name; the log channel always."""
    from services.notifications.mail import EmailChannel
    from services.notifications.robots import DingTalkChannel, FeishuChannel, WeComChannel

    channels: dict[str, Channel] = {CHANNEL_LOG: LogChannel()}
    for kind in (WeComChannel, DingTalkChannel, FeishuChannel):
        robots = [robot for robot in settings.robots if robot.kind == kind.name]
        if robots:
            channels[kind.name] = kind(robots, clock=clock)
    if settings.smtp is not None:
        channels[EmailChannel.name] = EmailChannel(settings.smtp)
    return channels


def log_only_channels() -> dict[str, Channel]:
    """Every channel delivering to the log: for replays of past exports, which must not
    message today's groups and mailboxes whatever the routes say."""
    log = LogChannel()
    return dict.fromkeys(CHANNELS, log)

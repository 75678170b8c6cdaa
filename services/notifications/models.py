"""Tables the notifications service owns: the outbox of notices and where people get them.

Every notice is a row in `notification_outbox` before anything is sent; the dispatcher
delivers from there. (event_id, recipient, channel) is unique, so an event delivered twice
adds nothing. `notification_routes` says which channel and target a person, a role or
everyone in a region gets their notices on; with no route a notice goes to the log.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from salesflow.core.db import Base, UtcDateTime

STATUS_PENDING = "pending"
STATUS_SENDING = "sending"
STATUS_DELIVERED = "delivered"
# An attempt failed and another is scheduled (next_attempt_at).
STATUS_FAILED = "failed"
# Attempts used up or a permanent refusal: kept, visible, retried only by an admin.
STATUS_DEAD = "dead"
STATUSES = (STATUS_PENDING, STATUS_SENDING, STATUS_DELIVERED, STATUS_FAILED, STATUS_DEAD)

CHANNEL_WECOM = "wecom"
CHANNEL_DINGTALK = "dingtalk"
CHANNEL_FEISHU = "feishu"
CHANNEL_EMAIL = "email"
CHANNEL_LOG = "log"
CHANNELS = (CHANNEL_WECOM, CHANNEL_DINGTALK, CHANNEL_FEISHU, CHANNEL_EMAIL, CHANNEL_LOG)

# Route recipients besides person ids: every person of a role, and everyone.
ROLE_PREFIX = "role:"
EVERYONE = "*"
ANY_REGION = "*"


class Notification(Base):
    """One notice to one recipient on one channel, and how its delivery is going."""

    __tablename__ = "notification_outbox"
    __table_args__ = (
        UniqueConstraint("event_id", "recipient", "channel"),
        Index("ix_notification_outbox_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    event_id: Mapped[str] = mapped_column(String(300), nullable=False)
    recipient: Mapped[str] = mapped_column(String(200), nullable=False, index=True)
    channel: Mapped[str] = mapped_column(String(16), nullable=False)
    target: Mapped[str] = mapped_column(String(300), nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    subject: Mapped[str] = mapped_column(String(500), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    opportunity_id: Mapped[str] = mapped_column(String(100), nullable=False)
    region: Mapped[str] = mapped_column(String(100), nullable=False, index=True)
    # When the cause happened (pipeline time); created_at is when the row was written.
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # Parts of a long message already delivered, so a retry sends only the rest.
    parts_sent: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    # The dispatcher sending the row and until when its claim holds.
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str] = mapped_column(Text, nullable=False, default="")
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    @property
    def key(self) -> str:
        """The notice's identity: the same on every attempt and every dispatcher."""
        return f"{self.event_id}|{self.recipient}|{self.channel}"


class NotificationRoute(Base):
    """Where a recipient's notices go: a channel and its target, optionally per region.

    recipient is a person id, "role:<role>" (rep, manager, director, legal, ...) or "*";
    region is a region or "*". The most specific route wins for each channel.
    """

    __tablename__ = "notification_routes"
    __table_args__ = (UniqueConstraint("recipient", "region", "channel"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    recipient: Mapped[str] = mapped_column(String(200), nullable=False)
    region: Mapped[str] = mapped_column(String(100), nullable=False, default=ANY_REGION)
    channel: Mapped[str] = mapped_column(String(16), nullable=False)
    # The robot's name in SALESFLOW_ROBOT_<NAME>, or an e-mail address.
    target: Mapped[str] = mapped_column(String(300), nullable=False)

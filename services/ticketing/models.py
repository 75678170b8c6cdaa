"""Tables the ticketing service owns: tickets to legal and logistics, and their history.

The ticket key is the one the pipeline workflow chose (one ticket per pipeline, action and
department), so a ticket.requested event delivered twice finds its ticket already there.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from salesflow.core.db import Base, UtcDateTime

STATUS_OPEN = "open"
STATUS_ACKNOWLEDGED = "acknowledged"
STATUS_RESOLVED = "resolved"
STATUS_REJECTED = "rejected"
STATUSES = (STATUS_OPEN, STATUS_ACKNOWLEDGED, STATUS_RESOLVED, STATUS_REJECTED)
CLOSED_STATUSES = (STATUS_RESOLVED, STATUS_REJECTED)


class Ticket(Base):
    """A work order to another department, opened by a pipeline action."""

    __tablename__ = "tickets"

    ticket_key: Mapped[str] = mapped_column(String(300), primary_key=True)
    department: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(64), nullable=False)
    opportunity_id: Mapped[str] = mapped_column(String(100), nullable=False, index=True)
    action_key: Mapped[str] = mapped_column(String(100), nullable=False)
    workflow_id: Mapped[str] = mapped_column(String(200), nullable=False)
    rep_id: Mapped[str] = mapped_column(String(200), nullable=False, index=True)
    region: Mapped[str] = mapped_column(String(100), nullable=False, index=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False, index=True)
    # Pipeline time of the request, so response times measure the department, not us.
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    response_due_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    response_target_minutes: Mapped[int] = mapped_column(Integer, nullable=False)
    first_response_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    assignee_id: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    resolution_note: Mapped[str] = mapped_column(Text, nullable=False, default="")


class TicketEvent(Base):
    """One step in a ticket's life (opened, acknowledged, resolved, rejected)."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_key: Mapped[str] = mapped_column(String(300), nullable=False, index=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    actor_id: Mapped[str] = mapped_column(String(200), nullable=False)
    actor_role: Mapped[str] = mapped_column(String(32), nullable=False)
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)

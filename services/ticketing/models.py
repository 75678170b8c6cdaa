"""Tables the ticketing service owns: tickets to legal and logistics, their history and
comments, and the departments (head, members, calendar) that answer them.

The ticket key is the one the pipeline workflow chose (one ticket per pipeline, action and
department; a review requested again after a rejection appends its occurrence), so a
ticket.requested event delivered twice finds its ticket already there.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from salesflow.core.db import Base, UtcDateTime

STATUS_OPEN = "open"
STATUS_ACKNOWLEDGED = "acknowledged"
# The department asked the rep for changes; the ticket waits for the rep's revision.
STATUS_CHANGES_REQUESTED = "changes_requested"
STATUS_RESOLVED = "resolved"
STATUS_REJECTED = "rejected"
# The pipeline closed (lost) while the ticket was open: nobody waits for it any more.
STATUS_WITHDRAWN = "withdrawn"
STATUSES = (
    STATUS_OPEN,
    STATUS_ACKNOWLEDGED,
    STATUS_CHANGES_REQUESTED,
    STATUS_RESOLVED,
    STATUS_REJECTED,
    STATUS_WITHDRAWN,
)
CLOSED_STATUSES = (STATUS_RESOLVED, STATUS_REJECTED, STATUS_WITHDRAWN)


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
    status: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    # Pipeline time of the request, so response times measure the department, not us.
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    # opened_at plus the target in business minutes of the department's calendar.
    respond_by: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    response_target_minutes: Mapped[int] = mapped_column(Integer, nullable=False)
    first_response_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    first_responder_id: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    # When it was resolved, rejected or withdrawn.
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # When the status last changed (for a change asked again, the first time it was made).
    status_changed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    assignee_id: Mapped[str] = mapped_column(String(200), nullable=False, default="", index=True)
    resolution_note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    # 1 for the first request of a review; n for the n-th, each after a rejection.
    occurrence: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    previous_ticket_key: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    # Resubmissions by the rep after requests for changes.
    resubmissions: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    escalation_level: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    escalated_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # The department's calendar as resolved when the ticket opened (JSON of a CalendarSpec):
    # the ticket's times are always counted with the dates it was opened with.
    calendar: Mapped[str] = mapped_column(Text, nullable=False, default="")
    # Workflow time minus ticket time; non-zero only in a replay of a past export.
    clock_shift_seconds: Mapped[float] = mapped_column(Float, nullable=False, default=0)


class TicketEvent(Base):
    """One step in a ticket's life (opened, acknowledged, assigned, changes_requested,
    resubmitted, escalated, resolved, rejected)."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_key: Mapped[str] = mapped_column(String(300), nullable=False, index=True)
    status: Mapped[str] = mapped_column(String(32), nullable=False)
    actor_id: Mapped[str] = mapped_column(String(200), nullable=False)
    actor_role: Mapped[str] = mapped_column(String(32), nullable=False)
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)


class TicketComment(Base):
    """A comment on a ticket; comments are only ever added."""

    __tablename__ = "ticket_comments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    ticket_key: Mapped[str] = mapped_column(String(300), nullable=False, index=True)
    author_id: Mapped[str] = mapped_column(String(200), nullable=False)
    author_role: Mapped[str] = mapped_column(String(32), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)


class Department(Base):
    """A department that answers tickets: its head, calendar and escalation levels."""

    __tablename__ = "ticket_departments"

    department: Mapped[str] = mapped_column(String(32), primary_key=True)
    # Escalations of missed response targets go to the head.
    head_id: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    # The department's calendar as configured (JSON of an unresolved CalendarSpec).
    calendar: Mapped[str] = mapped_column(Text, nullable=False)
    # Escalation levels, as multiples of a ticket's response target, e.g. [1, 2].
    escalate_after: Mapped[list] = mapped_column(JSON, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)


class DepartmentMember(Base):
    """A person tickets of the department may be assigned to."""

    __tablename__ = "department_members"

    department: Mapped[str] = mapped_column(String(32), primary_key=True)
    person_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)

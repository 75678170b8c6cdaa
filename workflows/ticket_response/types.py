"""Inputs, signals and results of the ticket response workflow."""

from dataclasses import dataclass, field
from datetime import datetime

WORKFLOW_ID_PREFIX = "ticket-response-"
# Who an escalation is addressed to.
ROLE_DEPARTMENT_HEAD = "department_head"


def response_workflow_id(ticket_key: str) -> str:
    """One response clock per ticket: the workflow id is derived from the ticket key."""
    return f"{WORKFLOW_ID_PREFIX}{ticket_key}"


def escalation_event_id(ticket_key: str, level: int) -> str:
    """Once per ticket and level, whoever publishes it and however often."""
    return f"ticket:{ticket_key}:escalated:{level}"


@dataclass
class ResponseLevel:
    """An escalation raised when the ticket has no first response by `at`."""

    level: int
    # Ticket time (the pipeline's), counted in the department's business hours beforehand.
    at: datetime
    to_person: str
    to_role: str = ROLE_DEPARTMENT_HEAD


@dataclass
class TicketResponseInput:
    ticket_key: str
    department: str
    opportunity_id: str
    rep_id: str
    region: str
    opened_at: datetime
    respond_by: datetime
    response_target_minutes: int
    levels: list[ResponseLevel] = field(default_factory=list)
    assignee_id: str = ""
    # Seconds to subtract from workflow time to get ticket time. Non-zero only when a replay
    # maps an export's past dates onto a test server's clock (as for the pipeline).
    clock_shift_seconds: float = 0


@dataclass
class TicketResponded:
    """The department's first response (acknowledge, comment, request changes, resolve or
    reject) was recorded at `at`, ticket time."""

    at: datetime
    by: str = ""


@dataclass
class TicketReassigned:
    assignee_id: str


@dataclass
class TicketEscalation:
    """One escalation as the workflow decided it; the activity publishes it."""

    ticket_key: str
    department: str
    level: int
    to_person: str
    to_role: str
    assignee_id: str
    opportunity_id: str
    rep_id: str
    region: str
    opened_at: datetime
    respond_by: datetime
    response_target_minutes: int
    # When the level fell due (ticket time): the event's time.
    at: datetime


@dataclass
class TicketResponseResult:
    ticket_key: str
    responded_at: datetime | None
    escalated_levels: list[int] = field(default_factory=list)

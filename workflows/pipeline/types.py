"""Inputs, handler arguments and the queryable state of the pipeline workflow."""

from dataclasses import dataclass, field
from datetime import datetime

from workflows.pipeline.template import PipelineTemplate

TASK_QUEUE = "salesflow-pipelines"
WORKFLOW_ID_PREFIX = "pipeline-"


def workflow_id_for(opportunity_id: str) -> str:
    """One pipeline per opportunity: the workflow id is derived from the opportunity id."""
    return f"{WORKFLOW_ID_PREFIX}{opportunity_id}"


@dataclass
class PipelineInput:
    opportunity_id: str
    rep_id: str
    manager_id: str
    region: str
    account: str
    product: str
    template: PipelineTemplate
    director_id: str = ""
    # Seconds to subtract from workflow time to get business time. Non-zero only when the
    # replay maps an export's past dates onto a test server's clock.
    clock_shift_seconds: float = 0
    search_attributes: bool = False
    # IANA zone the rep works in (from the team directory); "" means the calendar's zone.
    # Dates and business hours of this pipeline are judged in it, never in the server's.
    rep_time_zone: str = ""


@dataclass
class EvidenceItem:
    """What the evidence store knows of one uploaded file, passed in by the service."""

    evidence_id: str
    opportunity_id: str
    kind: str
    sha256: str
    captured_at: datetime | None = None
    # Decided from the file's bytes by the evidence store, never from its name.
    content_type: str = ""
    uploaded_by: str = ""
    # Problems the evidence store found; a flagged file never satisfies a requirement.
    # "reused_elsewhere": the same bytes were attached to another customer's pipeline.
    # "exif_dates_conflict": the photo's EXIF dates disagree with one another.
    flags: list[str] = field(default_factory=list)
    # EXIF local capture time ("YYYY-MM-DDTHH:MM:SS[.ffffff]") when the photo carried no
    # offset: the lock reads it in the rep's time zone; captured_at is a server-zone guess.
    captured_local: str = ""
    capture_offset_assumed: bool = False


@dataclass
class AnswerInput:
    key: str
    values: list[str] = field(default_factory=list)


@dataclass
class CompleteActionInput:
    action_key: str
    evidence: list[EvidenceItem] = field(default_factory=list)
    answers: list[AnswerInput] = field(default_factory=list)
    note: str = ""
    actor_id: str = ""


@dataclass
class RejectedEvidence:
    """A presented file that did not count towards an evidence requirement, and why."""

    evidence_id: str
    # A stable code (see workflows.pipeline.lock), e.g. "reused_elsewhere".
    reason: str
    detail: str = ""


@dataclass
class Unmet:
    """One requirement the action still lacks."""

    kind: str  # "evidence", "answer" or "ticket"
    key: str
    required: int
    provided: int
    message: str
    # For "evidence": each presented file of this kind that did not count.
    rejected: list[RejectedEvidence] = field(default_factory=list)


@dataclass
class CompleteActionResult:
    action_key: str
    points: int
    on_time: bool
    next_action: str


@dataclass
class CustomerReplyInput:
    note: str = ""


@dataclass
class CloseInput:
    reason: str = ""
    actor_id: str = ""


@dataclass
class TicketChangedInput:
    ticket_key: str
    # "opened", "acknowledged", "changes_requested", "resolved" or "rejected"
    status: str
    note: str = ""
    # How many resubmissions of the ticket the department had seen when it changed it; a
    # change from before the rep's latest resubmission is stale and ignored.
    round: int = 0


@dataclass
class ResubmitInput:
    """The rep revised an action a department sent back and asks for its review again."""

    note: str = ""
    actor_id: str = ""
    # When set, it must be the current action.
    action_key: str = ""


@dataclass
class ReassignInput:
    rep_id: str
    manager_id: str = ""
    region: str = ""


@dataclass
class PauseInput:
    """Stops the current action's clocks, e.g. while waiting for the customer's approval."""

    reason: str
    actor_id: str = ""
    # When set, it must be the current action: guards against pausing a step already left.
    action_key: str = ""


@dataclass
class ResumeInput:
    actor_id: str = ""
    # When set, it must be the current action.
    action_key: str = ""


@dataclass
class DeadlineChange:
    """One clock of the current action under the running and under a proposed version."""

    key: str  # e.g. "due", "warning", "escalation:2", "reminder:follow_up"
    before: datetime | None
    after: datetime | None


@dataclass
class TemplateChangePreview:
    """What moving a running pipeline to another template version would change."""

    from_version: int
    to_version: int
    # False when the move is refused; `problems` says why (e.g. the current action is gone).
    possible: bool
    problems: list[str] = field(default_factory=list)
    deadlines: list[DeadlineChange] = field(default_factory=list)
    added_actions: list[str] = field(default_factory=list)
    removed_actions: list[str] = field(default_factory=list)


@dataclass
class ActionSnapshot:
    key: str
    name: str
    name_zh: str
    status: str  # "pending", "open", "done" or "skipped"
    started_at: datetime | None = None
    completed_at: datetime | None = None
    due_at: datetime | None = None
    overdue: bool = False
    escalations: int = 0
    warned: bool = False
    paused: bool = False
    pause_reason: str = ""
    # Seconds the action has spent paused so far (finished pauses only).
    paused_seconds: float = 0
    # A department rejected its ticket or asked for changes: the action waits for the rep's
    # resubmission. The reason is the department's note.
    returned: bool = False
    return_reason: str = ""


@dataclass
class Deadline:
    """One clock of the current action, or the customer-silence clock, as it stands now."""

    key: str  # "warning", "due", "escalation:2", "reminder:follow_up" or "silence"
    # When it falls (or fell) due; None while the action is paused, as resuming moves it.
    at: datetime | None
    fired: bool = False


@dataclass
class TicketSnapshot:
    ticket_key: str
    department: str
    action_key: str
    # "requested", "acknowledged", "changes_requested", "resubmitted", "resolved", "rejected"
    status: str
    note: str = ""
    # 1 for the first request of the review; n for the n-th (each after a rejection).
    occurrence: int = 1
    # Resubmissions after requests for changes.
    round: int = 0
    # A rejected occurrence the rep resubmitted: the next occurrence speaks for the review.
    superseded: bool = False


@dataclass
class PipelineSnapshot:
    """The answer to "where is this deal stuck, and since when"."""

    opportunity_id: str
    rep_id: str
    manager_id: str
    region: str
    account: str
    outcome: str  # "open", "won" or "lost"
    current_action: str
    current_since: datetime | None
    last_touch_at: datetime | None
    actions: list[ActionSnapshot]
    overdue_actions: list[str]
    tickets: list[TicketSnapshot]
    template_id: str
    template_version: int
    reminders: int
    escalations: int
    close_reason: str = ""
    # The current action's clocks and the silence clock (empty once the pipeline closed).
    deadlines: list[Deadline] = field(default_factory=list)
    # The zone the pipeline's dates are judged in ("" = the calendar's).
    rep_time_zone: str = ""


@dataclass
class PipelineResult:
    opportunity_id: str
    outcome: str
    actions_completed: int
    escalations: int
    reminders: int

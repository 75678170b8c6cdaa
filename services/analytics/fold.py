"""Folding one pipeline's events into its analytics rows: a pure function of the event set.

Whatever order the events arrived in, and however often, the same set gives the same rows:
events are sorted by when they happened before folding, and every figure is taken from the
event that decides it (the start from action.started, the completion from action.completed,
and so on), with fallbacks only while that event has not arrived yet.

Definitions the queries build on:

- an instance is *due* once it is completed or has passed its deadline uncompleted, and
  *on time* when it was completed before its deadline (or had none);
- its *result*, once completed: accepted when the customer moved on (a later action of the
  pipeline was completed, or the pipeline was won), rejected when the pipeline was lost with
  it as the last completed action, pending otherwise;
- quality components (each in [0, 1]): evidence = min(1, files / required files), answers =
  min(1, answers / required answers) (1 when nothing is required), timeliness = 1 on time,
  else max(0, 1 − lateness / allowed time), feedback = 1 accepted, 0 rejected, 0.5 pending;
- the pipeline reaches the contract stage when its contract action starts, or when it is won.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from salesflow.events.v1 import events_pb2
from services.analytics.config import AnalyticsConfig
from services.analytics.models import ACCEPTED, DONE, OPEN, PENDING, REJECTED, SKIPPED

DEFAULT_TICKET_TARGET_MINUTES = 120
TICKET_RESPONSES = ("acknowledged", "resolved", "rejected")
TICKET_CLOSINGS = ("resolved", "rejected")

# Among events of the same instant, the order in which they happen in a pipeline.
_TYPE_ORDER = {
    "pipeline.started": 0,
    "action.started": 1,
    "ticket.requested": 2,
    "action.overdue": 3,
    "escalation.raised": 4,
    "action.resumed": 5,
    "ticket.changed": 6,
    "action.completed": 7,
    "pipeline.closed": 8,
}


@dataclass
class FoldedPipeline:
    """Rows for every analytics table, ready to insert."""

    pipeline: dict[str, Any]
    actions: list[dict[str, Any]]
    strategies: list[dict[str, Any]]
    tickets: list[dict[str, Any]]


@dataclass
class _Instance:
    action_key: str
    occurrence: int
    position: int = -1
    rep_id: str = ""
    region: str = ""
    started_at: datetime | None = None
    # Where the start can be read while action.started is missing, best first.
    start_hints: list[datetime] = field(default_factory=list)
    due_at: datetime | None = None
    completed_at: datetime | None = None
    on_time: bool = True
    overdue: bool = False
    escalations: int = 0
    evidence_count: int = 0
    evidence_required: int = 0
    answers_given: int = 0
    answers_required: int = 0
    paused_seconds: float = 0.0
    answers: list[tuple[str, list[str]]] = field(default_factory=list)


@dataclass
class _Ticket:
    ticket_key: str
    department: str = ""
    action_key: str = ""
    rep_id: str = ""
    region: str = ""
    requested_at: datetime | None = None
    opened_at: datetime | None = None
    target_minutes: int = DEFAULT_TICKET_TARGET_MINUTES
    first_response_at: datetime | None = None
    closed_at: datetime | None = None
    status: str = "requested"


def _at(stamp) -> datetime:
    return stamp.ToDatetime(tzinfo=UTC)


def _set(message, name: str) -> datetime | None:
    """A timestamp field's value, or None when the event left it unset."""
    return _at(getattr(message, name)) if message.HasField(name) else None


def _occurrence(payload) -> int:
    # Events that can repeat for a re-opened action carry their occurrence; others are first.
    return getattr(payload, "occurrence", 0) or 1


def sort_key(event: events_pb2.Event) -> tuple:
    return (event.time.seconds, event.time.nanos, _TYPE_ORDER.get(event.type, 9), event.id)


def day_of(moment: datetime, zone: ZoneInfo) -> date:
    """The moment's date in the zone."""
    return moment.astimezone(zone).date()


def week_of(moment: datetime, zone: ZoneInfo) -> date:
    """Monday of the moment's week in the zone."""
    local = day_of(moment, zone)
    return local - timedelta(days=local.weekday())


def fold_pipeline(
    events: Iterable[events_pb2.Event], config: AnalyticsConfig
) -> FoldedPipeline | None:
    """The rows of one pipeline; None when no event names it."""
    ordered = sorted(events, key=sort_key)
    if not ordered:
        return None

    state = _PipelineState(ordered[0].opportunity_id)
    for event in ordered:
        state.apply(event)
    return state.rows(config)


class _PipelineState:
    def __init__(self, opportunity_id: str) -> None:
        self.opportunity_id = opportunity_id
        self.rep_id = ""
        self.region = ""
        self.manager_id = ""
        self.template_id = ""
        self.template_version = 0
        self.action_keys: list[str] = []
        self.started_at: datetime | None = None
        self.first_seen: datetime | None = None
        self.outcome = "open"
        self.closed_at: datetime | None = None
        self.instances: dict[tuple[str, int], _Instance] = {}
        self.tickets: dict[str, _Ticket] = {}

    def _instance(self, action_key: str, occurrence: int) -> _Instance:
        key = (action_key, occurrence)
        if key not in self.instances:
            self.instances[key] = _Instance(action_key, occurrence)
        return self.instances[key]

    def _ticket(self, ticket_key: str) -> _Ticket:
        if ticket_key not in self.tickets:
            self.tickets[ticket_key] = _Ticket(ticket_key)
        return self.tickets[ticket_key]

    def apply(self, event: events_pb2.Event) -> None:
        at = _at(event.time)
        self.first_seen = self.first_seen or at
        if event.rep_id:
            # Events are applied in time order: the last one names the current owner.
            self.rep_id, self.region = event.rep_id, event.region

        kind = event.WhichOneof("payload")
        payload = getattr(event, kind) if kind else None
        if kind == "pipeline_started":
            self.manager_id = payload.manager_id
            self.template_id = payload.template_id
            self.template_version = payload.template_version
            self.action_keys = list(payload.action_keys)
            self.started_at = at
        elif kind == "action_started":
            instance = self._instance(payload.action_key, _occurrence(payload))
            instance.started_at = at
            instance.position = payload.position
            instance.due_at = _set(payload, "due_at") or instance.due_at
            self._owner(instance, event)
        elif kind == "action_completed":
            self._completed(self._instance(payload.action_key, _occurrence(payload)), event, at)
        elif kind == "action_overdue":
            instance = self._instance(payload.action_key, _occurrence(payload))
            instance.overdue = True
            instance.due_at = instance.due_at or _set(payload, "due_at")
            instance.start_hints.append(at)
        elif kind == "escalation_raised":
            instance = self._instance(payload.action_key, _occurrence(payload))
            instance.escalations += 1
            instance.start_hints.insert(0, _set(payload, "open_since") or at)
        elif kind == "action_resumed":
            # Published by pipelines whose actions can be paused; the time stopped counts
            # neither towards the time open nor against the deadline.
            instance = self._instance(payload.action_key, _occurrence(payload))
            instance.paused_seconds += payload.paused_seconds
        elif kind == "ticket_requested":
            ticket = self._ticket(payload.ticket_key)
            ticket.department = payload.department
            ticket.action_key = payload.action_key
            ticket.requested_at = at
            ticket.target_minutes = payload.response_target_minutes or DEFAULT_TICKET_TARGET_MINUTES
            ticket.rep_id, ticket.region = event.rep_id, event.region
        elif kind == "ticket_changed":
            self._ticket_changed(self._ticket(payload.ticket_key), payload, event, at)
        elif kind == "pipeline_closed":
            self.outcome = payload.outcome or "lost"
            self.closed_at = at

    def _owner(self, instance: _Instance, event: events_pb2.Event) -> None:
        if event.rep_id:
            instance.rep_id, instance.region = event.rep_id, event.region

    def _completed(self, instance: _Instance, event: events_pb2.Event, at: datetime) -> None:
        payload = event.action_completed
        instance.completed_at = at
        instance.on_time = payload.on_time
        started = _set(payload, "started_at")
        if started is not None:
            instance.start_hints.insert(0, started)
        instance.evidence_count = len(set(payload.evidence_ids))
        instance.evidence_required = payload.evidence_required
        instance.answers_given = payload.answers_given
        instance.answers_required = payload.answers_required
        instance.answers = [(answer.key, list(answer.values)) for answer in payload.answers]
        # The completing rep owns the instance, whoever started it.
        self._owner(instance, event)

    def _ticket_changed(self, ticket: _Ticket, payload, event, at: datetime) -> None:
        ticket.department = ticket.department or payload.department
        if not ticket.rep_id:
            ticket.rep_id, ticket.region = event.rep_id, event.region
        if payload.status == "opened":
            ticket.opened_at = ticket.opened_at or at
        if payload.status in TICKET_RESPONSES and ticket.first_response_at is None:
            ticket.first_response_at = at
        if payload.status in TICKET_CLOSINGS and ticket.closed_at is None:
            ticket.closed_at = at
        ticket.status = payload.status

    # ---- rows ------------------------------------------------------------------------------

    def rows(self, config: AnalyticsConfig) -> FoldedPipeline:
        instances = sorted(self.instances.values(), key=self._order)
        for instance in instances:
            instance.started_at = (
                instance.started_at or next(iter(instance.start_hints), None) or self.first_seen
            )
            if instance.position < 0 and instance.action_key in self.action_keys:
                instance.position = self.action_keys.index(instance.action_key)
        contract_reached_at = self._contract_reached_at(instances, config)

        actions, strategies = [], []
        done = [instance for instance in instances if instance.completed_at is not None]
        for instance in instances:
            result = self._result(instance, done) if instance.completed_at else None
            row = self._action_row(instance, result, contract_reached_at, config)
            actions.append(row)
            strategies += self._strategy_rows(instance, row, config)

        pipeline = {
            "opportunity_id": self.opportunity_id,
            "rep_id": self.rep_id,
            "manager_id": self.manager_id,
            "region": self.region,
            "template_id": self.template_id,
            "template_version": self.template_version,
            "started_at": self.started_at or self.first_seen,
            "contract_reached_at": contract_reached_at,
            "outcome": self.outcome,
            "closed_at": self.closed_at,
            "actions_completed": len(done),
        }
        tickets = [self._ticket_row(ticket) for ticket in self.tickets.values()]
        return FoldedPipeline(pipeline, actions, strategies, [t for t in tickets if t])

    def _order(self, instance: _Instance) -> tuple:
        position = instance.position
        if position < 0 and instance.action_key in self.action_keys:
            position = self.action_keys.index(instance.action_key)
        return (position, instance.occurrence, instance.action_key)

    def _contract_reached_at(
        self, instances: list[_Instance], config: AnalyticsConfig
    ) -> datetime | None:
        moments = [
            instance.started_at
            for instance in instances
            if instance.action_key == config.contract_action and instance.started_at is not None
        ]
        if self.outcome == "won" and self.closed_at is not None:
            moments.append(self.closed_at)
        return min(moments) if moments else None

    def _result(self, instance: _Instance, done: list[_Instance]) -> str:
        if self.outcome == "won":
            return ACCEPTED
        mine = (instance.completed_at, instance.position)
        if any((other.completed_at, other.position) > mine for other in done):
            return ACCEPTED
        return REJECTED if self.outcome == "lost" else PENDING

    def _action_row(
        self,
        instance: _Instance,
        result: str | None,
        contract_reached_at: datetime | None,
        config: AnalyticsConfig,
    ) -> dict[str, Any]:
        started_at = instance.started_at
        if instance.completed_at is not None:
            status, ended_at = DONE, instance.completed_at
        elif self.closed_at is not None:
            status, ended_at = SKIPPED, self.closed_at
        else:
            status, ended_at = OPEN, None
        duration = None
        if ended_at is not None:
            elapsed = (ended_at - started_at).total_seconds() - instance.paused_seconds
            duration = max(elapsed, 0.0)
        strategies, topic = self._answers(instance, config)

        row = {
            "opportunity_id": self.opportunity_id,
            "action_key": instance.action_key,
            "occurrence": instance.occurrence,
            "position": instance.position,
            "rep_id": instance.rep_id or self.rep_id,
            "manager_id": self.manager_id,
            "region": instance.region or self.region,
            "started_at": started_at,
            "day": day_of(started_at, config.zone),
            "due_at": instance.due_at,
            "completed_at": instance.completed_at,
            "ended_at": ended_at,
            "status": status,
            "due": status == DONE or instance.overdue,
            "on_time": status == DONE and instance.on_time and not instance.overdue,
            "overdue": instance.overdue,
            "escalations": instance.escalations,
            "evidence_count": instance.evidence_count,
            "evidence_required": instance.evidence_required,
            "answers_given": instance.answers_given,
            "answers_required": instance.answers_required,
            "paused_seconds": instance.paused_seconds,
            "duration_seconds": duration,
            "q_evidence": None,
            "q_answers": None,
            "q_timeliness": None,
            "q_feedback": None,
            "result": result,
            "contract_lag_seconds": None,
            "pipeline_outcome": self.outcome,
            "strategies": strategies,
            "strategy_count": len(strategies),
            "topic": topic,
        }
        if status == DONE:
            row.update(quality_components(instance, result))
            if contract_reached_at is not None:
                lag = (contract_reached_at - instance.completed_at).total_seconds()
                row["contract_lag_seconds"] = lag
        return row

    def _answers(self, instance: _Instance, config: AnalyticsConfig) -> tuple[list[str], str]:
        strategies: list[str] = []
        others: list[str] = []
        for key, values in instance.answers:
            if key == config.strategy_answer_key:
                strategies += [value for value in values if value not in strategies]
            else:
                others += values
        return strategies, "; ".join(others)

    def _strategy_rows(
        self, instance: _Instance, row: dict[str, Any], config: AnalyticsConfig
    ) -> list[dict[str, Any]]:
        if row["status"] != DONE:
            return []
        return [
            {
                "opportunity_id": self.opportunity_id,
                "action_key": instance.action_key,
                "occurrence": instance.occurrence,
                "strategy": strategy,
                "rep_id": row["rep_id"],
                "manager_id": row["manager_id"],
                "region": row["region"],
                "completed_at": instance.completed_at,
                "result": row["result"],
                "topic": row["topic"],
            }
            for strategy in row["strategies"]
        ]

    def _ticket_row(self, ticket: _Ticket) -> dict[str, Any] | None:
        requested_at = ticket.requested_at or ticket.opened_at
        if requested_at is None:
            # Only changes after the opening arrived so far; the request will follow.
            return None
        return {
            "ticket_key": ticket.ticket_key,
            "opportunity_id": self.opportunity_id,
            "department": ticket.department,
            "action_key": ticket.action_key,
            "rep_id": ticket.rep_id or self.rep_id,
            "manager_id": self.manager_id,
            "region": ticket.region or self.region,
            "requested_at": requested_at,
            "response_target_minutes": ticket.target_minutes,
            "first_response_at": ticket.first_response_at,
            "closed_at": ticket.closed_at,
            "status": ticket.status,
        }


def _share(given: int, required: int) -> float:
    return 1.0 if required <= 0 else min(1.0, given / required)


def quality_components(instance: _Instance, result: str | None) -> dict[str, float]:
    """The four quality components of a completed instance, each in [0, 1]."""
    timeliness = 1.0
    if instance.overdue or not instance.on_time:
        timeliness = 0.0
        if instance.due_at is not None and instance.started_at is not None:
            allowed = (instance.due_at - instance.started_at).total_seconds()
            late = (instance.completed_at - instance.due_at).total_seconds()
            if allowed > 0:
                timeliness = max(0.0, min(1.0, 1.0 - late / allowed))
    feedback = {ACCEPTED: 1.0, REJECTED: 0.0}.get(result or PENDING, 0.5)
    return {
        "q_evidence": _share(instance.evidence_count, instance.evidence_required),
        "q_answers": _share(instance.answers_given, instance.answers_required),
        "q_timeliness": timeliness,
        "q_feedback": feedback,
    }

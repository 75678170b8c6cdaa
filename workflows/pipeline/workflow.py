"""PipelineWorkflow: one durable pipeline of sales actions for one customer opportunity.

The workflow walks the template's actions in order. Each action opens, waits for a
validated completion (the evidence lock runs in the update validator), and meanwhile keeps
its clocks: the overdue deadline, the escalation chain and the customer-silence reminder.
Every fact it decides is published as an event through a local activity, with an id built
from what happened (never from a counter), so retries and replays publish nothing twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeKey, SearchAttributePair
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from workflows.pipeline.activities import PipelineActivities, PipelineFact
    from workflows.pipeline.lock import unmet_requirements
    from workflows.pipeline.template import (
        ROLE_REGIONAL_MANAGER,
        ROLE_REP,
        ROLE_SALES_DIRECTOR,
    )
    from workflows.pipeline.types import (
        ActionSnapshot,
        CloseInput,
        CompleteActionInput,
        CompleteActionResult,
        CustomerReplyInput,
        PipelineInput,
        PipelineResult,
        PipelineSnapshot,
        ReassignInput,
        TicketChangedInput,
        TicketSnapshot,
        Unmet,
    )

# Custom search attributes operations use to find pipelines (registered on real servers).
CURRENT_ACTION = SearchAttributeKey.for_keyword("SalesflowCurrentAction")
CURRENT_SINCE = SearchAttributeKey.for_datetime("SalesflowCurrentSince")
REP = SearchAttributeKey.for_keyword("SalesflowRep")
REGION = SearchAttributeKey.for_keyword("SalesflowRegion")
OUTCOME = SearchAttributeKey.for_keyword("SalesflowOutcome")
SEARCH_ATTRIBUTE_TYPES = {
    CURRENT_ACTION.name: "Keyword",
    CURRENT_SINCE.name: "Datetime",
    REP.name: "Keyword",
    REGION.name: "Keyword",
    OUTCOME.name: "Keyword",
}

PUBLISH_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
)

INCOMPLETE_ERROR_TYPE = "ActionIncomplete"
NOT_CURRENT_ERROR_TYPE = "NotCurrentAction"
CLOSED_ERROR_TYPE = "PipelineClosed"


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


@workflow.defn(name="PipelineWorkflow")
class PipelineWorkflow:
    @workflow.init
    def __init__(self, input: PipelineInput) -> None:
        # Initialised before any handler runs, so an update that races the first workflow
        # task sees a complete pipeline whose first action started when the workflow did.
        self._input = input
        self._template = input.template
        self._shift = timedelta(seconds=input.clock_shift_seconds)
        # The execution start, not the first task: a worker that comes up late changes nothing.
        started = workflow.info().workflow_start_time - self._shift
        self._actions = [
            ActionSnapshot(
                key=action.key, name=action.name, name_zh=action.name_zh, status="pending"
            )
            for action in self._template.actions
        ]
        self._current = 0
        self._outcome = "open"
        self._close_reason = ""
        self._last_touch = started
        # Each touch opens a new quiet period; the silence reminder fires once per period.
        self._quiet_period = 0
        self._reminders = 0
        self._escalations = 0
        self._tickets: dict[str, TicketSnapshot] = {}
        self._fired: set[str] = set()
        self._changes = 0
        # Facts decided but not yet published; flushed by the run loop in order.
        self._outbox: list[PipelineFact] = []
        self._open_action(0, started)

    @workflow.run
    async def run(self, input: PipelineInput) -> PipelineResult:
        self._record(
            "pipeline.started",
            self._event_id("pipeline.started"),
            {
                "workflowId": workflow.info().workflow_id,
                "managerId": input.manager_id,
                "account": input.account,
                "product": input.product,
                "templateId": self._template.template_id,
                "templateVersion": self._template.version,
                "actionKeys": list(self._template.action_keys),
            },
            at=self._actions[0].started_at,
        )

        while self._outcome == "open" and self._current < len(self._actions):
            index = self._current
            self._announce_action(index)
            await self._keep_clocks_until_done(index)
            if self._outcome == "open" and self._actions[index].status == "done":
                if index + 1 < len(self._actions):
                    self._open_action(index + 1, self._now())
                self._current = index + 1

        if self._outcome == "open":
            self._outcome = "won"
        self._update_search_attributes()
        self._record(
            "pipeline.closed",
            self._event_id("pipeline.closed"),
            {
                "outcome": self._outcome,
                "reason": self._close_reason,
                "lastActionKey": self._actions[min(self._current, len(self._actions) - 1)].key,
            },
        )
        await self._flush()
        await workflow.wait_condition(workflow.all_handlers_finished)
        return PipelineResult(
            opportunity_id=input.opportunity_id,
            outcome=self._outcome,
            actions_completed=sum(1 for action in self._actions if action.status == "done"),
            escalations=self._escalations,
            reminders=self._reminders,
        )

    # ---- handlers -------------------------------------------------------------------------

    @workflow.update
    def complete_action(self, request: CompleteActionInput) -> CompleteActionResult:
        """Completes the current action; the validator has already checked the lock."""
        index = self._current
        snapshot = self._actions[index]
        action = self._template.actions[index]
        now = self._now()
        on_time = not snapshot.overdue
        self._touch(now)

        self._record(
            "action.completed",
            self._event_id("action.completed", action.key),
            {
                "actionKey": action.key,
                "startedAt": _iso(snapshot.started_at),
                "onTime": on_time,
                "points": action.points_on_completion,
                "evidenceIds": [item.evidence_id for item in request.evidence],
                "answersGiven": sum(len(answer.values) for answer in request.answers),
                "answers": [{"key": a.key, "values": list(a.values)} for a in request.answers],
                "evidenceRequired": sum(rule.count for rule in action.evidence),
                "answersRequired": sum(rule.count for rule in action.answers),
            },
            at=now,
        )
        snapshot.status = "done"
        snapshot.completed_at = now
        self._changed()
        following = self._template.actions[index + 1].key if index + 1 < len(self._actions) else ""
        return CompleteActionResult(
            action_key=action.key,
            points=action.points_on_completion,
            on_time=on_time,
            next_action=following,
        )

    @complete_action.validator
    def validate_complete_action(self, request: CompleteActionInput) -> None:
        self._require_open()
        current = self._actions[self._current]
        if request.action_key != current.key or current.status != "open":
            raise ApplicationError(
                f"action {request.action_key!r} is not the current action "
                f"(current: {current.key}, {current.status})",
                current.key,
                type=NOT_CURRENT_ERROR_TYPE,
                non_retryable=True,
            )
        unmet = self.unmet_for(request)
        if unmet:
            raise ApplicationError(
                f"{current.key} cannot be completed: "
                + "; ".join(requirement.message for requirement in unmet),
                *unmet,
                type=INCOMPLETE_ERROR_TYPE,
                non_retryable=True,
            )

    def unmet_for(self, request: CompleteActionInput) -> list[Unmet]:
        snapshot = self._actions[self._current]
        return unmet_requirements(
            self._template.actions[self._current],
            opportunity_id=self._input.opportunity_id,
            window_start=snapshot.started_at or self._now(),
            window_end=self._now(),
            evidence=request.evidence,
            answers=request.answers,
            tickets=list(self._tickets.values()),
            uploaders=frozenset({self._input.rep_id, self._input.manager_id}),
            time_zone=self._input.rep_time_zone,
        )

    @workflow.update
    def record_customer_reply(self, request: CustomerReplyInput) -> PipelineSnapshot:
        """The customer answered: re-arms the silence clock."""
        now = self._now()
        self._touch(now)
        self._record(
            "customer.replied",
            self._event_id("customer.replied", str(self._quiet_period)),
            {"actionKey": self._actions[self._current].key, "note": request.note},
            at=now,
        )
        return self.state()

    @record_customer_reply.validator
    def validate_customer_reply(self, request: CustomerReplyInput) -> None:
        self._require_open()

    @workflow.update
    def close_lost(self, request: CloseInput) -> PipelineSnapshot:
        """Ends the pipeline as lost; the run loop publishes the closing event."""
        self._outcome = "lost"
        self._close_reason = request.reason
        current = self._actions[self._current]
        if current.status == "open":
            current.status = "skipped"
        for snapshot in self._actions:
            if snapshot.status == "pending":
                snapshot.status = "skipped"
        self._changed()
        return self.state()

    @close_lost.validator
    def validate_close_lost(self, request: CloseInput) -> None:
        self._require_open()
        if not request.reason.strip():
            raise ApplicationError("a reason is required to close a pipeline", non_retryable=True)

    @workflow.signal
    def ticket_changed(self, change: TicketChangedInput) -> None:
        """A department acknowledged, resolved or rejected a ticket of this pipeline."""
        ticket = self._tickets.get(change.ticket_key)
        if ticket is None or ticket.status in ("resolved",):
            return
        ticket.status = change.status
        ticket.note = change.note
        self._changed()

    @workflow.signal
    def reassign(self, change: ReassignInput) -> None:
        """Hands the pipeline to another rep (and their manager), e.g. when a rep leaves."""
        if not change.rep_id.strip():
            workflow.logger.warning("reassign without a rep ignored")
            return
        self._input.rep_id = change.rep_id
        self._input.manager_id = change.manager_id or self._input.manager_id
        self._input.region = change.region or self._input.region
        self._changed()

    @workflow.query
    def state(self) -> PipelineSnapshot:
        current = self._actions[min(self._current, len(self._actions) - 1)]
        return PipelineSnapshot(
            opportunity_id=self._input.opportunity_id,
            rep_id=self._input.rep_id,
            manager_id=self._input.manager_id,
            region=self._input.region,
            account=self._input.account,
            outcome=self._outcome,
            current_action=current.key if self._outcome == "open" else "",
            current_since=current.started_at if self._outcome == "open" else None,
            last_touch_at=self._last_touch,
            actions=list(self._actions),
            overdue_actions=[
                action.key for action in self._actions if action.overdue and action.status != "done"
            ],
            tickets=list(self._tickets.values()),
            template_id=self._template.template_id,
            template_version=self._template.version,
            reminders=self._reminders,
            escalations=self._escalations,
            close_reason=self._close_reason,
        )

    # ---- the action's clocks ----------------------------------------------------------------

    def _open_action(self, index: int, started_at: datetime) -> None:
        action = self._template.actions[index]
        snapshot = self._actions[index]
        snapshot.status = "open"
        snapshot.started_at = started_at
        if action.due_hours > 0:
            snapshot.due_at = started_at + timedelta(hours=action.due_hours)
        for rule in action.tickets:
            key = f"{self._input.opportunity_id}:{action.key}:{rule.department}"
            self._tickets[key] = TicketSnapshot(
                ticket_key=key,
                department=rule.department,
                action_key=action.key,
                status="requested",
            )

    def _announce_action(self, index: int) -> None:
        action = self._template.actions[index]
        snapshot = self._actions[index]
        self._update_search_attributes()
        self._record(
            "action.started",
            self._event_id("action.started", action.key),
            {"actionKey": action.key, "position": index, "dueAt": _iso(snapshot.due_at)},
            at=snapshot.started_at,
        )
        for rule in action.tickets:
            key = f"{self._input.opportunity_id}:{action.key}:{rule.department}"
            self._record(
                "ticket.requested",
                self._event_id("ticket.requested", key),
                {
                    "ticketKey": key,
                    "department": rule.department,
                    "kind": rule.kind,
                    "actionKey": action.key,
                    "workflowId": workflow.info().workflow_id,
                    "responseTargetMinutes": rule.response_target_minutes,
                },
                at=snapshot.started_at,
            )

    async def _keep_clocks_until_done(self, index: int) -> None:
        """Waits for the action to finish, firing each deadline when it falls due."""
        snapshot = self._actions[index]
        while self._outcome == "open" and snapshot.status != "done":
            self._fire_due_deadlines(index)
            await self._flush()
            next_deadline = self._next_deadline(index)
            seen = self._changes
            timeout = None
            if next_deadline is not None:
                timeout = max(next_deadline - self._now(), timedelta(0))
            try:
                await workflow.wait_condition(
                    lambda seen=seen: self._changes != seen or snapshot.status == "done",
                    timeout=timeout,
                    timeout_summary="next pipeline deadline",
                )
            except TimeoutError:
                pass

    def _deadlines(self, index: int) -> list[tuple[datetime, str]]:
        """Every clock of the open action: (when, what), fired or not."""
        action = self._template.actions[index]
        snapshot = self._actions[index]
        started = snapshot.started_at or self._now()
        deadlines: list[tuple[datetime, str]] = []
        if snapshot.due_at is not None:
            deadlines.append((snapshot.due_at, f"overdue:{action.key}"))
        for level, escalation in enumerate(action.escalations, start=1):
            when = started + timedelta(hours=escalation.after_hours)
            deadlines.append((when, f"escalation:{action.key}:{level}"))
        if self._template.silence_reminder_hours > 0:
            when = self._last_touch + timedelta(hours=self._template.silence_reminder_hours)
            deadlines.append((when, f"silence:{self._quiet_period}"))
        return deadlines

    def _next_deadline(self, index: int) -> datetime | None:
        pending = [when for when, key in self._deadlines(index) if key not in self._fired]
        return min(pending) if pending else None

    def _fire_due_deadlines(self, index: int) -> None:
        now = self._now()
        for when, key in sorted(self._deadlines(index)):
            if key in self._fired or when > now:
                continue
            # Marked before publishing: a handler running meanwhile must not fire it again.
            self._fired.add(key)
            kind = key.split(":", 1)[0]
            if kind == "overdue":
                self._mark_overdue(index, when)
            elif kind == "escalation":
                self._escalate(index, int(key.rsplit(":", 1)[1]), when)
            elif kind == "silence":
                self._remind_silence(index, when)

    def _mark_overdue(self, index: int, due_at: datetime) -> None:
        action = self._template.actions[index]
        self._actions[index].overdue = True
        self._record(
            "action.overdue",
            self._event_id("action.overdue", action.key),
            {"actionKey": action.key, "dueAt": _iso(due_at), "points": action.points_when_overdue},
            at=due_at,
        )

    def _escalate(self, index: int, level: int, when: datetime) -> None:
        action = self._template.actions[index]
        escalation = action.escalations[level - 1]
        self._actions[index].escalations += 1
        self._escalations += 1
        self._record(
            "escalation.raised",
            self._event_id("escalation.raised", action.key, str(level)),
            {
                "actionKey": action.key,
                "level": level,
                "toRole": escalation.to_role,
                "toPerson": self._person_for(escalation.to_role),
                "openSince": _iso(self._actions[index].started_at),
            },
            at=when,
        )

    def _remind_silence(self, index: int, when: datetime) -> None:
        self._reminders += 1
        people = [self._person_for(role) for role in self._template.silence_reminder_to]
        self._record(
            "reminder.raised",
            self._event_id("reminder.raised", "customer_silence", str(self._quiet_period)),
            {
                "kind": "customer_silence",
                "toPeople": [person for person in people if person],
                "silentSince": _iso(self._last_touch),
                "actionKey": self._actions[index].key,
            },
            at=when,
        )

    # ---- helpers ---------------------------------------------------------------------------

    def _now(self) -> datetime:
        """Business time: workflow time, shifted back when replaying a past export."""
        return workflow.now() - self._shift

    def _touch(self, now: datetime) -> None:
        self._last_touch = now
        self._quiet_period += 1
        self._changed()

    def _changed(self) -> None:
        self._changes += 1

    def _require_open(self) -> None:
        if self._outcome != "open":
            raise ApplicationError(
                f"pipeline {self._input.opportunity_id} is closed ({self._outcome})",
                self._outcome,
                type=CLOSED_ERROR_TYPE,
                non_retryable=True,
            )

    def _person_for(self, role: str) -> str:
        return {
            ROLE_REP: self._input.rep_id,
            ROLE_REGIONAL_MANAGER: self._input.manager_id,
            ROLE_SALES_DIRECTOR: self._input.director_id,
        }.get(role, "")

    def _event_id(self, event_type: str, *parts: str) -> str:
        return ":".join([workflow.info().workflow_id, event_type, *parts])

    def _update_search_attributes(self) -> None:
        if not self._input.search_attributes:
            return
        current = self._actions[min(self._current, len(self._actions) - 1)]
        pairs: list[SearchAttributePair] = [
            CURRENT_ACTION.value_set(current.key if self._outcome == "open" else ""),
            REP.value_set(self._input.rep_id),
            REGION.value_set(self._input.region),
            OUTCOME.value_set(self._outcome),
        ]
        if current.started_at is not None:
            pairs.append(CURRENT_SINCE.value_set(current.started_at))
        workflow.upsert_search_attributes(pairs)

    def _record(
        self, event_type: str, event_id: str, payload: dict, *, at: datetime | None = None
    ) -> None:
        """Queues a fact for publishing; the run loop flushes the queue in one activity."""
        self._outbox.append(
            PipelineFact(
                event_id=event_id,
                event_type=event_type,
                time=at or self._now(),
                opportunity_id=self._input.opportunity_id,
                rep_id=self._input.rep_id,
                region=self._input.region,
                payload={key: value for key, value in payload.items() if value is not None},
            )
        )
        self._changed()

    async def _flush(self) -> None:
        """Publishes every queued fact, in order, with one local activity."""
        while self._outbox:
            facts, self._outbox = self._outbox, []
            await workflow.execute_local_activity_method(
                PipelineActivities.publish_facts,
                facts,
                start_to_close_timeout=timedelta(seconds=30),
                retry_policy=PUBLISH_RETRY,
            )


__all__ = ["PipelineWorkflow"]

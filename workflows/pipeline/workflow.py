"""PipelineWorkflow: one durable pipeline of sales actions for one customer opportunity.

The workflow walks the template's actions in order. Each action opens, waits for a
validated completion (the evidence lock runs in the update validator), and meanwhile keeps
its clocks: the warning, the overdue deadline, the escalation chain, recurring reminders and
the customer-silence reminder, on wall-clock or business hours judged in the rep's zone
(the arithmetic lives in deadlines.py and calendar.py). A paused action's clocks stand
still. Every fact it decides is published as an event through a local activity, with an id
built from what happened (never from a counter), so retries and replays publish nothing twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy, SearchAttributeKey, SearchAttributePair
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from workflows.pipeline import deadlines
    from workflows.pipeline.activities import PipelineActivities, PipelineFact
    from workflows.pipeline.deadlines import ClockDeadline, Pause
    from workflows.pipeline.lock import SENT_BACK, unmet_requirements
    from workflows.pipeline.template import (
        ROLE_REGIONAL_MANAGER,
        ROLE_REP,
        ROLE_SALES_DIRECTOR,
        PipelineTemplate,
        TicketRule,
    )
    from workflows.pipeline.types import (
        ActionSnapshot,
        CloseInput,
        CompleteActionInput,
        CompleteActionResult,
        CustomerReplyInput,
        Deadline,
        DeadlineChange,
        PauseInput,
        PipelineInput,
        PipelineResult,
        PipelineSnapshot,
        ReassignInput,
        ResubmitInput,
        ResumeInput,
        TemplateChangePreview,
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
# Pausing a paused action, resuming a running one, or a pause without a reason.
PAUSE_ERROR_TYPE = "PauseRefused"
TEMPLATE_CHANGE_ERROR_TYPE = "TemplateChangeRefused"
# Resubmitting an action nothing was sent back for.
RESUBMIT_ERROR_TYPE = "ResubmitRefused"

# Histories from before a department could send an action back replay without its event.
TICKET_RETURNS_PATCH = "ticket-returns"


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
        # An unknown zone would stop every clock; the calendar's zone judges instead.
        self._zone = input.rep_time_zone if deadlines.valid_zone(input.rep_time_zone) else ""
        if input.rep_time_zone and not self._zone:
            workflow.logger.warning(
                "unknown rep time zone %r; the calendar's zone is used", input.rep_time_zone
            )
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
        # Per action key: how many times departments sent the current occurrence back.
        self._returns: dict[str, int] = {}
        # Clocks that fired, by key (action, occurrence, clock), with when they fell due.
        self._fired: dict[str, datetime] = {}
        # Per action key: times opened (the occurrence), the finished pauses and the last
        # reminder number sent per rule, all of the current occurrence.
        self._opened: dict[str, int] = {}
        self._pauses: dict[str, list[Pause]] = {}
        self._reminders_sent: dict[str, dict[str, int]] = {}
        # When the current action's open pause began; None while its clocks run.
        self._paused_at: datetime | None = None
        self._template_changes = 0
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
            self._announce_action(self._current)
            # A template change may move the current action to another position meanwhile.
            await self._keep_clocks_until_done()
            if self._outcome == "open":
                self._open_next_action()

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
        if self._paused_at is not None:
            # Completing a paused action (the customer approved) ends the pause on record.
            self._end_pause(index, now, actor_id=request.actor_id)
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
            tickets=self._current_tickets(),
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
        """A department acknowledged, resolved or rejected a ticket of this pipeline, or
        asked for changes. A rejection or a request for changes sends the ticket's action
        back to the rep with the department's reason."""
        ticket = self._tickets.get(change.ticket_key)
        if ticket is None or ticket.status in ("resolved",):
            return
        if ticket.superseded or change.round < ticket.round:
            # A rejected occurrence the rep already resubmitted, or a change from before the
            # rep's latest revision: it no longer speaks for the review.
            return
        previous = ticket.status
        ticket.status = change.status
        ticket.note = change.note
        if change.status in SENT_BACK and change.status != previous:
            self._return_action(ticket)
        self._mark_returned(ticket.action_key)
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

    @workflow.update
    def pause_action(self, request: PauseInput) -> PipelineSnapshot:
        """Stops the current action's clocks, e.g. while the customer's own approval runs.

        The customer-silence clock stands still too: the pipeline is waiting for the
        customer on purpose, so their silence is expected and no reminder should nag.
        """
        index = self._current
        action = self._template.actions[index]
        snapshot = self._actions[index]
        now = self._now()
        self._paused_at = now
        snapshot.paused = True
        snapshot.pause_reason = request.reason.strip()
        self._record(
            "action.paused",
            self._event_id(
                "action.paused",
                action.key,
                str(len(self._pauses[action.key]) + 1),
                self._occurrence(index),
            ),
            {
                "actionKey": action.key,
                "reason": snapshot.pause_reason,
                "actorId": request.actor_id,
                "occurrence": self._opened[action.key],
            },
            at=now,
        )
        return self.state()

    @pause_action.validator
    def validate_pause_action(self, request: PauseInput) -> None:
        self._require_open()
        current = self._require_current(request.action_key)
        if not request.reason.strip():
            raise ApplicationError(
                "a reason is required to pause an action", type=PAUSE_ERROR_TYPE, non_retryable=True
            )
        if current.paused:
            raise ApplicationError(
                f"{current.key} is already paused ({current.pause_reason})",
                type=PAUSE_ERROR_TYPE,
                non_retryable=True,
            )

    @workflow.update
    def resume_action(self, request: ResumeInput) -> PipelineSnapshot:
        """Starts the paused action's clocks again; every pending deadline moves out by the
        time its clock ran during the pause."""
        self._end_pause(self._current, self._now(), actor_id=request.actor_id)
        return self.state()

    @resume_action.validator
    def validate_resume_action(self, request: ResumeInput) -> None:
        self._require_open()
        current = self._require_current(request.action_key)
        if not current.paused:
            raise ApplicationError(
                f"{current.key} is not paused", type=PAUSE_ERROR_TYPE, non_retryable=True
            )

    @workflow.update
    def resubmit_action(self, request: ResubmitInput) -> PipelineSnapshot:
        """The rep revised the action a department sent back: a rejected review is requested
        again as the ticket's next occurrence, a ticket awaiting changes goes back to its
        department."""
        index = self._current
        action = self._template.actions[index]
        now = self._now()
        for ticket in self._returned_tickets(action.key):
            if ticket.status == "rejected":
                self._request_again(index, ticket, request, now)
            else:
                self._resubmit_ticket(ticket, request, now)
        self._mark_returned(action.key)
        self._changed()
        return self.state()

    @resubmit_action.validator
    def validate_resubmit_action(self, request: ResubmitInput) -> None:
        self._require_open()
        current = self._require_current(request.action_key)
        if not self._returned_tickets(current.key):
            raise ApplicationError(
                f"{current.key} was not sent back by any department; there is nothing to resubmit",
                type=RESUBMIT_ERROR_TYPE,
                non_retryable=True,
            )

    @workflow.query
    def preview_template_change(self, template: PipelineTemplate) -> TemplateChangePreview:
        """What moving this pipeline to `template` would change, deadlines before and after."""
        old_keys = self._template.action_keys
        new_keys = template.action_keys
        preview = TemplateChangePreview(
            from_version=self._template.version,
            to_version=template.version,
            possible=True,
            added_actions=[key for key in new_keys if key not in old_keys],
            removed_actions=[key for key in old_keys if key not in new_keys],
        )
        if self._outcome != "open":
            preview.problems.append(f"the pipeline is closed ({self._outcome})")
        else:
            current = self._actions[self._current].key
            if current not in new_keys:
                preview.problems.append(
                    f"the current action {current!r} is not in {template.template_id} "
                    f"version {template.version}"
                )
        if not preview.problems:
            before = {deadline.key: deadline.at for deadline in self._deadline_view()}
            try:
                after = {deadline.key: deadline.at for deadline in self._deadline_view(template)}
            except (ValueError, KeyError) as error:
                # A calendar without working time or an unknown zone (ZoneInfoNotFoundError
                # is a KeyError): the move would stop every clock.
                preview.problems.append(f"the new version's clocks cannot run: {error}")
                after = {}
            preview.deadlines = [
                DeadlineChange(key=key, before=before.get(key), after=after.get(key))
                for key in dict.fromkeys([*before, *after])
            ]
        preview.possible = not preview.problems
        return preview

    @workflow.update
    def change_template(self, template: PipelineTemplate) -> PipelineSnapshot:
        """Moves the running pipeline to another template version.

        Completed actions stay done; actions the new version puts before the current one
        and that never ran are skipped. The current action keeps its start, its pauses and
        the clocks that already fired; its other deadlines follow the new version's rules.
        """
        preview = self.preview_template_change(template)
        now = self._now()
        current_key = self._actions[self._current].key
        kept = {snapshot.key: snapshot for snapshot in self._actions}
        self._actions = [
            kept.get(action.key)
            or ActionSnapshot(
                key=action.key, name=action.name, name_zh=action.name_zh, status="pending"
            )
            for action in template.actions
        ]
        for snapshot, action in zip(self._actions, template.actions, strict=True):
            snapshot.name, snapshot.name_zh = action.name, action.name_zh
        self._current = template.action_keys.index(current_key)
        for snapshot in self._actions[: self._current]:
            if snapshot.status == "pending":
                snapshot.status = "skipped"
        self._template = template
        self._template_changes += 1

        current = self._actions[self._current]
        current.due_at = self._due_at(self._current)
        self._record(
            "pipeline.template_changed",
            self._event_id(
                "pipeline.template_changed",
                str(self._template_changes),
                template.template_id,
                str(template.version),
            ),
            {
                "templateId": template.template_id,
                "fromVersion": preview.from_version,
                "toVersion": preview.to_version,
                "currentAction": current_key,
                "currentPosition": self._current,
                "addedActions": preview.added_actions,
                "removedActions": preview.removed_actions,
            },
            at=now,
        )
        # Tickets the new version's current action asks for are requested now.
        for rule in self._request_tickets(self._current):
            self._announce_ticket(self._current, rule, at=now)
        return self.state()

    @change_template.validator
    def validate_change_template(self, template: PipelineTemplate) -> None:
        self._require_open()
        preview = self.preview_template_change(template)
        if not preview.possible:
            raise ApplicationError(
                "the pipeline cannot move to "
                f"{template.template_id} version {template.version}: "
                + "; ".join(preview.problems),
                *preview.problems,
                type=TEMPLATE_CHANGE_ERROR_TYPE,
                non_retryable=True,
            )

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
            tickets=self._current_tickets(),
            template_id=self._template.template_id,
            template_version=self._template.version,
            reminders=self._reminders,
            escalations=self._escalations,
            close_reason=self._close_reason,
            deadlines=self._deadline_view(),
            rep_time_zone=self._zone,
        )

    # ---- the action's clocks ----------------------------------------------------------------

    def _open_action(self, index: int, started_at: datetime) -> None:
        action = self._template.actions[index]
        snapshot = self._actions[index]
        snapshot.status = "open"
        snapshot.started_at = started_at
        self._opened[action.key] = self._opened.get(action.key, 0) + 1
        self._pauses[action.key] = []
        self._reminders_sent[action.key] = {}
        self._returns[action.key] = 0
        snapshot.due_at = self._due_at(index)
        self._request_tickets(index)

    def _open_next_action(self) -> None:
        """Opens the next action still pending after the current one, if any."""
        following = next(
            (
                index
                for index in range(self._current + 1, len(self._actions))
                if self._actions[index].status == "pending"
            ),
            len(self._actions),
        )
        if following < len(self._actions):
            self._open_action(following, self._now())
        self._current = following

    def _request_tickets(self, index: int) -> list[TicketRule]:
        """Opens the tickets the action's rules ask for and it does not have yet."""
        action = self._template.actions[index]
        opened: list[TicketRule] = []
        for rule in action.tickets:
            key = self._ticket_key(action.key, rule.department)
            if key in self._tickets:
                continue
            self._tickets[key] = TicketSnapshot(
                ticket_key=key,
                department=rule.department,
                action_key=action.key,
                status="requested",
            )
            opened.append(rule)
        return opened

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
            self._announce_ticket(index, rule, at=snapshot.started_at)

    def _announce_ticket(
        self,
        index: int,
        rule: TicketRule,
        *,
        at: datetime | None,
        again: TicketSnapshot | None = None,
        note: str = "",
    ) -> None:
        """Requests the rule's ticket; `again` is the rejected occurrence it follows."""
        action = self._template.actions[index]
        occurrence = again.occurrence + 1 if again is not None else 1
        key = self._ticket_key(action.key, rule.department, occurrence)
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
                "occurrence": occurrence,
                "previousTicketKey": again.ticket_key if again is not None else None,
                "note": note or None,
                "clockShiftSeconds": self._shift.total_seconds() or None,
            },
            at=at,
        )

    def _ticket_key(self, action_key: str, department: str, occurrence: int = 1) -> str:
        """One ticket per pipeline, action and department; later occurrences append theirs."""
        key = f"{self._input.opportunity_id}:{action_key}:{department}"
        return key if occurrence == 1 else f"{key}:{occurrence}"

    def _current_tickets(self) -> list[TicketSnapshot]:
        """Every ticket that speaks for its review (superseded occurrences left out)."""
        return [ticket for ticket in self._tickets.values() if not ticket.superseded]

    def _returned_tickets(self, action_key: str) -> list[TicketSnapshot]:
        return [
            ticket
            for ticket in self._current_tickets()
            if ticket.action_key == action_key and ticket.status in SENT_BACK
        ]

    def _mark_returned(self, action_key: str) -> None:
        """Shows on the action whether a department has it sent back, and why."""
        snapshot = next((s for s in self._actions if s.key == action_key), None)
        if snapshot is None:
            return
        returned = self._returned_tickets(action_key) if snapshot.status == "open" else []
        snapshot.returned = bool(returned)
        snapshot.return_reason = "; ".join(ticket.note for ticket in returned if ticket.note)

    def _return_action(self, ticket: TicketSnapshot) -> None:
        """Tells the rep that a department sent the ticket's open action back, and why."""
        index = next(
            (i for i, snapshot in enumerate(self._actions) if snapshot.key == ticket.action_key),
            None,
        )
        if index is None or self._actions[index].status != "open":
            return
        if not workflow.patched(TICKET_RETURNS_PATCH):
            return
        action_key = ticket.action_key
        self._returns[action_key] = self._returns.get(action_key, 0) + 1
        number = self._returns[action_key]
        self._record(
            "action.returned",
            self._event_id("action.returned", action_key, str(number), self._occurrence(index)),
            {
                "actionKey": action_key,
                "ticketKey": ticket.ticket_key,
                "department": ticket.department,
                "ticketStatus": ticket.status,
                "reason": ticket.note,
                "toPerson": self._input.rep_id,
                "occurrence": self._opened.get(action_key, 1),
                "number": number,
            },
        )

    def _request_again(
        self, index: int, rejected: TicketSnapshot, request: ResubmitInput, now: datetime
    ) -> None:
        """A rejected ticket is closed for good: the review is requested as its next
        occurrence, under a key of its own."""
        action = self._template.actions[index]
        rule = next(
            (rule for rule in action.tickets if rule.department == rejected.department),
            TicketRule(rejected.department, "review"),
        )
        rejected.superseded = True
        occurrence = rejected.occurrence + 1
        key = self._ticket_key(action.key, rule.department, occurrence)
        self._tickets[key] = TicketSnapshot(
            ticket_key=key,
            department=rule.department,
            action_key=action.key,
            status="requested",
            note=request.note,
            occurrence=occurrence,
        )
        self._announce_ticket(index, rule, at=now, again=rejected, note=request.note)

    def _resubmit_ticket(
        self, ticket: TicketSnapshot, request: ResubmitInput, now: datetime
    ) -> None:
        """A ticket awaiting changes goes back to its department, the same ticket."""
        ticket.round += 1
        ticket.status = "resubmitted"
        ticket.note = request.note
        self._record(
            "ticket.resubmitted",
            self._event_id("ticket.resubmitted", ticket.ticket_key, str(ticket.round)),
            {
                "ticketKey": ticket.ticket_key,
                "department": ticket.department,
                "actionKey": ticket.action_key,
                "note": request.note,
                "actorId": request.actor_id,
                "round": ticket.round,
            },
            at=now,
        )

    async def _keep_clocks_until_done(self) -> None:
        """Waits for the current action to finish, firing each deadline when it falls due."""
        while self._outcome == "open" and self._actions[self._current].status != "done":
            self._fire_due_deadlines(self._current)
            await self._flush()
            pending = [when for when, _key, _clock in self._pending(self._current)]
            seen = self._changes
            timeout = None
            if pending:
                timeout = max(min(pending) - self._now(), timedelta(0))
            try:
                await workflow.wait_condition(
                    lambda seen=seen: (
                        self._changes != seen or self._actions[self._current].status == "done"
                    ),
                    timeout=timeout,
                    timeout_summary="next pipeline deadline",
                )
            except TimeoutError:
                pass

    def _action_clocks(
        self, index: int, template: PipelineTemplate | None = None
    ) -> list[ClockDeadline]:
        """The action's warning, due time, escalations and next reminders under a template
        (the running one by default), counted from its start with finished pauses held."""
        template = template or self._template
        snapshot = self._actions[index]
        action = template.action(snapshot.key)
        if action is None or snapshot.started_at is None:
            return []
        clock = deadlines.action_clock(template, action, self._zone)
        held = deadlines.held(clock, self._pauses.get(action.key, []), since=snapshot.started_at)
        clocks = deadlines.action_deadlines(
            action, clock, started_at=snapshot.started_at, held_time=held
        )
        return clocks + deadlines.next_reminders(
            action,
            clock,
            started_at=snapshot.started_at,
            held_time=held,
            sent=self._reminders_sent.get(action.key, {}),
        )

    def _silence_due(self, template: PipelineTemplate | None = None) -> datetime | None:
        """When the customer-silence reminder of this quiet period falls due."""
        template = template or self._template
        clock = deadlines.silence_clock(template, self._zone)
        # A pause of the current action holds the silence clock as well (see pause_action).
        current = self._actions[min(self._current, len(self._actions) - 1)]
        held = deadlines.held(clock, self._pauses.get(current.key, []), since=self._last_touch)
        return deadlines.silence_at(template, clock, last_touch=self._last_touch, held_time=held)

    def _clock_key(self, index: int, clock: ClockDeadline) -> str:
        """Key of a clock in `_fired`: action, occurrence, clock (and reminder number)."""
        key = f"{self._action_ref(index)}:{clock.key}"
        return f"{key}:{clock.number}" if clock.number else key

    def _pending(self, index: int) -> list[tuple[datetime, str, ClockDeadline | None]]:
        """Clocks still to fire: (when, key, the action's clock or None for silence).

        Nothing is pending while the action is paused: its clocks and the silence clock
        stand still until it resumes.
        """
        if self._paused_at is not None:
            return []
        pending: list[tuple[datetime, str, ClockDeadline | None]] = []
        for clock in self._action_clocks(index):
            key = self._clock_key(index, clock)
            if key not in self._fired:
                pending.append((clock.at, key, clock))
        silence = self._silence_due()
        silence_key = f"silence:{self._quiet_period}"
        if silence is not None and silence_key not in self._fired:
            pending.append((silence, silence_key, None))
        return pending

    def _fire_due_deadlines(self, index: int) -> None:
        now = self._now()
        due = [entry for entry in self._pending(index) if entry[0] <= now]
        for when, key, clock in sorted(due, key=lambda entry: (entry[0], entry[1])):
            if clock is not None and clock.number:
                self._remind(index, clock, now)
                continue
            # Marked before publishing: a handler running meanwhile must not fire it again.
            self._fired[key] = when
            if clock is None:
                self._remind_silence(index, when)
            elif clock.key == deadlines.WARNING:
                self._warn(index, when)
            elif clock.key == deadlines.DUE:
                self._mark_overdue(index, when)
            else:
                self._escalate(index, clock.level, when)

    def _due_at(self, index: int) -> datetime | None:
        return next(
            (clock.at for clock in self._action_clocks(index) if clock.key == deadlines.DUE),
            None,
        )

    def _warn(self, index: int, when: datetime) -> None:
        action = self._template.actions[index]
        self._actions[index].warned = True
        self._record(
            "action.warning",
            self._event_id("action.warning", action.key, self._occurrence(index)),
            {
                "actionKey": action.key,
                "dueAt": _iso(self._actions[index].due_at),
                "occurrence": self._opened[action.key],
            },
            at=when,
        )

    def _mark_overdue(self, index: int, due_at: datetime) -> None:
        action = self._template.actions[index]
        self._actions[index].overdue = True
        self._record(
            "action.overdue",
            self._event_id("action.overdue", action.key, self._occurrence(index)),
            {
                "actionKey": action.key,
                "dueAt": _iso(due_at),
                "points": action.points_when_overdue,
                "occurrence": self._opened[action.key],
            },
            at=due_at,
        )

    def _escalate(self, index: int, level: int, when: datetime) -> None:
        action = self._template.actions[index]
        escalation = action.escalations[level - 1]
        self._actions[index].escalations += 1
        self._escalations += 1
        self._record(
            "escalation.raised",
            self._event_id("escalation.raised", action.key, str(level), self._occurrence(index)),
            {
                "actionKey": action.key,
                "level": level,
                "toRole": escalation.to_role,
                "toPerson": self._person_for(escalation.to_role),
                "openSince": _iso(self._actions[index].started_at),
                "occurrence": self._opened[action.key],
            },
            at=when,
        )

    def _remind(self, index: int, due: ClockDeadline, now: datetime) -> None:
        """Sends the latest reminder of a rule that is due (missed ones are not repeated)."""
        action = self._template.actions[index]
        rule = next(rule for rule in action.reminders if rule.key == due.rule)
        snapshot = self._actions[index]
        clock = deadlines.action_clock(self._template, action, self._zone)
        sent = self._reminders_sent[action.key]
        latest = deadlines.latest_reminder(
            rule,
            clock,
            started_at=snapshot.started_at,
            held_time=deadlines.held(clock, self._pauses[action.key], since=snapshot.started_at),
            now=now,
            sent=sent.get(rule.key, 0),
        )
        # `due` has fallen due, so there is a latest one (at least its number).
        assert latest is not None
        number, when = latest.number, latest.at
        sent[rule.key] = number
        self._fired[self._clock_key(index, latest)] = when
        self._reminders += 1
        people = [self._person_for(role) for role in rule.to_roles]
        self._record(
            "reminder.raised",
            self._event_id(
                "reminder.raised", action.key, rule.key, str(number), self._occurrence(index)
            ),
            {
                "kind": rule.key,
                "toPeople": [person for person in people if person],
                "actionKey": action.key,
                "number": number,
                "occurrence": self._opened[action.key],
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

    def _end_pause(self, index: int, now: datetime, *, actor_id: str) -> None:
        """Closes the open pause: its time is held on every clock still to fire."""
        action = self._template.actions[index]
        snapshot = self._actions[index]
        pause = Pause(self._paused_at or now, now)
        self._pauses[action.key].append(pause)
        self._paused_at = None
        paused_seconds = (pause.end - pause.start).total_seconds()
        snapshot.paused = False
        snapshot.pause_reason = ""
        snapshot.paused_seconds += paused_seconds
        snapshot.due_at = self._due_at(index)
        self._record(
            "action.resumed",
            self._event_id(
                "action.resumed",
                action.key,
                str(len(self._pauses[action.key])),
                self._occurrence(index),
            ),
            {
                "actionKey": action.key,
                "pausedSeconds": paused_seconds,
                "actorId": actor_id,
                "occurrence": self._opened[action.key],
                "dueAt": _iso(snapshot.due_at),
            },
            at=now,
        )

    def _deadline_view(self, template: PipelineTemplate | None = None) -> list[Deadline]:
        """The current action's clocks and the silence clock under a template, as they stand:
        fired ones with the moment they fell due, the others unknown (None) while paused."""
        if self._outcome != "open" or self._current >= len(self._actions):
            return []
        index = self._current
        paused = self._paused_at is not None
        view = [
            self._view_one(clock.key, self._clock_key(index, clock), clock.at, paused)
            for clock in self._action_clocks(index, template)
        ]
        view += self._exhausted_reminders(index, template)
        silence = self._silence_due(template)
        if silence is not None:
            silence_key = f"silence:{self._quiet_period}"
            view.append(self._view_one(deadlines.SILENCE, silence_key, silence, paused))
        return view

    def _view_one(self, name: str, key: str, at: datetime | None, paused: bool) -> Deadline:
        if key in self._fired:
            return Deadline(key=name, at=self._fired[key], fired=True)
        return Deadline(key=name, at=None if paused else at)

    def _exhausted_reminders(self, index: int, template: PipelineTemplate | None) -> list[Deadline]:
        """Rules that sent their last reminder: shown with the moment it fell due."""
        template = template or self._template
        action = template.action(self._actions[index].key)
        if action is None:
            return []
        sent = self._reminders_sent.get(action.key, {})
        view = []
        for rule in action.reminders:
            number = sent.get(rule.key, 0)
            if rule.max_times and number >= rule.max_times:
                key = f"{self._action_ref(index)}:reminder:{rule.key}:{number}"
                view.append(
                    Deadline(key=f"reminder:{rule.key}", at=self._fired.get(key), fired=True)
                )
        return view

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

    def _occurrence(self, index: int) -> str:
        """How many times the action has been opened (1 unless it was sent back)."""
        return str(self._opened.get(self._actions[index].key, 1))

    def _action_ref(self, index: int) -> str:
        return f"{self._actions[index].key}:{self._occurrence(index)}"

    def _require_current(self, action_key: str) -> ActionSnapshot:
        current = self._actions[self._current]
        if (action_key and action_key != current.key) or current.status != "open":
            raise ApplicationError(
                f"action {action_key or current.key!r} is not the current action "
                f"(current: {current.key}, {current.status})",
                current.key,
                type=NOT_CURRENT_ERROR_TYPE,
                non_retryable=True,
            )
        return current

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

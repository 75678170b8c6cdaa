"""TicketResponseWorkflow: the response clock of one ticket to legal or logistics.

Started by the ticketing service when a ticket opens, it sleeps until each escalation level
falls due (the first at the ticket's respond_by, all counted beforehand in the department's
business hours) and raises the level unless the department responded first. A durable timer
notices a missed target even when no process is looking at that moment; the first response
(signal `responded`) ends it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from workflows.ticket_response.activities import TicketResponseActivities
    from workflows.ticket_response.types import (
        ResponseLevel,
        TicketEscalation,
        TicketReassigned,
        TicketResponded,
        TicketResponseInput,
        TicketResponseResult,
    )

PUBLISH_RETRY = RetryPolicy(
    initial_interval=timedelta(milliseconds=200),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=30),
)


@workflow.defn(name="TicketResponseWorkflow")
class TicketResponseWorkflow:
    @workflow.init
    def __init__(self, input: TicketResponseInput) -> None:
        self._input = input
        self._shift = timedelta(seconds=input.clock_shift_seconds)
        self._assignee = input.assignee_id
        self._responded: TicketResponded | None = None
        self._escalated: list[int] = []

    @workflow.run
    async def run(self, input: TicketResponseInput) -> TicketResponseResult:
        for level in sorted(input.levels, key=lambda level: level.level):
            await self._wait_for_response_until(level.at)
            if self._responded is not None:
                break
            await self._escalate(level)
        return self._result()

    @workflow.signal
    def responded(self, response: TicketResponded) -> None:
        """The department's first response; later ones change nothing."""
        if self._responded is None:
            self._responded = response

    @workflow.signal
    def reassigned(self, change: TicketReassigned) -> None:
        self._assignee = change.assignee_id

    @workflow.query
    def state(self) -> TicketResponseResult:
        return self._result()

    async def _wait_for_response_until(self, moment: datetime) -> None:
        wait = moment - self._now()
        if wait <= timedelta(0) or self._responded is not None:
            return
        try:
            await workflow.wait_condition(
                lambda: self._responded is not None,
                timeout=wait,
                timeout_summary="ticket response target",
            )
        except TimeoutError:
            pass

    async def _escalate(self, level: ResponseLevel) -> None:
        ticket = self._input
        escalation = TicketEscalation(
            ticket_key=ticket.ticket_key,
            department=ticket.department,
            level=level.level,
            to_person=level.to_person,
            to_role=level.to_role,
            assignee_id=self._assignee,
            opportunity_id=ticket.opportunity_id,
            rep_id=ticket.rep_id,
            region=ticket.region,
            opened_at=ticket.opened_at,
            respond_by=ticket.respond_by,
            response_target_minutes=ticket.response_target_minutes,
            at=level.at,
        )
        await workflow.execute_local_activity_method(
            TicketResponseActivities.publish_escalation,
            escalation,
            start_to_close_timeout=timedelta(seconds=30),
            retry_policy=PUBLISH_RETRY,
        )
        self._escalated.append(level.level)

    def _now(self) -> datetime:
        """Ticket time: workflow time, shifted back when replaying a past export."""
        return workflow.now() - self._shift

    def _result(self) -> TicketResponseResult:
        return TicketResponseResult(
            ticket_key=self._input.ticket_key,
            responded_at=self._responded.at if self._responded is not None else None,
            escalated_levels=list(self._escalated),
        )


__all__ = ["TicketResponseWorkflow"]

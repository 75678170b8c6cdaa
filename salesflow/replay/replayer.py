"""Replays a CRM export through a running stack on a simulated clock.

The export's dates drive Temporal's time-skipping server: the replay advances the
server's clock to each planned moment and performs that moment's steps through the same
domain code the gRPC services use (pipeline commands, the evidence store, the ticket desk).
Timers (48 h escalation, 72 h silence) fire on their own as the clock passes them.

The test server's clock starts at today's date, so export dates are shifted by a fixed
offset; pipelines subtract it again (PipelineInput.clock_shift_seconds) so every event
and report carries the export's own dates.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from salesflow.core.caller import SYSTEM_CALLER, Caller, Role
from salesflow.core.errors import FailedPrecondition, NotFound, SalesflowError
from salesflow.core.events import TICKETING_CONSUMER
from salesflow.replay.export import Export
from salesflow.replay.files import document_bytes, photo_bytes
from salesflow.replay.plan import OpportunityPlan, Step, StepKind, plan_opportunity
from salesflow.stack import Stack, evidence_item
from services.evidence.store import EvidenceUpload
from services.pipeline.commands import PipelineClosed, StartResult
from workflows.pipeline.types import AnswerInput

logger = logging.getLogger(__name__)

LEGAL_REVIEWER = Caller(id="legal-desk", role=Role.LEGAL, regions=frozenset({"*"}))
# Steps of one moment run concurrently up to this many at a time.
CONCURRENCY = 256


@dataclass
class ReplayCounters:
    pipelines_started: int = 0
    already_started: int = 0
    steps_done: Counter = field(default_factory=Counter)
    steps_refused: Counter = field(default_factory=Counter)
    slots: int = 0
    # Wall time spent moving the server clock (timers firing) and performing steps.
    clock_seconds: float = 0.0
    steps_seconds: float = 0.0


class Replayer:
    """Drives one export through a stack; call run() once per replay."""

    def __init__(self, stack: Stack, export: Export) -> None:
        if not stack.time_skipping:
            raise ValueError("a replay needs the time-skipping server to move the clock")
        self._stack = stack
        self._export = export
        self._zone = ZoneInfo(stack.settings.timezone)
        self._counters = ReplayCounters()
        self._skip: set[str] = set()
        self._commands = stack.pipeline_commands()
        self._evidence = stack.evidence_store()
        self._desk = stack.ticket_desk()
        self._shift = timedelta(0)

    async def run(self) -> ReplayCounters:
        await self._load_team()
        plans = [
            plan_opportunity(opportunity, as_of=self._export.as_of, zone=self._zone)
            for opportunity in self._export.opportunities
        ]
        slots = _slots(plans)
        if not slots:
            return self._counters

        self._shift = await self._clock_shift(min(slots))
        logger.info(
            "replay starting opportunities=%s slots=%s shift_days=%.1f",
            len(plans),
            len(slots),
            self._shift.total_seconds() / 86400,
        )
        semaphore = asyncio.Semaphore(CONCURRENCY)
        for moment in sorted(slots):
            steps = [
                step for step in slots[moment] if step.opportunity.opportunity_id not in self._skip
            ]
            if not steps:
                continue
            clock_started = time.perf_counter()
            await self._advance_to(moment)
            steps_started = time.perf_counter()
            await self._run_slot(steps, semaphore)
            self._counters.slots += 1
            self._counters.clock_seconds += steps_started - clock_started
            self._counters.steps_seconds += time.perf_counter() - steps_started

        # Let every clock run up to the end of the export's last day.
        end_of_export = datetime.combine(
            self._export.as_of + timedelta(days=1), datetime.min.time(), tzinfo=self._zone
        )
        await self._advance_to(end_of_export)
        return self._counters

    async def _load_team(self) -> None:
        from services.pipeline.directory import upsert_team

        await upsert_team(self._stack.sessions, self._export.team.values())

    async def _clock_shift(self, first_moment: datetime) -> timedelta:
        server_now = await self._stack.environment.get_current_time()
        # Start a minute ahead of the server so the first step is never in its past.
        return (server_now + timedelta(minutes=1)) - first_moment.astimezone(UTC)

    async def _advance_to(self, moment: datetime) -> None:
        target = moment.astimezone(UTC) + self._shift
        current = await self._stack.environment.get_current_time()
        if target > current:
            await self._stack.environment.sleep(target - current)

    async def _run_slot(self, steps: list[Step], semaphore: asyncio.Semaphore) -> None:
        """One moment's steps: its files stored in one batch, then the steps concurrently."""
        evidence = await self._register_evidence(steps)
        if any(step.kind is StepKind.RESOLVE_TICKET for step in steps):
            # Tickets are opened by the ticketing consumer; let it catch up first.
            await self._stack.drain_events(consumers=(TICKETING_CONSUMER,))
        await asyncio.gather(
            *(self._guarded(step, evidence.get(id(step), []), semaphore) for step in steps)
        )

    async def _guarded(self, step: Step, evidence: list, semaphore: asyncio.Semaphore) -> None:
        async with semaphore:
            try:
                await self._perform(step, evidence)
                self._counters.steps_done[_label(step)] += 1
            except SalesflowError as error:
                self._counters.steps_refused[f"{_label(step)}: {type(error).__name__}"] += 1
                logger.warning(
                    "replay step refused opportunity=%s step=%s reason=%s",
                    step.opportunity.opportunity_id,
                    _label(step),
                    error.message,
                )

    async def _perform(self, step: Step, evidence: list) -> None:
        opportunity = step.opportunity
        if step.kind is StepKind.START:
            try:
                started = await self._commands.start(
                    SYSTEM_CALLER,
                    opportunity_id=opportunity.opportunity_id,
                    rep_id=opportunity.rep_id,
                    account=opportunity.account,
                    product=opportunity.product,
                    clock_shift=self._shift,
                )
            except PipelineClosed:
                # Replayed to its end before against this stack.
                started = StartResult(workflow_id="", already_running=True)
            if started.already_running:
                # Replayed before against this stack: its steps are applied already.
                self._counters.already_started += 1
                self._skip.add(opportunity.opportunity_id)
            else:
                self._counters.pipelines_started += 1
        elif step.kind is StepKind.COMPLETE:
            await self._commands.complete_action(
                SYSTEM_CALLER,
                opportunity_id=opportunity.opportunity_id,
                action_key=step.action_key,
                evidence=evidence,
                answers=[AnswerInput(key, list(values)) for key, values in step.answers],
                evidence_ids=[item.evidence_id for item in evidence],
            )
        elif step.kind is StepKind.RESOLVE_TICKET:
            await self._resolve_legal_review(step)
        elif step.kind is StepKind.CLOSE_LOST:
            await self._commands.close_lost(
                SYSTEM_CALLER,
                opportunity_id=opportunity.opportunity_id,
                reason="lost in CRM export",
            )

    async def _register_evidence(self, steps: list[Step]) -> dict[int, list]:
        """Stores the files the slot's steps present, one batch per rep (the uploader)."""
        uploads_by_rep: dict[str, list[tuple[int, EvidenceUpload]]] = defaultdict(list)
        for step in steps:
            if step.kind is not StepKind.COMPLETE:
                continue
            opportunity_id = step.opportunity.opportunity_id
            for index, need in enumerate(step.evidence):
                label = f"salesflow replay {opportunity_id} {step.action_key} {need.kind} {index}"
                if need.captured_at is not None:
                    data, filename = photo_bytes(label, need.captured_at), f"IMG_{index}.jpg"
                else:
                    data, filename = document_bytes(label), f"{need.kind}.pdf"
                upload = EvidenceUpload(
                    opportunity_id=opportunity_id,
                    action_key=step.action_key,
                    kind=need.kind,
                    filename=filename,
                    data=data,
                )
                uploads_by_rep[step.opportunity.rep_id].append((id(step), upload))

        by_step: dict[int, list] = defaultdict(list)
        for rep_id, owned in uploads_by_rep.items():
            rep = Caller(id=rep_id, role=Role.REP, regions=frozenset())
            records = await self._evidence.put_many(
                caller=rep, uploads=[upload for _owner, upload in owned]
            )
            for (owner, _upload), record in zip(owned, records, strict=True):
                by_step[owner].append(evidence_item(record))
        return by_step

    async def _resolve_legal_review(self, step: Step) -> None:
        ticket_key = f"{step.opportunity.opportunity_id}:{step.action_key}:legal"
        resolved_at = step.at.astimezone(UTC)
        # The ticket is opened by the ticketing consumer from the pipeline's event; give it
        # time to arrive rather than racing it.
        for attempt in range(200):
            try:
                await self._desk.resolve(
                    LEGAL_REVIEWER, ticket_key, "contract reviewed (replay)", at=resolved_at
                )
                return
            except NotFound:
                await asyncio.sleep(min(0.05 * (attempt + 1), 0.5))
        raise FailedPrecondition(f"ticket {ticket_key} never opened")


def _slots(plans: list[OpportunityPlan]) -> dict[datetime, list[Step]]:
    slots: dict[datetime, list[Step]] = defaultdict(list)
    for plan in plans:
        for step in plan.steps:
            slots[step.at].append(step)
    return slots


def _label(step: Step) -> str:
    return f"{step.kind.value}:{step.action_key}" if step.action_key else step.kind.value


@dataclass
class ReplaySummary:
    opportunities_read: int
    pipelines_started: int
    already_started: int
    rejected: dict[str, int]
    rejected_rows: list[dict]
    team_rejected_rows: list[dict]
    warnings: dict[str, int]
    actions_completed: int
    escalations: int
    reminders: int
    overdue_actions: int
    points_entries: int
    points_total: int
    tickets_opened: int
    tickets_resolved: int
    pipelines_won: int
    pipelines_lost: int
    pipelines_open: int
    notifications_written: int
    notifications_delivered: int
    steps_refused: dict[str, int]
    simulated_from: str | None
    simulated_to: str | None
    elapsed_seconds: float
    slots: int
    clock_seconds: float
    steps_seconds: float
    drain_seconds: float


async def replay_export(stack: Stack, export: Export) -> ReplaySummary:
    """Replays the export and reports what the stack recorded."""
    started = time.perf_counter()
    counters = await Replayer(stack, export).run()
    drain_started = time.perf_counter()
    await stack.drain_events()
    await stack.drain_outbox()
    drain_seconds = time.perf_counter() - drain_started
    totals = await stack.totals()
    return ReplaySummary(
        opportunities_read=export.rows_read,
        pipelines_started=counters.pipelines_started,
        already_started=counters.already_started,
        rejected=export.rejected_by_reason(),
        rejected_rows=[
            {"row": r.row, "opportunity_id": r.opportunity_id, "reason": r.reason}
            for r in export.rejections
        ],
        team_rejected_rows=[
            {"row": r.row, "sales_agent": r.opportunity_id, "reason": r.reason}
            for r in export.team_rejections
        ],
        warnings=export.warnings_by_kind(),
        steps_refused=dict(counters.steps_refused),
        simulated_from=export.first_date.isoformat() if export.opportunities else None,
        simulated_to=export.as_of.isoformat() if export.opportunities else None,
        elapsed_seconds=round(time.perf_counter() - started, 1),
        slots=counters.slots,
        clock_seconds=round(counters.clock_seconds, 1),
        steps_seconds=round(counters.steps_seconds, 1),
        drain_seconds=round(drain_seconds, 1),
        **totals,
    )

"""The points ledger: action events priced into entries exactly once; balances, entries,
the leaderboard and recalculation.

Exactly once. A batch of events is one transaction: the events are stored (insert
ignoring duplicates, keyed on the event id), the ones not yet priced are locked and
priced, their entries inserted ignoring duplicates on `entry_key`, their status set to
priced, and the operation-log line written. The consumer acknowledges only after the
commit, so a crash between commit and acknowledgement redelivers a batch that finds every
event priced and adds nothing; two consumers given the same event at once meet on its row
(the second waits for the first's commit, then finds it priced). Milestones are decided
with the rep's account row locked, so two batches cannot both miss or both award one.

Rules come from the template version the pipeline ran on when the event happened, learnt
from pipeline.started and pipeline.template_changed on the same consumer. An event whose
pipeline is not known yet waits and is priced when its pipeline.started arrives; an
event dated in a closed quarter is parked with the reason, never entered.

Nothing here knows about gRPC or NATS.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import uuid
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from salesflow.core.caller import SYSTEM_CALLER, Caller
from salesflow.core.db import insert_ignoring_duplicates, utcnow
from salesflow.core.errors import FailedPrecondition
from salesflow.core.oplog import append_operation
from salesflow.events.v1 import events_pb2
from services.pipeline.models import Person
from services.points import periods
from services.points.models import (
    ADJUSTMENT,
    BONUS,
    PARKED,
    PRICED,
    REDEMPTION,
    REFUND,
    WAITING,
    Account,
    LedgerEntry,
    Period,
    PipelineRules,
    PricedEvent,
)
from services.points.rules import (
    ACTION_COMPLETED,
    ACTION_OVERDUE,
    Fact,
    Price,
    milestone_rule,
    ordinal,
    price_fact,
)
from services.templates.codec import template_from_body
from services.templates.models import TemplateVersion
from workflows.pipeline.template import DEFAULT_TEMPLATE_ID, PipelineTemplate, default_template

logger = logging.getLogger(__name__)

SERVICE = "points"
PIPELINE_STARTED = "pipeline.started"
TEMPLATE_CHANGED = "pipeline.template_changed"
# The leaderboard ranks what reps earned; spending points on rewards does not lower a rank.
SPENDING_KINDS = (REDEMPTION, REFUND)


@dataclass(frozen=True)
class RepBalance:
    rep_id: str
    points: int
    entries: int


@dataclass(frozen=True)
class LeaderboardRow:
    rank: int
    rep_id: str
    region: str
    points: int
    team: str = ""


@dataclass(frozen=True)
class Assignment:
    opportunity_id: str
    effective_at: datetime
    template_id: str
    template_version: int
    manager_id: str

    @property
    def rule_version(self) -> str:
        return f"{self.template_id}@{self.template_version}"


@dataclass(frozen=True)
class AdjustmentLine:
    rep_id: str
    event_id: str
    rule: str
    before: int
    after: int
    rule_version: str

    @property
    def points(self) -> int:
        return self.after - self.before


@dataclass(frozen=True)
class Recalculation:
    adjustments: list[AdjustmentLine]
    events_repriced: int

    @property
    def points(self) -> int:
        return sum(line.points for line in self.adjustments)


class LedgerChanges:
    """Tells waiting watchers (the live leaderboard) that entries were added in this
    process; other processes' entries are found by polling."""

    def __init__(self) -> None:
        self._version = 0
        self._condition = asyncio.Condition()

    @property
    def version(self) -> int:
        return self._version

    async def notify(self) -> None:
        async with self._condition:
            self._version += 1
            self._condition.notify_all()

    async def wait(self, seen: int, timeout: float) -> int:
        """Returns once the version differs from `seen`, or after timeout."""
        async with self._condition:
            try:
                await asyncio.wait_for(
                    self._condition.wait_for(lambda: self._version != seen), timeout
                )
            except TimeoutError:
                pass
            return self._version


class LibraryTemplates:
    """Template versions read from the template library's table inside the caller's
    transaction (SQLite gives a process one connection). Versions never change, so a
    parsed one is kept for good."""

    def __init__(self) -> None:
        self._parsed: dict[tuple[str, int], PipelineTemplate] = {}

    async def version(
        self, session: AsyncSession, template_id: str, version: int
    ) -> PipelineTemplate | None:
        """A saved version; None when the library has no such version."""
        cached = self._parsed.get((template_id, version))
        if cached is not None:
            return cached
        row = await session.get(TemplateVersion, (template_id, version))
        if row is None:
            if template_id == DEFAULT_TEMPLATE_ID and version == 1:
                # The built-in default, before anyone asked the library to seed it.
                return default_template()
            return None
        parsed = template_from_body(json.loads(row.body))
        self._parsed[(template_id, version)] = parsed
        return parsed

    async def latest(self, session: AsyncSession, template_id: str) -> PipelineTemplate | None:
        newest = await session.scalar(
            select(func.max(TemplateVersion.version)).where(
                TemplateVersion.template_id == template_id
            )
        )
        if newest is None:
            return default_template() if template_id == DEFAULT_TEMPLATE_ID else None
        return await self.version(session, template_id, newest)


def _fact_row(event: events_pb2.Event, recorded_at: datetime) -> dict[str, Any] | None:
    if event.type == ACTION_COMPLETED and event.HasField("action_completed"):
        payload = event.action_completed
        details = {
            "action_key": payload.action_key,
            "on_time": payload.on_time,
            "attachments": len(payload.evidence_ids),
            "answers_given": payload.answers_given,
            "event_points": payload.points,
        }
    elif event.type == ACTION_OVERDUE and event.HasField("action_overdue"):
        payload = event.action_overdue
        details = {
            "action_key": payload.action_key,
            "on_time": False,
            "attachments": 0,
            "answers_given": 0,
            "event_points": payload.points,
        }
    else:
        return None
    if not event.rep_id:
        logger.warning("event id=%s type=%s has no rep; no entry", event.id, event.type)
        return None
    return {
        "event_id": event.id,
        "event_type": event.type,
        "rep_id": event.rep_id,
        "region": event.region,
        "opportunity_id": event.opportunity_id,
        "occurred_at": event.time.ToDatetime(tzinfo=UTC),
        "status": WAITING,
        "reason": "",
        "recorded_at": recorded_at,
        **details,
    }


def _assignment_row(event: events_pb2.Event) -> dict[str, Any] | None:
    if event.type == PIPELINE_STARTED and event.HasField("pipeline_started"):
        payload = event.pipeline_started
        template_id, version = payload.template_id, payload.template_version
        manager = payload.manager_id
    elif event.type == TEMPLATE_CHANGED and event.HasField("pipeline_template_changed"):
        payload = event.pipeline_template_changed
        template_id, version = payload.template_id, payload.to_version
        manager = ""
    else:
        return None
    return {
        "event_id": event.id,
        "opportunity_id": event.opportunity_id,
        "effective_at": event.time.ToDatetime(tzinfo=UTC),
        "template_id": template_id or DEFAULT_TEMPLATE_ID,
        "template_version": version or 1,
        "rep_id": event.rep_id,
        "manager_id": manager,
        "region": event.region,
    }


def _fact(row: PricedEvent) -> Fact:
    return Fact(
        event_id=row.event_id,
        event_type=row.event_type,
        rep_id=row.rep_id,
        region=row.region,
        opportunity_id=row.opportunity_id,
        action_key=row.action_key,
        occurred_at=row.occurred_at,
        on_time=row.on_time,
        evidence_count=row.attachments,
        answers_given=row.answers_given,
        event_points=row.event_points,
    )


def _by_id(rows: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows in event id order: concurrent batches then insert (and wait on) shared rows in
    the same order, so they queue instead of deadlocking."""
    return [rows[event_id] for event_id in sorted(rows)]


def _effective(history: list[Assignment], moment: datetime) -> Assignment | None:
    """The template version a pipeline ran on at a moment (its first one before it)."""
    current = None
    for assignment in history:
        if assignment.effective_at <= moment or current is None:
            current = assignment
    return current


class PointsLedger:
    """The ledger of one database, in the company's time zone."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        zone: ZoneInfo | str = "Asia/Shanghai",
        templates: LibraryTemplates | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.sessions = sessions
        self.zone = ZoneInfo(zone) if isinstance(zone, str) else zone
        self.templates = templates or LibraryTemplates()
        self.changes = LedgerChanges()
        self.clock = clock
        # Called after a batch commits and before record_events returns (and so before the
        # consumer acknowledges): tests stop the consumer here as a crash would.
        self.after_commit: Callable[[], Awaitable[None]] | None = None

    def quarter(self, moment: datetime) -> str:
        return periods.quarter_of(moment, self.zone)

    # ---- recording events -------------------------------------------------------------

    async def record_events(self, events: Sequence[events_pb2.Event]) -> int:
        """Stores and prices a batch of events; returns how many entries were added."""
        now = self.clock()
        facts: dict[str, dict[str, Any]] = {}
        assignments: dict[str, dict[str, Any]] = {}
        for event in events:
            # A batch may carry the same event twice (a redelivery beside the original).
            fact = _fact_row(event, now)
            if fact is not None:
                facts.setdefault(fact["event_id"], fact)
            assignment = _assignment_row(event)
            if assignment is not None:
                assignments.setdefault(assignment["event_id"], assignment)
        if not facts and not assignments:
            return 0

        async with self.sessions.begin() as session:
            # A pipeline's start and its action events may reach two consumers at once:
            # whichever commits second must see the other's rows.
            await lock_opportunities(
                session, {row["opportunity_id"] for row in [*facts.values(), *assignments.values()]}
            )
            if assignments:
                await session.execute(
                    insert_ignoring_duplicates(session, PipelineRules, _by_id(assignments))
                )
            if facts:
                await session.execute(
                    insert_ignoring_duplicates(session, PricedEvent, _by_id(facts))
                )
            opportunities = {row["opportunity_id"] for row in assignments.values()}
            waiting = list(
                await session.scalars(
                    select(PricedEvent)
                    .where(
                        PricedEvent.status == WAITING,
                        or_(
                            PricedEvent.event_id.in_(list(facts)),
                            PricedEvent.opportunity_id.in_(opportunities),
                        ),
                    )
                    .order_by(PricedEvent.occurred_at, PricedEvent.event_id)
                    .with_for_update()
                )
            )
            added = await self._price(session, [_fact(row) for row in waiting], now)

        if self.after_commit is not None:
            await self.after_commit()
        if added:
            await self.changes.notify()
        logger.info(
            "ledger batch events=%d facts=%d pipelines=%d priced=%d entries=%d",
            len(events),
            len(facts),
            len(assignments),
            len(waiting),
            added,
        )
        return added

    async def _price(self, session: AsyncSession, facts: list[Fact], now: datetime) -> int:
        if not facts:
            return 0
        histories = await self._histories(session, {fact.opportunity_id for fact in facts})

        outcome: dict[str, tuple[str, str]] = {}
        priced: list[tuple[Fact, Assignment, PipelineTemplate, list[Price]]] = []
        for fact in facts:
            history = histories.get(fact.opportunity_id, [])
            assignment = _effective(history, fact.occurred_at)
            if assignment is None:
                outcome[fact.event_id] = (
                    WAITING,
                    f"waiting for pipeline.started of {fact.opportunity_id}: "
                    "the template version that prices it is not known yet",
                )
                continue
            template = await self.templates.version(
                session, assignment.template_id, assignment.template_version
            )
            if template is None:
                outcome[fact.event_id] = (
                    WAITING,
                    f"template {assignment.rule_version} is not in the template library",
                )
                continue
            team = next((a.manager_id for a in history if a.manager_id), "")
            assignment = Assignment(
                assignment.opportunity_id,
                assignment.effective_at,
                assignment.template_id,
                assignment.template_version,
                team,
            )
            prices = price_fact(fact, template.action(fact.action_key))
            priced.append((fact, assignment, template, prices))

        # Locks in one order everywhere (reps, then quarters) so writers never deadlock.
        await lock_accounts(session, {fact.rep_id for fact, *_rest in priced})
        closed = await lock_periods(session, {self.quarter(f.occurred_at) for f, *_ in priced})

        rows: list[dict[str, Any]] = []
        completions: list[tuple[Fact, Assignment, PipelineTemplate]] = []
        for fact, assignment, template, prices in priced:
            quarter = self.quarter(fact.occurred_at)
            if quarter in closed:
                outcome[fact.event_id] = (PARKED, closed[quarter])
                continue
            outcome[fact.event_id] = (PRICED, "")
            rows.extend(self._entry(fact, assignment, price, now) for price in prices)
            if fact.event_type == ACTION_COMPLETED:
                completions.append((fact, assignment, template))
        await self._set_outcomes(session, outcome)

        rows.extend(await self._milestones(session, completions, now))
        if not rows:
            return 0
        inserted = (
            await session.execute(
                insert_ignoring_duplicates(session, LedgerEntry, rows).returning(
                    LedgerEntry.event_id, LedgerEntry.points
                )
            )
        ).all()
        if inserted:
            await append_operation(
                session,
                caller=SYSTEM_CALLER,
                service=SERVICE,
                operation="ledger.appended",
                subject="points_ledger",
                payload={
                    "count": len(inserted),
                    "event_ids": sorted({event_id for event_id, _points in inserted}),
                    "points": sum(points for _event_id, points in inserted),
                },
            )
        return len(inserted)

    def _entry(
        self, fact: Fact, assignment: Assignment, price: Price, now: datetime
    ) -> dict[str, Any]:
        key = f"{fact.event_id}|{price.rule}"
        return {
            "rep_id": fact.rep_id,
            "region": fact.region,
            "team": assignment.manager_id,
            "points": price.points,
            "kind": price.kind,
            "rule": price.rule,
            "rule_version": assignment.rule_version,
            "event_id": fact.event_id,
            "opportunity_id": fact.opportunity_id,
            "action_key": fact.action_key,
            "label": price.label[:300],
            "occurred_at": fact.occurred_at,
            "period": self.quarter(fact.occurred_at),
            "recorded_at": now,
            "entry_key": key,
            "item_key": key,
        }

    async def _histories(
        self, session: AsyncSession, opportunities: Iterable[str]
    ) -> dict[str, list[Assignment]]:
        rows = await session.scalars(
            select(PipelineRules)
            .where(PipelineRules.opportunity_id.in_(list(opportunities)))
            .order_by(PipelineRules.effective_at, PipelineRules.id)
        )
        histories: dict[str, list[Assignment]] = {}
        for row in rows:
            histories.setdefault(row.opportunity_id, []).append(
                Assignment(
                    row.opportunity_id,
                    row.effective_at,
                    row.template_id,
                    row.template_version,
                    row.manager_id,
                )
            )
        return histories

    async def _set_outcomes(
        self, session: AsyncSession, outcome: dict[str, tuple[str, str]]
    ) -> None:
        groups: dict[tuple[str, str], list[str]] = {}
        for event_id, status in outcome.items():
            groups.setdefault(status, []).append(event_id)
        for (status, reason), event_ids in groups.items():
            await session.execute(
                update(PricedEvent)
                .where(PricedEvent.event_id.in_(event_ids))
                .values(status=status, reason=reason)
            )

    async def _milestones(
        self,
        session: AsyncSession,
        completions: list[tuple[Fact, Assignment, PipelineTemplate]],
        now: datetime,
    ) -> list[dict[str, Any]]:
        """One-off bonuses the completions just priced have reached.

        The completion that makes the count is the trigger; the bonus is dated with it. An
        item already in the ledger (awarded, or adjusted by a recalculation) is never
        awarded again.
        """
        rows: dict[str, dict[str, Any]] = {}
        for fact, assignment, template in completions:
            action = template.action(fact.action_key)
            if action is None:
                continue
            for milestone in action.milestones:
                window = periods.window(milestone.per, fact.occurred_at, self.zone)
                rule = milestone_rule(milestone)
                item = f"milestone|{fact.rep_id}|{fact.action_key}|{rule}|{window.label}"
                if item in rows:
                    continue
                count = await session.scalar(
                    select(func.count()).where(
                        PricedEvent.rep_id == fact.rep_id,
                        PricedEvent.action_key == fact.action_key,
                        PricedEvent.event_type == ACTION_COMPLETED,
                        PricedEvent.status == PRICED,
                        PricedEvent.occurred_at >= window.start,
                        PricedEvent.occurred_at < window.end,
                    )
                )
                if count < milestone.count:
                    continue
                awarded = await session.scalar(
                    select(func.count()).where(LedgerEntry.item_key == item)
                )
                if awarded:
                    continue
                label = (
                    f"{ordinal(milestone.count)} {fact.action_key} in {window.label}: "
                    f"milestone +{milestone.points}"
                )
                rows[item] = {
                    **self._entry(
                        fact, assignment, Price(rule, BONUS, milestone.points, label), now
                    ),
                    "entry_key": item,
                    "item_key": item,
                }
        return list(rows.values())

    # ---- reading ----------------------------------------------------------------------

    async def rep_region(self, rep_id: str) -> str | None:
        """Where a rep works: the team directory first, else their latest entry."""
        async with self.sessions() as session:
            region = await session.scalar(select(Person.region).where(Person.person_id == rep_id))
            if region is not None:
                return region
            return await session.scalar(
                select(LedgerEntry.region)
                .where(LedgerEntry.rep_id == rep_id)
                .order_by(LedgerEntry.occurred_at.desc(), LedgerEntry.entry_id.desc())
                .limit(1)
            )

    async def balance(self, rep_id: str) -> RepBalance:
        """A rep's balance: the sum of their entries (zero for a rep without any)."""
        async with self.sessions() as session:
            points, entries = await balance_in(session, rep_id)
        return RepBalance(rep_id=rep_id, points=points, entries=entries)

    async def list_entries(self, rep_id: str, *, limit: int) -> list[LedgerEntry]:
        """A rep's entries, newest first."""
        async with self.sessions() as session:
            result = await session.scalars(
                select(LedgerEntry)
                .where(LedgerEntry.rep_id == rep_id)
                .order_by(LedgerEntry.occurred_at.desc(), LedgerEntry.entry_id.desc())
                .limit(limit)
            )
            return list(result)

    async def parked(self, *, limit: int) -> list[PricedEvent]:
        """Events not entered: waiting for their pipeline, or dated in a closed quarter."""
        async with self.sessions() as session:
            result = await session.scalars(
                select(PricedEvent)
                .where(PricedEvent.status.in_((WAITING, PARKED)))
                .order_by(PricedEvent.occurred_at, PricedEvent.event_id)
                .limit(limit)
            )
            return list(result)

    async def last_entry_id(self) -> int:
        async with self.sessions() as session:
            return int(
                await session.scalar(select(func.coalesce(func.max(LedgerEntry.entry_id), 0)))
            )

    async def leaderboard(
        self,
        *,
        regions: frozenset[str] | None = None,
        team: str = "",
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int,
    ) -> list[LeaderboardRow]:
        """Reps ranked by points earned in [since, until), within regions (None: all) and
        optionally one team.

        Ties share a rank (1, 1, 3) and are listed by rep id. A rep who changed regions is
        shown with the region and team of their latest entry in the window. Redemptions
        and their refunds do not count: the board ranks what was earned.
        """
        conditions = [LedgerEntry.kind.not_in(SPENDING_KINDS)]
        if regions is not None:
            conditions.append(LedgerEntry.region.in_(sorted(regions)))
        if team:
            conditions.append(LedgerEntry.team == team)
        if since is not None:
            conditions.append(LedgerEntry.occurred_at >= since)
        if until is not None:
            conditions.append(LedgerEntry.occurred_at < until)

        total = func.sum(LedgerEntry.points).label("total")
        totals_query = (
            select(LedgerEntry.rep_id, total)
            .where(*conditions)
            .group_by(LedgerEntry.rep_id)
            .order_by(total.desc(), LedgerEntry.rep_id)
            .limit(limit)
        )
        async with self.sessions() as session:
            totals = (await session.execute(totals_query)).all()
            places = await latest_places(session, [rep for rep, _ in totals], conditions)

        rows: list[LeaderboardRow] = []
        for position, (rep_id, points) in enumerate(totals, start=1):
            rank = rows[-1].rank if rows and rows[-1].points == points else position
            region, team_of = places.get(rep_id, ("", ""))
            rows.append(LeaderboardRow(rank, rep_id, region, int(points), team_of))
        return rows

    # ---- recalculation ----------------------------------------------------------------

    async def recalculate(
        self, caller: Caller, *, quarter: str, label: str, dry_run: bool = False
    ) -> Recalculation:
        """Prices every event of a quarter again under the latest version of its pipeline's
        template and writes each difference as an adjustment entry labelled `label`.

        Nothing already in the ledger changes. Running it again writes nothing (the
        adjustments are part of each item's value). One-off milestones stay as awarded.
        """
        window = periods.quarter_window(quarter, self.zone)
        recalculation_id = uuid.uuid4().hex[:12]
        now = self.clock()
        async with self.sessions.begin() as session:
            closed = await lock_periods(session, {window.label})
            if window.label in closed:
                raise FailedPrecondition(closed[window.label])

            facts = [
                _fact(row)
                for row in await session.scalars(
                    select(PricedEvent)
                    .where(
                        PricedEvent.status == PRICED,
                        PricedEvent.occurred_at >= window.start,
                        PricedEvent.occurred_at < window.end,
                    )
                    .order_by(PricedEvent.occurred_at, PricedEvent.event_id)
                )
            ]
            current = await self._item_values(session, window.label)
            histories = await self._histories(session, {fact.opportunity_id for fact in facts})

            lines: list[AdjustmentLine] = []
            rows: list[dict[str, Any]] = []
            for fact in facts:
                history = histories.get(fact.opportunity_id, [])
                assignment = _effective(history, fact.occurred_at)
                if assignment is None:
                    continue
                latest = await self.templates.latest(session, assignment.template_id)
                if latest is None:
                    continue
                team = next((a.manager_id for a in history if a.manager_id), "")
                now_rules = Assignment(
                    fact.opportunity_id,
                    assignment.effective_at,
                    latest.template_id,
                    latest.version,
                    team,
                )
                after = {
                    price.rule: price for price in price_fact(fact, latest.action(fact.action_key))
                }
                before = current.get(fact.event_id, {})
                for rule in sorted(set(after) | set(before)):
                    old = before.get(rule, 0)
                    new = after[rule].points if rule in after else 0
                    if old == new:
                        continue
                    lines.append(
                        AdjustmentLine(
                            fact.rep_id, fact.event_id, rule, old, new, now_rules.rule_version
                        )
                    )
                    item = f"{fact.event_id}|{rule}"
                    price = Price(
                        rule,
                        ADJUSTMENT,
                        new - old,
                        f"{label}: {fact.action_key} {rule} {old:+d} -> {new:+d}",
                    )
                    rows.append(
                        {
                            **self._entry(fact, now_rules, price, now),
                            "kind": ADJUSTMENT,
                            "entry_key": f"adjustment|{recalculation_id}|{item}",
                            "item_key": item,
                        }
                    )

            if dry_run or not rows:
                if not dry_run:
                    logger.info("recalculation quarter=%s found no differences", window.label)
                return Recalculation(lines, len(facts))
            await lock_accounts(session, {row["rep_id"] for row in rows})
            await session.execute(insert_ignoring_duplicates(session, LedgerEntry, rows))
            await append_operation(
                session,
                caller=caller,
                service=SERVICE,
                operation="ledger.recalculated",
                subject=f"points_period:{window.label}",
                payload={
                    "recalculation": recalculation_id,
                    "label": label,
                    "adjustments": len(rows),
                    "points": sum(row["points"] for row in rows),
                },
            )
        await self.changes.notify()
        logger.info(
            "recalculation quarter=%s label=%r adjustments=%d", window.label, label, len(rows)
        )
        return Recalculation(lines, len(facts))

    async def _item_values(self, session: AsyncSession, quarter: str) -> dict[str, dict[str, int]]:
        """Per event and rule, the sum of the quarter's entries (originals and adjustments),
        milestones and the pool's entries aside."""
        rows = await session.execute(
            select(LedgerEntry.event_id, LedgerEntry.rule, func.sum(LedgerEntry.points))
            .where(
                LedgerEntry.period == quarter,
                LedgerEntry.kind.not_in(SPENDING_KINDS),
                LedgerEntry.rule.not_like("milestone:%"),
            )
            .group_by(LedgerEntry.event_id, LedgerEntry.rule)
        )
        values: dict[str, dict[str, int]] = {}
        for event_id, rule, points in rows:
            values.setdefault(event_id, {})[rule] = int(points)
        return values


# ---- helpers shared with the redemption pool and the export ---------------------------


async def balance_in(session: AsyncSession, rep_id: str) -> tuple[int, int]:
    points, entries = (
        await session.execute(
            select(func.coalesce(func.sum(LedgerEntry.points), 0), func.count()).where(
                LedgerEntry.rep_id == rep_id
            )
        )
    ).one()
    return int(points), int(entries)


async def team_of(session: AsyncSession, rep_id: str) -> str:
    """The rep's manager: the team directory first, else their latest entry's team."""
    manager = await session.scalar(select(Person.manager_id).where(Person.person_id == rep_id))
    if manager:
        return manager
    latest = await session.scalar(
        select(LedgerEntry.team)
        .where(LedgerEntry.rep_id == rep_id, LedgerEntry.team != "")
        .order_by(LedgerEntry.occurred_at.desc(), LedgerEntry.entry_id.desc())
        .limit(1)
    )
    return latest or ""


def _opportunity_lock_key(opportunity_id: str) -> int:
    digest = hashlib.sha256(f"salesflow-points:{opportunity_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


async def lock_opportunities(session: AsyncSession, opportunities: Iterable[str]) -> None:
    """Serialises batches that touch the same pipelines (PostgreSQL advisory locks, in one
    order; SQLite has a single writer anyway)."""
    if session.bind.dialect.name != "postgresql":
        return
    for key in sorted({_opportunity_lock_key(opp) for opp in opportunities}):
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


async def lock_accounts(session: AsyncSession, reps: Iterable[str]) -> None:
    """Locks the reps' account rows (creating them), in sorted order, until commit."""
    reps = sorted(set(reps))
    if not reps:
        return
    await session.execute(
        insert_ignoring_duplicates(session, Account, [{"rep_id": rep} for rep in reps])
    )
    await session.execute(
        select(Account.rep_id)
        .where(Account.rep_id.in_(reps))
        .order_by(Account.rep_id)
        .with_for_update()
    )


async def lock_periods(session: AsyncSession, quarters: Iterable[str]) -> dict[str, str]:
    """Share-locks the quarters' rows (creating them) until commit, so no export closes
    them meanwhile; returns the closed ones with the reason to give."""
    quarters = sorted(set(quarters))
    if not quarters:
        return {}
    await session.execute(
        insert_ignoring_duplicates(session, Period, [{"period": q} for q in quarters])
    )
    rows = await session.scalars(
        select(Period)
        .where(Period.period.in_(quarters))
        .order_by(Period.period)
        .with_for_update(read=True)
    )
    return {
        row.period: (
            f"period {row.period} is closed: exported for the bonus calculation at "
            f"{row.closed_at.isoformat()} by {row.closed_by}"
        )
        for row in rows
        if row.closed_at is not None
    }


async def latest_places(
    session: AsyncSession, reps: list[str], conditions: list
) -> dict[str, tuple[str, str]]:
    """Each rep's region and team of their latest entry under the conditions."""
    if not reps:
        return {}
    latest = (
        select(
            LedgerEntry.rep_id,
            LedgerEntry.region,
            LedgerEntry.team,
            func.row_number()
            .over(
                partition_by=LedgerEntry.rep_id,
                order_by=(LedgerEntry.occurred_at.desc(), LedgerEntry.entry_id.desc()),
            )
            .label("recency"),
        )
        .where(*conditions, LedgerEntry.rep_id.in_(reps))
        .subquery()
    )
    rows = await session.execute(
        select(latest.c.rep_id, latest.c.region, latest.c.team).where(and_(latest.c.recency == 1))
    )
    return {rep: (region, team) for rep, region, team in rows}

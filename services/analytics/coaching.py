"""Coaching: each rep's weakest actions against the top performers, training tasks for
them, and whether the weak metric improves once a task is done.

A rep is judged over the window [as_of − H, as_of), H the configured history (90 days),
once their first recorded action is at least H old. Per action type, over the instances that
started in the window, four metrics are compared with the pooled figures of the top
performers — the other reps, company-wide, with the best mean quality over the window:

    completion    on time / due
    quality       mean quality score
    conversion    converted / completions whose conversion window had passed by as_of
    strategy_mix  Σ min(rep's share, top performers' share) over the strategies used: how
                  much of the rep's strategy mix is the top performers' (1 = the same mix)

A figure counts only with the configured minimum of instances behind it on both sides; a
weakness is a gap (benchmark − value) of at least the configured one. Nothing here knows
about gRPC or callers: the servicer checks who may ask.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from salesflow.core.caller import Caller
from salesflow.core.errors import FailedPrecondition, NotFound
from salesflow.core.oplog import Operation, append_operations
from services.analytics.config import AnalyticsConfig
from services.analytics.models import (
    DONE,
    REWRITE_TALK_TRACK,
    TASK_DONE,
    TASK_OPEN,
    WATCH_BENCHMARK_CASES,
    ActionFact,
    CoachingReview,
    StrategyUse,
    TrainingTask,
)
from services.analytics.sql import moment, reading, score_of
from services.analytics.totals import Totals, totals
from services.analytics.words import label, percent
from services.pipeline.models import Person

logger = logging.getLogger(__name__)

SERVICE = "analytics"
COMPLETION = "completion"
QUALITY = "quality"
CONVERSION = "conversion"
STRATEGY_MIX = "strategy_mix"
# In ranking order among weaknesses of the same gap and action.
METRICS = (COMPLETION, QUALITY, CONVERSION, STRATEGY_MIX)
TASK_KINDS = (WATCH_BENCHMARK_CASES, REWRITE_TALK_TRACK)
# How many weak actions a rep is told to improve first.
TOP_ACTIONS = 3
# Task creations are serialised, so two managers never give the same task twice.
COACHING_LOCK_KEY = 0x5A1EC0AC

# Progress states.
OPEN = "open"
MEASURING = "measuring"
MEASURED = "measured"

Conditions = Callable[[Any], list]


# ---- figures --------------------------------------------------------------------------------


@dataclass
class ActionFigures:
    """What one rep (or a pooled group of reps) did in one action type over a window."""

    totals: Totals = field(default_factory=Totals)
    # Completions whose conversion window had passed, and those that converted.
    matured: int = 0
    converted: int = 0
    strategies: Counter[str] = field(default_factory=Counter)

    def add(self, other: ActionFigures) -> None:
        self.totals.add(other.totals)
        self.matured += other.matured
        self.converted += other.converted
        self.strategies.update(other.strategies)

    def shares(self) -> dict[str, float]:
        uses = sum(self.strategies.values())
        return {strategy: count / uses for strategy, count in self.strategies.items()}


@dataclass(frozen=True)
class Reading:
    """One metric's value (None without instances) and the instances behind it."""

    value: float | None
    instances: int


def overlap(mine: dict[str, float], theirs: dict[str, float]) -> float:
    """Σ min(share, share) over the strategies either side used: 1 for the same mix."""
    return sum(min(mine.get(key, 0.0), theirs.get(key, 0.0)) for key in set(mine) | set(theirs))


def read(
    figures: ActionFigures,
    metric: str,
    *,
    config: AnalyticsConfig,
    reference_mix: dict[str, float] | None = None,
) -> Reading:
    """A metric of a rep's figures; the strategy mix is read against a reference mix."""
    found = figures.totals
    if metric == COMPLETION:
        return Reading(found.completion_rate, found.due)
    if metric == QUALITY:
        return Reading(found.quality(config.quality_weights), found.done)
    if metric == CONVERSION:
        rate = figures.converted / figures.matured if figures.matured else None
        return Reading(rate, figures.matured)
    shares = figures.shares()
    value = overlap(shares, reference_mix) if shares and reference_mix else None
    return Reading(value, found.with_strategies)


async def action_figures(
    session: AsyncSession,
    config: AnalyticsConfig,
    *,
    start: datetime,
    end: datetime,
    matured_by: datetime,
    conditions: Conditions | None = None,
    action_keys: Sequence[str] | None = None,
) -> dict[tuple[str, str], ActionFigures]:
    """Figures per (rep, action) of the instances that started in [start, end).

    Conversion counts completions whose window had passed by `matured_by`.
    """
    found: dict[tuple[str, str], ActionFigures] = {}
    for key, figures in (
        await totals(
            session,
            config,
            start=start,
            end=end,
            by=("rep_id", "action_key"),
            conditions=conditions,
            action_keys=action_keys,
        )
    ).items():
        found.setdefault(key, ActionFigures()).totals = figures

    instances = [ActionFact.started_at >= moment(start), ActionFact.started_at < moment(end)]
    if conditions is not None:
        instances += conditions(ActionFact)
    if action_keys is not None:
        instances.append(ActionFact.action_key.in_(list(action_keys)))

    window = config.conversion_window_days
    matured = ActionFact.completed_at <= moment(matured_by - timedelta(days=window))
    conversions = (
        select(
            ActionFact.rep_id,
            ActionFact.action_key,
            func.count().filter(matured),
            func.count().filter(and_(matured, ActionFact.contract_lag_seconds <= window * 86400.0)),
        )
        .where(
            ActionFact.status == DONE,
            ActionFact.action_key != config.contract_action,
            *instances,
        )
        .group_by(ActionFact.rep_id, ActionFact.action_key)
    )
    for rep_id, action_key, matured_count, converted in await session.execute(conversions):
        figures = found.setdefault((rep_id, action_key), ActionFigures())
        figures.matured, figures.converted = matured_count, converted

    # Strategy uses of the same instances (a use belongs to the instance it was recorded in).
    uses = (
        select(StrategyUse.rep_id, StrategyUse.action_key, StrategyUse.strategy, func.count())
        .join(
            ActionFact,
            and_(
                ActionFact.opportunity_id == StrategyUse.opportunity_id,
                ActionFact.action_key == StrategyUse.action_key,
                ActionFact.occurrence == StrategyUse.occurrence,
            ),
        )
        .where(*instances)
        .group_by(StrategyUse.rep_id, StrategyUse.action_key, StrategyUse.strategy)
    )
    for rep_id, action_key, strategy, count in await session.execute(uses):
        found.setdefault((rep_id, action_key), ActionFigures()).strategies[strategy] += count
    return found


# ---- weaknesses -----------------------------------------------------------------------------


@dataclass(frozen=True)
class StrategyShare:
    strategy: str
    rep_share: float
    top_share: float


@dataclass(frozen=True)
class Weakness:
    action_key: str
    metric: str
    value: float
    benchmark: float
    instances: int
    benchmark_instances: int
    position: int
    summary: str
    shares: tuple[StrategyShare, ...] = ()
    rank: int = 0

    @property
    def gap(self) -> float:
        return self.benchmark - self.value

    @property
    def severity(self) -> float:
        """The gap as a share, so metrics rank together (quality counts in hundredths)."""
        return self.gap / 100.0 if self.metric == QUALITY else self.gap


@dataclass
class RepWeaknesses:
    rep_id: str
    region: str
    history_days: int
    required_days: int
    enough_history: bool
    weaknesses: list[Weakness] = field(default_factory=list)
    top_performers: list[str] = field(default_factory=list)
    # The top performers' strategy shares per action (what a talk track aims at).
    top_mix: dict[str, dict[str, float]] = field(default_factory=dict)

    def weak_actions(self, limit: int = TOP_ACTIONS) -> list[str]:
        """The actions of the first weaknesses, each once, at most `limit`."""
        return list(dict.fromkeys(w.action_key for w in self.weaknesses))[:limit]

    @property
    def top_actions(self) -> list[str]:
        return self.weak_actions()

    @property
    def summary(self) -> str:
        if not self.enough_history:
            return f"not enough history ({self.history_days} days of {self.required_days})"
        if not self.top_performers:
            return "no other rep has enough completed actions to compare with"
        top = f"the top {len(self.top_performers)}"
        if not self.weaknesses:
            return f"no weakness against {top} in the last {self.required_days} days"
        actions = ", ".join(label(key) for key in self.top_actions)
        return f"{len(self.weaknesses)} weaknesses against {top}; improve first: {actions}"


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime


def coaching_window(as_of: datetime, config: AnalyticsConfig) -> Window:
    return Window(as_of - timedelta(days=config.coaching_history_days), as_of)


async def find_weaknesses(
    sessions: async_sessionmaker[AsyncSession],
    config: AnalyticsConfig,
    *,
    as_of: datetime,
    rep_ids: Sequence[str] | None = None,
    regions: Sequence[str] | None = None,
) -> list[RepWeaknesses]:
    """The weaknesses of the named reps, or of every rep who started an action in the window
    (in the regions when given), against their top performers."""
    window = coaching_window(as_of, config)
    async with reading(sessions) as session:
        # Everyone's figures: the top performers come from the whole company.
        figures = await action_figures(
            session, config, start=window.start, end=window.end, matured_by=as_of
        )
        if rep_ids is None:
            rep_ids = await _reps_in_window(session, window, regions)
        firsts = await _first_actions(session, rep_ids)
        homes = {rep_id: await _home(session, rep_id) for rep_id in rep_ids}

    ranking = _ranking(figures, config)
    found = []
    for rep_id in rep_ids:
        first = firsts.get(rep_id)
        history_days = max(0, (as_of - first).days) if first is not None else 0
        judged = RepWeaknesses(
            rep_id=rep_id,
            region=homes[rep_id][0],
            history_days=history_days,
            required_days=config.coaching_history_days,
            enough_history=first is not None and first <= window.start,
        )
        if judged.enough_history:
            _judge(judged, figures, ranking, config)
        found.append(judged)
    return found


def _ranking(figures: dict[tuple[str, str], ActionFigures], config: AnalyticsConfig) -> list[str]:
    """Reps with enough completions, best mean quality first (then completion rate, id)."""
    per_rep: dict[str, Totals] = {}
    for (rep_id, _action_key), each in figures.items():
        per_rep.setdefault(rep_id, Totals()).add(each.totals)

    def rank(item: tuple[str, Totals]) -> tuple:
        rep_id, found = item
        completion = found.completion_rate
        quality = found.quality(config.quality_weights)
        return (-quality, completion is None, -(completion or 0.0), rep_id)

    eligible = [item for item in per_rep.items() if item[1].done >= config.coaching_min_instances]
    return [rep_id for rep_id, _found in sorted(eligible, key=rank)]


def _judge(
    judged: RepWeaknesses,
    figures: dict[tuple[str, str], ActionFigures],
    ranking: list[str],
    config: AnalyticsConfig,
) -> None:
    """Fills in the rep's weaknesses against the pooled figures of their top performers."""
    judged.top_performers = [rep for rep in ranking if rep != judged.rep_id][: config.coaching_top]
    if not judged.top_performers:
        return
    leaders = set(judged.top_performers)
    pooled: dict[str, ActionFigures] = {}
    for (rep_id, action_key), each in figures.items():
        if rep_id in leaders:
            pooled.setdefault(action_key, ActionFigures()).add(each)

    weaknesses = []
    for (rep_id, action_key), mine in figures.items():
        theirs = pooled.get(action_key)
        if rep_id != judged.rep_id or theirs is None:
            continue
        judged.top_mix[action_key] = theirs.shares()
        for metric in METRICS:
            weakness = _compare(action_key, metric, mine, theirs, config, len(leaders))
            if weakness is not None:
                weaknesses.append(weakness)

    weaknesses.sort(
        key=lambda w: (-round(w.severity, 9), w.position, METRICS.index(w.metric), w.action_key)
    )
    judged.weaknesses = [replace(w, rank=rank) for rank, w in enumerate(weaknesses, start=1)]


def _compare(
    action_key: str,
    metric: str,
    mine: ActionFigures,
    theirs: ActionFigures,
    config: AnalyticsConfig,
    top_count: int,
) -> Weakness | None:
    """The weakness of one metric, when both sides have enough instances and the gap is big."""
    top_mix = theirs.shares()
    rep = read(mine, metric, config=config, reference_mix=top_mix)
    if metric == STRATEGY_MIX:
        top = Reading(1.0 if top_mix else None, theirs.totals.with_strategies)
    else:
        top = read(theirs, metric, config=config)
    least = config.coaching_min_instances
    if rep.value is None or top.value is None or min(rep.instances, top.instances) < least:
        return None
    if round(top.value - rep.value, 9) < getattr(config.coaching_gaps, metric):
        return None

    shares = ()
    if metric == STRATEGY_MIX:
        shares = _shares(mine.shares(), top_mix)
    weakness = Weakness(
        action_key=action_key,
        metric=metric,
        value=rep.value,
        benchmark=top.value,
        instances=rep.instances,
        benchmark_instances=top.instances,
        position=mine.totals.position,
        summary="",
        shares=shares,
    )
    summary = describe(weakness, top_count=top_count, window_days=config.conversion_window_days)
    return replace(weakness, summary=summary)


def _shares(mine: dict[str, float], theirs: dict[str, float]) -> tuple[StrategyShare, ...]:
    """Every strategy either side used, the largest difference first."""
    found = [
        StrategyShare(key, mine.get(key, 0.0), theirs.get(key, 0.0))
        for key in set(mine) | set(theirs)
    ]
    found.sort(key=lambda s: (-round(abs(s.rep_share - s.top_share), 9), s.strategy))
    return tuple(found)


def show(metric: str, value: float | None) -> str:
    """A metric's value as people read it: quality in points, the others in percent."""
    if value is None:
        return "-"
    return f"{value:.1f}" if metric == QUALITY else percent(value)


def describe(weakness: Weakness, *, top_count: int, window_days: int) -> str:
    """One sentence on a weakness, e.g. "objection handling: on-time completion 60% ..."."""
    metric, top = weakness.metric, f"the top {top_count}"
    mine, theirs = show(metric, weakness.value), show(metric, weakness.benchmark)
    if metric == COMPLETION:
        text = (
            f"on-time completion {mine} ({weakness.instances} due) against {theirs} for {top} "
            f"({weakness.benchmark_instances} due)"
        )
    elif metric == QUALITY:
        text = (
            f"quality {mine} ({weakness.instances} completed) against {theirs} for {top} "
            f"({weakness.benchmark_instances} completed)"
        )
    elif metric == CONVERSION:
        text = (
            f"contract stage within {window_days} days after {mine} of "
            f"{weakness.instances} completions against {theirs} for {top} "
            f"(of {weakness.benchmark_instances})"
        )
    else:
        differences = "; ".join(
            f"{label(share.strategy)} is {percent(share.rep_share)} of your strategies and "
            f"{percent(share.top_share)} of theirs"
            for share in weakness.shares[:2]
        )
        text = f"only {mine} of your strategy mix matches {top}'s: {differences}"
    return f"{label(weakness.action_key)}: {text}"


async def _reps_in_window(
    session: AsyncSession, window: Window, regions: Sequence[str] | None
) -> list[str]:
    query = select(ActionFact.rep_id).where(
        ActionFact.started_at >= moment(window.start),
        ActionFact.started_at < moment(window.end),
        ActionFact.rep_id != "",
    )
    if regions is not None:
        query = query.where(ActionFact.region.in_(list(regions)))
    return sorted(set(await session.scalars(query.distinct())))


async def _first_actions(session: AsyncSession, rep_ids: Sequence[str]) -> dict[str, datetime]:
    """When each rep's first recorded action started: the start of their history."""
    if not rep_ids:
        return {}
    rows = await session.execute(
        select(ActionFact.rep_id, func.min(ActionFact.started_at))
        .where(ActionFact.rep_id.in_(list(rep_ids)))
        .group_by(ActionFact.rep_id)
    )
    return dict(rows.all())


async def _home(session: AsyncSession, rep_id: str) -> tuple[str, str]:
    """(region, manager) of a rep: the team directory first, else their latest instance."""
    person = await session.get(Person, rep_id)
    if person is not None:
        return person.region, person.manager_id or ""
    latest = (
        await session.execute(
            select(ActionFact.region, ActionFact.manager_id)
            .where(ActionFact.rep_id == rep_id)
            .order_by(ActionFact.started_at.desc())
            .limit(1)
        )
    ).first()
    return (latest[0], latest[1]) if latest else ("", "")


# ---- training tasks -------------------------------------------------------------------------


@dataclass(frozen=True)
class BenchmarkCase:
    opportunity_id: str
    action_key: str
    occurrence: int
    rep_id: str
    quality: float
    completed_at: datetime
    strategies: list[str]

    def as_record(self) -> dict[str, Any]:
        return {**self.__dict__, "completed_at": self.completed_at.isoformat()}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> BenchmarkCase:
        return cls(**{**record, "completed_at": datetime.fromisoformat(record["completed_at"])})


@dataclass
class CreatedTasks:
    created: list[TrainingTask]
    # Open tasks that already covered a chosen weakness.
    existing: list[TrainingTask]
    weaknesses: RepWeaknesses


def plan_tasks(
    found: RepWeaknesses, *, action_key: str = "", metric: str = "", top: int = TOP_ACTIONS
) -> list[tuple[Weakness, str]]:
    """Which tasks a rep's weaknesses call for, as (weakness, kind).

    For each of the first `top` weak actions: watching benchmark cases for its largest gap,
    and rewriting the talk track when its strategy mix is weak. With action_key (and metric):
    every matching weakness, with a talk track for a weak strategy mix.
    """
    if action_key:
        chosen = [
            w
            for w in found.weaknesses
            if w.action_key == action_key and (not metric or w.metric == metric)
        ]
        plans = []
        for weakness in chosen:
            plans.append((weakness, WATCH_BENCHMARK_CASES))
            if weakness.metric == STRATEGY_MIX:
                plans.append((weakness, REWRITE_TALK_TRACK))
        return plans

    plans = []
    for weak_action in found.weak_actions(top):
        of_action = [w for w in found.weaknesses if w.action_key == weak_action]
        plans.append((of_action[0], WATCH_BENCHMARK_CASES))
        mix = next((w for w in of_action if w.metric == STRATEGY_MIX), None)
        if mix is not None:
            plans.append((mix, REWRITE_TALK_TRACK))
    return plans


async def benchmark_cases(
    session: AsyncSession,
    config: AnalyticsConfig,
    *,
    weakness: Weakness,
    top_performers: Sequence[str],
    window: Window,
    limit: int,
) -> list[BenchmarkCase]:
    """Completed instances of the action by the top performers scoring at least the quality
    target, that show the weak metric done well (on time; converted; using the strategy
    the rep under-uses most), best score first, then newest."""
    weights = config.quality_weights
    score = (
        (
            weights.evidence * ActionFact.q_evidence
            + weights.answers * ActionFact.q_answers
            + weights.timeliness * ActionFact.q_timeliness
            + weights.feedback * ActionFact.q_feedback
        )
        * 100.0
        / weights.total
    )
    conditions = [
        ActionFact.rep_id.in_(list(top_performers)),
        ActionFact.action_key == weakness.action_key,
        ActionFact.status == DONE,
        ActionFact.started_at >= moment(window.start),
        ActionFact.started_at < moment(window.end),
        score >= config.quality_target,
    ]
    if weakness.metric == COMPLETION:
        conditions.append(ActionFact.on_time.is_(True))
    elif weakness.metric == CONVERSION:
        conditions.append(
            ActionFact.contract_lag_seconds <= config.conversion_window_days * 86400.0
        )
    elif weakness.metric == STRATEGY_MIX:
        under_used = [s for s in weakness.shares if s.top_share > s.rep_share]
        if under_used:
            wanted = max(under_used, key=lambda s: (s.top_share - s.rep_share, s.top_share))
            conditions.append(
                exists().where(
                    StrategyUse.opportunity_id == ActionFact.opportunity_id,
                    StrategyUse.action_key == ActionFact.action_key,
                    StrategyUse.occurrence == ActionFact.occurrence,
                    StrategyUse.strategy == wanted.strategy,
                )
            )
    query = (
        select(ActionFact)
        .where(*conditions)
        .order_by(score.desc(), ActionFact.completed_at.desc(), ActionFact.id.desc())
        .limit(limit)
    )
    return [
        BenchmarkCase(
            opportunity_id=fact.opportunity_id,
            action_key=fact.action_key,
            occurrence=fact.occurrence,
            rep_id=fact.rep_id,
            quality=score_of(
                weights, (fact.q_evidence, fact.q_answers, fact.q_timeliness, fact.q_feedback)
            ),
            completed_at=fact.completed_at,
            strategies=list(fact.strategies),
        )
        for fact in await session.scalars(query)
    ]


def instructions(
    kind: str,
    weakness: Weakness,
    *,
    cases: Sequence[BenchmarkCase],
    top_count: int,
    config: AnalyticsConfig,
) -> str:
    """What the rep is asked to do, in a sentence or two."""
    action = label(weakness.action_key)
    if kind == WATCH_BENCHMARK_CASES:
        listed = ", ".join(
            f"{case.opportunity_id}"
            + (f" #{case.occurrence}" if case.occurrence != 1 else "")
            + f" by {case.rep_id}"
            for case in cases
        )
        return (
            f"Watch {len(cases)} {action} cases of the top performers (quality "
            f"{config.quality_target:g} or more): {listed}. "
            f"Why: {weakness.summary}."
        )
    targets = "; ".join(
        f"{label(share.strategy)} {percent(share.top_share)} of theirs, "
        f"{percent(share.rep_share)} of yours"
        for share in weakness.shares
    )
    return (
        f"Rewrite your {action} talk track towards the strategy mix of the top {top_count} "
        f"({targets}) and submit it when you mark this task done."
    )


async def _lock(session: AsyncSession) -> None:
    if session.bind.dialect.name == "postgresql":
        await session.execute(text(f"SELECT pg_advisory_xact_lock({COACHING_LOCK_KEY})"))


async def create_tasks(
    sessions: async_sessionmaker[AsyncSession],
    config: AnalyticsConfig,
    caller: Caller,
    *,
    rep_id: str,
    action_key: str = "",
    metric: str = "",
    top: int = TOP_ACTIONS,
    cases: int = 0,
    now: datetime,
) -> CreatedTasks:
    """Training tasks for the rep's weaknesses as of now; an open task is never repeated.

    FailedPrecondition when the rep has not the history to be judged. The review (which
    actions the rep improves first) and every task created go to the operation log.
    """
    [found] = await find_weaknesses(sessions, config, as_of=now, rep_ids=[rep_id])
    if not found.enough_history:
        raise FailedPrecondition(f"{rep_id}: {found.summary}")
    plans = plan_tasks(found, action_key=action_key, metric=metric, top=top)
    window = coaching_window(now, config)

    created: list[TrainingTask] = []
    existing: list[TrainingTask] = []
    async with sessions.begin() as session:
        await _lock(session)
        open_tasks = {
            (task.action_key, task.metric, task.kind): task
            for task in await session.scalars(
                select(TrainingTask).where(
                    TrainingTask.rep_id == rep_id, TrainingTask.status == TASK_OPEN
                )
            )
        }
        region, manager_id = await _home(session, rep_id)
        for weakness, kind in plans:
            earlier = open_tasks.get((weakness.action_key, weakness.metric, kind))
            if earlier is not None:
                existing.append(earlier)
                continue
            task = await _new_task(
                session,
                config,
                caller,
                found,
                weakness,
                kind,
                window=window,
                cases=cases or config.coaching_cases,
                home=(region, manager_id),
                now=now,
            )
            if task is not None:
                session.add(task)
                created.append(task)
                open_tasks[(weakness.action_key, weakness.metric, kind)] = task
        await session.flush()

        session.add(
            CoachingReview(
                rep_id=rep_id,
                region=region,
                reviewed_by=caller.id,
                reviewed_at=now,
                top_actions=found.top_actions,
                weaknesses=len(found.weaknesses),
                tasks_created=len(created),
            )
        )
        await append_operations(
            session,
            [
                Operation(
                    caller,
                    SERVICE,
                    "coaching.reviewed",
                    f"rep:{rep_id}",
                    {
                        "top_actions": found.top_actions,
                        "weaknesses": len(found.weaknesses),
                        "tasks_created": [task.task_id for task in created],
                        "tasks_existing": [task.task_id for task in existing],
                    },
                ),
                *(_created_operation(caller, task) for task in created),
            ],
        )
    logger.info(
        "coaching review rep=%s weaknesses=%d created=%d existing=%d",
        rep_id,
        len(found.weaknesses),
        len(created),
        len(existing),
    )
    return CreatedTasks(created, existing, found)


async def _new_task(
    session: AsyncSession,
    config: AnalyticsConfig,
    caller: Caller,
    found: RepWeaknesses,
    weakness: Weakness,
    kind: str,
    *,
    window: Window,
    cases: int,
    home: tuple[str, str],
    now: datetime,
) -> TrainingTask | None:
    """A task for one weakness; None when there is no benchmark case to watch."""
    chosen: list[BenchmarkCase] = []
    if kind == WATCH_BENCHMARK_CASES:
        chosen = await benchmark_cases(
            session,
            config,
            weakness=weakness,
            top_performers=found.top_performers,
            window=window,
            limit=cases,
        )
        if not chosen:
            logger.info(
                "no benchmark case to watch rep=%s action=%s metric=%s",
                found.rep_id,
                weakness.action_key,
                weakness.metric,
            )
            return None
    region, manager_id = home
    return TrainingTask(
        rep_id=found.rep_id,
        manager_id=manager_id,
        region=region,
        action_key=weakness.action_key,
        metric=weakness.metric,
        kind=kind,
        status=TASK_OPEN,
        instructions=instructions(
            kind, weakness, cases=chosen, top_count=len(found.top_performers), config=config
        ),
        value_at_creation=weakness.value,
        benchmark=weakness.benchmark,
        top_performers=list(found.top_performers),
        benchmark_mix=dict(found.top_mix.get(weakness.action_key, {})),
        cases=[case.as_record() for case in chosen],
        window_days=config.coaching_history_days,
        created_by=caller.id,
        created_at=now,
        submission="",
    )


def _created_operation(caller: Caller, task: TrainingTask) -> Operation:
    return Operation(
        caller,
        SERVICE,
        "training_task.created",
        f"training_task:{task.task_id}",
        {
            "rep_id": task.rep_id,
            "action_key": task.action_key,
            "metric": task.metric,
            "kind": task.kind,
            "value": task.value_at_creation,
            "benchmark": task.benchmark,
            "cases": [case["opportunity_id"] for case in task.cases],
        },
    )


async def complete_task(
    sessions: async_sessionmaker[AsyncSession],
    caller: Caller,
    task_id: int,
    *,
    submission: str,
    authorise: Callable[[TrainingTask], None],
    now: datetime,
) -> TrainingTask:
    """Marks a task done (once: a task already done is answered as it is)."""
    async with sessions.begin() as session:
        task = await session.get(TrainingTask, task_id, with_for_update=True)
        if task is None:
            raise NotFound(f"training task {task_id} does not exist")
        authorise(task)
        if task.status == TASK_DONE:
            return task
        task.status = TASK_DONE
        task.completed_by = caller.id
        task.completed_at = now
        task.submission = submission
        await append_operations(
            session,
            [
                Operation(
                    caller,
                    SERVICE,
                    "training_task.completed",
                    f"training_task:{task.task_id}",
                    {"rep_id": task.rep_id, "kind": task.kind, "submission": submission},
                )
            ],
        )
    logger.info("training task done task=%s rep=%s kind=%s", task.task_id, task.rep_id, task.kind)
    return task


# ---- progress -------------------------------------------------------------------------------


@dataclass(frozen=True)
class MetricWindow:
    start: datetime
    end: datetime
    value: float | None
    instances: int


@dataclass(frozen=True)
class Progress:
    task: TrainingTask
    before: MetricWindow
    after: MetricWindow | None
    state: str
    improved: bool
    required: int

    @property
    def summary(self) -> str:
        metric = self.task.metric
        before = show(metric, self.before.value)
        if self.state == OPEN:
            return f"not done yet; {metric} before: {before} ({self.before.instances} actions)"
        if self.state == MEASURING:
            return f"measuring, {self.after.instances} of {self.required} actions"
        verdict = "improved" if self.improved else "not improved"
        return f"{verdict}: {metric} {before} -> {show(metric, self.after.value)}"


async def progress(
    sessions: async_sessionmaker[AsyncSession],
    config: AnalyticsConfig,
    tasks: Sequence[TrainingTask],
    *,
    now: datetime,
) -> list[Progress]:
    """Each task's weak metric over the window before its creation and, once it is done,
    the window of the same length after (up to now), measured once enough actions exist."""
    required = config.coaching_min_instances
    found = []
    async with reading(sessions) as session:
        for task in tasks:
            length = timedelta(days=task.window_days)
            before = await _measure(
                session, config, task, start=task.created_at - length, end=task.created_at
            )
            if task.status != TASK_DONE or task.completed_at is None:
                found.append(Progress(task, before, None, OPEN, False, required))
                continue
            end = max(min(task.completed_at + length, now), task.completed_at)
            after = await _measure(session, config, task, start=task.completed_at, end=end)
            if after.value is None:
                found.append(Progress(task, before, after, MEASURING, False, required))
                continue
            improved = before.value is not None and round(after.value - before.value, 9) > 0
            found.append(Progress(task, before, after, MEASURED, improved, required))
    return found


async def _measure(
    session: AsyncSession,
    config: AnalyticsConfig,
    task: TrainingTask,
    *,
    start: datetime,
    end: datetime,
) -> MetricWindow:
    """The task's metric for its rep and action over [start, end), judged as of `end`."""
    figures = await action_figures(
        session,
        config,
        start=start,
        end=end,
        matured_by=end,
        conditions=lambda table: [table.rep_id == task.rep_id],
        action_keys=[task.action_key],
    )
    mine = figures.get((task.rep_id, task.action_key), ActionFigures())
    found = read(mine, task.metric, config=config, reference_mix=task.benchmark_mix)
    enough = found.instances >= config.coaching_min_instances
    return MetricWindow(start, end, found.value if enough else None, found.instances)

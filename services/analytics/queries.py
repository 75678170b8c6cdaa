"""The analytics figures, read from the fact tables: heatmap, bottlenecks, conversion,
quality, growth path and a rep's last outcomes.

Every function takes a Scope (already narrowed to what the caller may see) or a rep the
caller may read, and answers plain dataclasses; nothing here knows about gRPC. How each
figure is defined is documented in protos/salesflow/analytics/v1/analytics.proto and in
services/analytics/fold.py, which decides the per-instance inputs.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, case, func, not_, or_, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.analytics.config import AnalyticsConfig, QualityWeights
from services.analytics.fold import week_of
from services.analytics.models import DONE, ActionFact
from services.analytics.scope import Scope
from services.analytics.sql import moment, percentile, reading, score_of, seconds_between
from services.analytics.totals import Totals, totals
from services.analytics.words import label

# ---- shared ---------------------------------------------------------------------------------


def _in_period(scope: Scope) -> list:
    return [ActionFact.started_at >= scope.start, ActionFact.started_at < scope.end]


def _display_order(positions: dict[str, int]) -> list[str]:
    """Action keys in pipeline order (known positions first), then by name."""
    return sorted(positions, key=lambda key: (positions[key] < 0, positions[key], key))


def _rate(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


# ---- heatmap --------------------------------------------------------------------------------


@dataclass(frozen=True)
class HeatmapCell:
    action_key: str
    group: str
    due: int
    on_time: int
    rate: float
    red: bool


@dataclass(frozen=True)
class Heatmap:
    action_keys: list[str]
    groups: list[str]
    cells: list[HeatmapCell]
    red_below: float
    overall_rate: float


async def heatmap(
    sessions: async_sessionmaker[AsyncSession],
    scope: Scope,
    *,
    by_rep: bool,
    red_below: float,
    config: AnalyticsConfig,
) -> Heatmap:
    """Completion rate per action type and region (or rep): on time / due."""
    group = "rep_id" if by_rep else "region"
    async with reading(sessions) as session:
        found = await totals(
            session,
            config,
            start=scope.start,
            end=scope.end,
            by=("action_key", group),
            conditions=scope.conditions,
        )

    cells, positions = [], {}
    for (action_key, group_value), figures in found.items():
        if not figures.due:
            continue
        rate = figures.on_time / figures.due
        cells.append(
            HeatmapCell(
                action_key, group_value, figures.due, figures.on_time, rate, rate < red_below
            )
        )
        positions[action_key] = min(figures.position, positions.get(action_key, figures.position))
    action_keys = _display_order(positions)
    cells.sort(key=lambda cell: (action_keys.index(cell.action_key), cell.group))
    return Heatmap(
        action_keys=action_keys,
        groups=sorted({cell.group for cell in cells}),
        cells=cells,
        red_below=red_below,
        overall_rate=_rate(sum(c.on_time for c in cells), sum(c.due for c in cells)),
    )


# ---- bottlenecks ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Bottleneck:
    rank: int
    action_key: str
    instances: int
    stalled: int
    open: int
    average_hours: float
    p90_hours: float
    total_hours: float

    @property
    def summary(self) -> str:
        return (
            f"{label(self.action_key)} averages {_span(self.average_hours)} "
            f"(90% within {_span(self.p90_hours)}); {self.stalled} of {self.instances} stalled"
        )


def _span(hours: float) -> str:
    return f"{hours / 24:.1f} days" if hours >= 24 else f"{hours:.1f} hours"


async def bottlenecks(
    sessions: async_sessionmaker[AsyncSession],
    scope: Scope,
    *,
    limit: int,
    by_stalled: bool,
    stall_hours: float,
    now: datetime,
) -> list[Bottleneck]:
    """Action types ranked by average time open (or by how many stalled) in the period."""
    until = moment(min(scope.end, now))
    columns = (
        ActionFact.action_key,
        ActionFact.position,
        ActionFact.started_at,
        ActionFact.ended_at,
        ActionFact.duration_seconds,
        ActionFact.paused_seconds,
        ActionFact.overdue,
    )
    shared = [ActionFact.started_at < until, *scope.conditions(ActionFact)]
    # Two range scans of the ended_at index (which carries every column read here) instead
    # of one OR, so PostgreSQL can answer from the index alone.
    candidates = union_all(
        select(*columns).where(ActionFact.ended_at >= moment(scope.start), *shared),
        select(*columns).where(ActionFact.ended_at.is_(None), *shared),
    ).subquery()
    finished = and_(candidates.c.ended_at.is_not(None), candidates.c.ended_at < until)
    open_seconds = seconds_between(candidates.c.started_at, until) - candidates.c.paused_seconds
    seconds = case(
        (finished, candidates.c.duration_seconds),
        (open_seconds < 0, 0.0),
        else_=open_seconds,
    )
    instances = select(
        candidates.c.action_key,
        candidates.c.position,
        seconds.label("seconds"),
        candidates.c.overdue,
        not_(finished).label("still_open"),
    ).subquery()
    columns = [
        instances.c.action_key,
        func.min(instances.c.position),
        func.count(),
        func.count().filter(or_(instances.c.overdue, instances.c.seconds > stall_hours * 3600)),
        func.count().filter(instances.c.still_open),
        func.avg(instances.c.seconds),
        func.sum(instances.c.seconds),
    ]
    async with reading(sessions) as session:
        postgres = session.bind.dialect.name == "postgresql"
        if postgres:
            columns.append(func.percentile_cont(0.9).within_group(instances.c.seconds))
        rows = (await session.execute(select(*columns).group_by(instances.c.action_key))).all()
        p90 = {}
        if not postgres:
            p90 = await _p90_in_python(session, instances)

    found = []
    for row in rows:
        action_key, _position, count, stalled, still_open, average, total = row[:7]
        found.append(
            Bottleneck(
                rank=0,
                action_key=action_key,
                instances=count,
                stalled=stalled,
                open=still_open,
                average_hours=float(average or 0) / 3600,
                p90_hours=float(row[7] if postgres else p90.get(action_key, 0.0)) / 3600,
                total_hours=float(total or 0) / 3600,
            )
        )
    if by_stalled:
        found.sort(key=lambda b: (-b.stalled, -b.average_hours, b.action_key))
    else:
        found.sort(key=lambda b: (-b.average_hours, -b.stalled, b.action_key))
    return [replace(b, rank=rank) for rank, b in enumerate(found[:limit], start=1)]


async def _p90_in_python(session: AsyncSession, instances) -> dict[str, float]:
    # SQLite has no percentile function; the demo's volumes are small enough to sort here.
    durations: dict[str, list[float]] = {}
    for action_key, seconds in await session.execute(
        select(instances.c.action_key, instances.c.seconds)
    ):
        durations.setdefault(action_key, []).append(float(seconds))
    return {key: percentile(values, 0.9) for key, values in durations.items()}


# ---- conversion -----------------------------------------------------------------------------


BELOW_REFERENCE = "below_reference"
AT_REFERENCE = "at_reference"
ABOVE_TARGET = "above_target"
NO_REFERENCE = "no_reference"
NOT_MATURED = "not_matured"


@dataclass(frozen=True)
class ConversionRow:
    action_key: str
    completed: int
    converted: int
    rate: float
    reference: float | None
    target: float | None
    flag: str
    maturing: int


async def conversion(
    sessions: async_sessionmaker[AsyncSession],
    scope: Scope,
    *,
    window_days: int,
    config: AnalyticsConfig,
    now: datetime,
) -> list[ConversionRow]:
    """Per action: of the matured completions, the share that reached the contract stage.

    With the configured window the counts come from the daily rollup, less the completions
    whose window has not passed yet (read from the facts: only the last window's worth);
    any other window is counted over the facts alone. Both give the same figures.
    """
    async with reading(sessions) as session:
        if window_days == config.conversion_window_days:
            counts = await _conversion_from_rollup(session, scope, config=config, now=now)
        else:
            counts = await _conversion_from_facts(
                session, scope, window_days=window_days, config=config, now=now
            )

    positions = {key: position for key, (position, *_counts) in counts.items()}
    found = []
    for action_key in _display_order(positions):
        _position, completed, converted_count, maturing = counts[action_key]
        rate = _rate(converted_count, completed)
        reference = config.conversion_references.get(action_key)
        target = None if reference is None else reference * config.conversion_target_factor
        found.append(
            ConversionRow(
                action_key=action_key,
                completed=completed,
                converted=converted_count,
                rate=rate,
                reference=reference,
                target=target,
                flag=_conversion_flag(rate, completed, reference, target),
                maturing=maturing,
            )
        )
    return found


# (position, matured completions, converted, maturing) per action key.
ConversionCounts = dict[str, tuple[int, int, int, int]]


def _convertible(scope: Scope, config: AnalyticsConfig) -> list:
    return [
        ActionFact.status == DONE,
        ActionFact.action_key != config.contract_action,
        *_in_period(scope),
        *scope.conditions(ActionFact),
    ]


async def _conversion_from_facts(
    session: AsyncSession,
    scope: Scope,
    *,
    window_days: int,
    config: AnalyticsConfig,
    now: datetime,
) -> ConversionCounts:
    matured = ActionFact.completed_at <= moment(now - timedelta(days=window_days))
    converted = and_(matured, ActionFact.contract_lag_seconds <= window_days * 86400.0)
    query = (
        select(
            ActionFact.action_key,
            func.min(ActionFact.position),
            func.count().filter(matured),
            func.count().filter(converted),
            func.count().filter(not_(matured)),
        )
        .where(*_convertible(scope, config))
        .group_by(ActionFact.action_key)
    )
    return {row[0]: tuple(row[1:]) for row in (await session.execute(query)).all()}


async def _immature(
    session: AsyncSession, conditions: list, *, by, config: AnalyticsConfig, now: datetime
) -> dict[Any, tuple[int, int]]:
    """(completions, converted) whose configured window has not passed, per group."""
    window = config.conversion_window_days
    query = (
        select(
            by,
            func.count(),
            func.count().filter(ActionFact.contract_lag_seconds <= window * 86400.0),
        )
        .where(*conditions, ActionFact.completed_at > moment(now - timedelta(days=window)))
        .group_by(by)
    )
    return {row[0]: (row[1], row[2]) for row in (await session.execute(query)).all()}


async def _conversion_from_rollup(
    session: AsyncSession, scope: Scope, *, config: AnalyticsConfig, now: datetime
) -> ConversionCounts:
    found = await totals(
        session,
        config,
        start=scope.start,
        end=scope.end,
        by=("action_key",),
        conditions=scope.conditions,
    )
    recent = await _immature(
        session, _convertible(scope, config), by=ActionFact.action_key, config=config, now=now
    )
    counts = {}
    for (action_key,), figures in found.items():
        if not figures.convertible:
            continue
        maturing, maturing_converted = recent.get(action_key, (0, 0))
        counts[action_key] = (
            figures.position,
            figures.convertible - maturing,
            figures.converted - maturing_converted,
            maturing,
        )
    return counts


def _conversion_flag(
    rate: float, completed: int, reference: float | None, target: float | None
) -> str:
    if reference is None:
        return NO_REFERENCE
    if completed == 0:
        return NOT_MATURED
    if rate < reference:
        return BELOW_REFERENCE
    return ABOVE_TARGET if rate >= target else AT_REFERENCE


# ---- quality --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Components:
    evidence: float
    answers: float
    timeliness: float
    feedback: float

    def as_tuple(self) -> tuple[float, float, float, float]:
        return (self.evidence, self.answers, self.timeliness, self.feedback)


@dataclass(frozen=True)
class RepQuality:
    rep_id: str
    region: str
    instances: int
    score: float
    components: Components


@dataclass(frozen=True)
class InstanceQuality:
    opportunity_id: str
    action_key: str
    occurrence: int
    rep_id: str
    region: str
    completed_at: datetime
    score: float
    components: Components


def _scored(scope: Scope, action_key: str) -> list:
    conditions = [ActionFact.status == DONE, *_in_period(scope), *scope.conditions(ActionFact)]
    if action_key:
        conditions.append(ActionFact.action_key == action_key)
    return conditions


async def quality_by_rep(
    sessions: async_sessionmaker[AsyncSession],
    scope: Scope,
    *,
    action_key: str,
    config: AnalyticsConfig,
) -> list[RepQuality]:
    """Each rep's mean quality score over their completed instances, best first.

    A rep who worked in several regions is shown with the one of most completions.
    """
    async with reading(sessions) as session:
        found = await totals(
            session,
            config,
            start=scope.start,
            end=scope.end,
            by=("rep_id", "region"),
            conditions=scope.conditions,
            action_keys=[action_key] if action_key else None,
        )

    per_rep: dict[str, Totals] = {}
    region_of: dict[str, tuple[int, str]] = {}
    for (rep_id, region), figures in found.items():
        if not figures.done:
            continue
        per_rep.setdefault(rep_id, Totals()).add(figures)
        region_of[rep_id] = max(region_of.get(rep_id, (0, "")), (figures.done, region))

    reps = [
        RepQuality(
            rep_id=rep_id,
            region=region_of[rep_id][1],
            instances=figures.done,
            score=figures.quality(config.quality_weights),
            components=Components(*figures.means),
        )
        for rep_id, figures in per_rep.items()
    ]
    reps.sort(key=lambda rep: (-rep.score, rep.rep_id))
    return reps


async def quality_instances(
    sessions: async_sessionmaker[AsyncSession],
    scope: Scope,
    *,
    action_key: str,
    weights: QualityWeights,
    limit: int,
) -> list[InstanceQuality]:
    """Completed instances with their scores, newest completion first."""
    query = (
        select(
            ActionFact.opportunity_id,
            ActionFact.action_key,
            ActionFact.occurrence,
            ActionFact.rep_id,
            ActionFact.region,
            ActionFact.completed_at,
            ActionFact.q_evidence,
            ActionFact.q_answers,
            ActionFact.q_timeliness,
            ActionFact.q_feedback,
        )
        .where(*_scored(scope, action_key))
        .order_by(ActionFact.completed_at.desc(), ActionFact.id.desc())
        .limit(limit)
    )
    async with reading(sessions) as session:
        rows = (await session.execute(query)).all()
    found = []
    for *identity, evidence, answers, timeliness, feedback in rows:
        components = Components(evidence, answers, timeliness, feedback)
        score = score_of(weights, components.as_tuple())
        found.append(InstanceQuality(*identity, score, components))
    return found


# ---- growth path ----------------------------------------------------------------------------


@dataclass(frozen=True)
class WeekFigures:
    completion_rate: float | None = None
    quality: float | None = None
    conversion_rate: float | None = None
    due: int = 0
    scored: int = 0
    conversions_decided: int = 0


@dataclass(frozen=True)
class GrowthWeek:
    week_start: datetime
    rep: WeekFigures
    top_performers: WeekFigures


@dataclass(frozen=True)
class GrowthPath:
    rep_id: str
    team: str
    top_performers: list[str]
    weeks: list[GrowthWeek] = field(default_factory=list)


async def team_of(session: AsyncSession, rep_id: str) -> str:
    """The rep's manager, as their latest instance records it ("" when none)."""
    return (
        await session.scalar(
            select(ActionFact.manager_id)
            .where(ActionFact.rep_id == rep_id)
            .order_by(ActionFact.started_at.desc(), ActionFact.id.desc())
            .limit(1)
        )
        or ""
    )


async def growth_path(
    sessions: async_sessionmaker[AsyncSession],
    *,
    rep_id: str,
    weeks: int,
    end: datetime,
    top: int,
    config: AnalyticsConfig,
    now: datetime,
) -> GrowthPath:
    """The rep's weekly figures next to the pooled figures of the team's top performers."""
    zone = config.zone
    last_week = week_of(end, zone)
    first_week = last_week - timedelta(weeks=weeks - 1)
    window = (
        datetime.combine(first_week, time(0), tzinfo=zone),
        datetime.combine(last_week + timedelta(weeks=1), time(0), tzinfo=zone),
    )

    async with reading(sessions) as session:
        team = await team_of(session, rep_id)
        leaders: list[str] = []
        if team:
            leaders = await _top_performers(session, team, rep_id, window, top=top, config=config)
        mine = await _weekly(session, [rep_id], window, config, now)
        theirs = await _weekly(session, leaders, window, config, now) if leaders else {}

    path = GrowthPath(rep_id=rep_id, team=team, top_performers=leaders)
    for number in range(weeks):
        week = first_week + timedelta(weeks=number)
        path.weeks.append(
            GrowthWeek(
                week_start=datetime.combine(week, time(0), tzinfo=zone),
                rep=mine.get(week, WeekFigures()),
                top_performers=theirs.get(week, WeekFigures()),
            )
        )
    return path


async def _top_performers(
    session: AsyncSession,
    team: str,
    rep_id: str,
    window: tuple[datetime, datetime],
    *,
    top: int,
    config: AnalyticsConfig,
) -> list[str]:
    """The team's other reps with the best mean quality over the window, then completion."""
    found = await totals(
        session,
        config,
        start=window[0],
        end=window[1],
        by=("rep_id",),
        conditions=lambda table: [table.manager_id == team, table.rep_id != rep_id],
    )

    def rank(item: tuple[tuple[str], Totals]) -> tuple:
        (member,), figures = item
        quality = figures.quality(config.quality_weights)
        completion = figures.completion_rate
        return (
            quality is None,
            -(quality or 0.0),
            completion is None,
            -(completion or 0.0),
            member,
        )

    return [member for (member,), _figures in sorted(found.items(), key=rank)[:top]]


async def _weekly(
    session: AsyncSession,
    reps: list[str],
    window: tuple[datetime, datetime],
    config: AnalyticsConfig,
    now: datetime,
) -> dict[date, WeekFigures]:
    """Figures per week (Monday) of the reps' instances pooled together."""
    per_day = await totals(
        session,
        config,
        start=window[0],
        end=window[1],
        by=("day",),
        conditions=lambda table: [table.rep_id.in_(reps)],
    )
    weeks: dict[date, Totals] = {}
    for (day,), figures in per_day.items():
        weeks.setdefault(_monday(day), Totals()).add(figures)

    # Completions whose conversion window has not passed are not decided yet.
    recent_by_day = await _immature(
        session,
        [
            ActionFact.rep_id.in_(reps),
            ActionFact.status == DONE,
            ActionFact.action_key != config.contract_action,
            ActionFact.started_at >= moment(window[0]),
            ActionFact.started_at < moment(window[1]),
        ],
        by=ActionFact.day,
        config=config,
        now=now,
    )
    recent: dict[date, tuple[int, int]] = {}
    for day, (count, converted) in recent_by_day.items():
        before = recent.get(_monday(day), (0, 0))
        recent[_monday(day)] = (before[0] + count, before[1] + converted)

    found = {}
    for week, figures in weeks.items():
        maturing, maturing_converted = recent.get(week, (0, 0))
        decided = figures.convertible - maturing
        found[week] = WeekFigures(
            completion_rate=figures.completion_rate,
            quality=figures.quality(config.quality_weights),
            conversion_rate=(figures.converted - maturing_converted) / decided if decided else None,
            due=figures.due,
            scored=figures.done,
            conversions_decided=decided,
        )
    return found


def _monday(day: date | str) -> date:
    if isinstance(day, str):
        day = date.fromisoformat(day)
    return day - timedelta(days=day.weekday())


# ---- last outcomes --------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    opportunity_id: str
    action_key: str
    completed_at: datetime
    strategies: list[str]
    topic: str
    result: str
    pipeline_outcome: str
    quality: float


def topic_filter(column, topic: str):
    """Case-insensitive containment, with LIKE's wildcards in the topic taken literally."""
    escaped = topic.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.ilike(f"%{escaped}%", escape="\\")


async def last_outcomes(
    sessions: async_sessionmaker[AsyncSession],
    *,
    rep_id: str,
    action_key: str,
    topic: str,
    limit: int,
    weights: QualityWeights,
) -> list[Outcome]:
    """The rep's newest completed instances of the action, with what came of them."""
    conditions = [
        ActionFact.rep_id == rep_id,
        ActionFact.action_key == action_key,
        ActionFact.status == DONE,
    ]
    if topic:
        conditions.append(topic_filter(ActionFact.topic, topic))
    query = (
        select(ActionFact)
        .where(*conditions)
        .order_by(ActionFact.completed_at.desc(), ActionFact.id.desc())
        .limit(limit)
    )
    async with reading(sessions) as session:
        facts = list(await session.scalars(query))
    return [
        Outcome(
            opportunity_id=fact.opportunity_id,
            action_key=fact.action_key,
            completed_at=fact.completed_at,
            strategies=list(fact.strategies),
            topic=fact.topic,
            result=fact.result,
            pipeline_outcome=fact.pipeline_outcome,
            quality=score_of(
                weights, (fact.q_evidence, fact.q_answers, fact.q_timeliness, fact.q_feedback)
            ),
        )
        for fact in facts
    ]

"""The analytics service's gRPC face: validates requests, narrows them to what the caller
may see (services.analytics.scope) and translates the figures to the wire.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from salesflow.analytics.v1 import analytics_pb2 as pb
from salesflow.analytics.v1 import analytics_pb2_grpc
from salesflow.core.caller import Caller, Role
from salesflow.core.db import utcnow
from salesflow.core.errors import InvalidArgument, NotFound, PermissionDenied, require
from salesflow.core.rpc import rpc
from salesflow.core.wire import bounded_limit, timestamp
from services.analytics import coaching, coverage, health, queries, strategies
from services.analytics.config import AnalyticsConfig
from services.analytics.models import TASK_DONE, TASK_OPEN, TrainingTask
from services.analytics.scope import READER_ROLES, Scope, readable_rep, resolve_scope

logger = logging.getLogger(__name__)

MAX_KEY_LENGTH = 200
# A rewritten talk track, or a note on a watched case.
MAX_SUBMISSION_LENGTH = 20_000
# Bottlenecks are about where pipelines stall now: a quarter at most (every instance open
# in the period is sorted for its percentile, unlike the additive figures).
MAX_BOTTLENECK_PERIOD = timedelta(days=92)

_CONVERSION_FLAGS = {
    queries.NO_REFERENCE: pb.CONVERSION_FLAG_NO_REFERENCE,
    queries.BELOW_REFERENCE: pb.CONVERSION_FLAG_BELOW_REFERENCE,
    queries.AT_REFERENCE: pb.CONVERSION_FLAG_AT_REFERENCE,
    queries.ABOVE_TARGET: pb.CONVERSION_FLAG_ABOVE_TARGET,
    queries.NOT_MATURED: pb.CONVERSION_FLAG_UNSPECIFIED,
}
_HEALTH_STATUSES = {
    health.PASS: pb.HEALTH_STATUS_PASS,
    health.FAIL: pb.HEALTH_STATUS_FAIL,
    health.UNMEASURABLE: pb.HEALTH_STATUS_UNMEASURABLE,
}
_RESULTS = {
    "accepted": pb.OUTCOME_RESULT_ACCEPTED,
    "rejected": pb.OUTCOME_RESULT_REJECTED,
    "pending": pb.OUTCOME_RESULT_PENDING,
}


def _moment(message, name: str) -> datetime | None:
    return getattr(message, name).ToDatetime(tzinfo=UTC) if message.HasField(name) else None


def _key(value: str, field: str, *, required: bool) -> str:
    stripped = require(value, field) if required else (value or "").strip()
    if len(stripped) > MAX_KEY_LENGTH:
        raise InvalidArgument(field, f"must be at most {MAX_KEY_LENGTH} characters")
    return stripped


def _enum(value: int, enum_type, field: str) -> int:
    if value not in enum_type.values():
        raise InvalidArgument(field, f"unknown value {value}")
    return value


def _components(components: queries.Components) -> pb.QualityComponents:
    return pb.QualityComponents(
        evidence=components.evidence,
        answers=components.answers,
        timeliness=components.timeliness,
        feedback=components.feedback,
    )


def _week_figures(figures: queries.WeekFigures) -> pb.WeekFigures:
    message = pb.WeekFigures(
        due=figures.due, scored=figures.scored, conversions_decided=figures.conversions_decided
    )
    for name in ("completion_rate", "quality", "conversion_rate"):
        value = getattr(figures, name)
        if value is not None:
            setattr(message, name, value)
    return message


def _strategy_stat(stat: strategies.StrategyStat) -> pb.StrategyStat:
    message = pb.StrategyStat(
        strategy=stat.strategy, uses=stat.uses, accepted=stat.accepted, rejected=stat.rejected
    )
    if stat.acceptance is not None:
        message.acceptance = stat.acceptance
    return message


def _share_messages(shares) -> list[pb.StrategyShare]:
    return [
        pb.StrategyShare(strategy=s.strategy, rep_share=s.rep_share, top_share=s.top_share)
        for s in shares
    ]


def _rep_weaknesses(found: coaching.RepWeaknesses) -> pb.RepWeaknesses:
    return pb.RepWeaknesses(
        rep_id=found.rep_id,
        region=found.region,
        history_days=found.history_days,
        required_days=found.required_days,
        enough_history=found.enough_history,
        weaknesses=[
            pb.Weakness(
                rank=w.rank,
                action_key=w.action_key,
                metric=w.metric,
                value=w.value,
                benchmark=w.benchmark,
                gap=w.gap,
                instances=w.instances,
                benchmark_instances=w.benchmark_instances,
                strategies=_share_messages(w.shares),
                summary=w.summary,
            )
            for w in found.weaknesses
        ],
        top_actions=found.top_actions,
        top_performers=found.top_performers,
        summary=found.summary,
    )


def _task(task: TrainingTask) -> pb.TrainingTask:
    mix = task.benchmark_mix or {}
    message = pb.TrainingTask(
        task_id=task.task_id,
        rep_id=task.rep_id,
        region=task.region,
        action_key=task.action_key,
        metric=task.metric,
        kind=task.kind,
        status=task.status,
        instructions=task.instructions,
        cases=[
            pb.BenchmarkCase(
                opportunity_id=case.opportunity_id,
                action_key=case.action_key,
                occurrence=case.occurrence,
                rep_id=case.rep_id,
                quality=case.quality,
                completed_at=timestamp(case.completed_at),
                strategies=case.strategies,
            )
            for case in map(coaching.BenchmarkCase.from_record, task.cases)
        ],
        value_at_creation=task.value_at_creation,
        benchmark=task.benchmark,
        strategies=[
            pb.StrategyShare(strategy=strategy, top_share=share)
            for strategy, share in sorted(mix.items(), key=lambda item: (-item[1], item[0]))
        ],
        created_by=task.created_by,
        created_at=timestamp(task.created_at),
        completed_by=task.completed_by or "",
        submission=task.submission,
        window_days=task.window_days,
    )
    if task.completed_at is not None:
        message.completed_at.CopyFrom(timestamp(task.completed_at))
    return message


def _metric_window(window: coaching.MetricWindow | None) -> pb.MetricWindow | None:
    if window is None:
        return None
    message = pb.MetricWindow(
        start=timestamp(window.start), end=timestamp(window.end), instances=window.instances
    )
    if window.value is not None:
        message.value = window.value
    return message


def _may_read_task(caller: Caller, task: TrainingTask) -> None:
    """Reps read their own tasks, managers those of their regions, the others all."""
    caller.require_role(*READER_ROLES)
    if caller.role is Role.REP:
        if task.rep_id != caller.id:
            raise PermissionDenied(f"{caller.id} may read only their own training tasks")
        return
    caller.require_region(task.region)


def _may_complete_task(caller: Caller, task: TrainingTask) -> None:
    """Reps complete their own tasks, managers those of their regions, admins any."""
    caller.require_role(Role.REP, Role.MANAGER)
    _may_read_task(caller, task)


def _metric(value: str, field: str) -> str:
    metric = (value or "").strip()
    if metric and metric not in coaching.METRICS:
        raise InvalidArgument(field, f"unknown metric {metric!r} ({', '.join(coaching.METRICS)})")
    return metric


class AnalyticsServicer(analytics_pb2_grpc.AnalyticsServiceServicer):
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        config: AnalyticsConfig,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._sessions = sessions
        self._config = config
        self._clock = clock

    async def _scope(self, caller: Caller, request_filter: pb.Filter) -> Scope:
        return await resolve_scope(
            self._sessions,
            caller,
            start=_moment(request_filter, "start"),
            end=_moment(request_filter, "end"),
            region=_key(request_filter.region, "filter.region", required=False),
            team=_key(request_filter.team, "filter.team", required=False),
            rep_id=_key(request_filter.rep_id, "filter.rep_id", required=False),
        )

    @rpc
    async def Heatmap(self, request, context, caller: Caller) -> pb.HeatmapResponse:
        """Completion rate per action type and region (or rep); cells below the line are red."""
        group = _enum(request.group_by, pb.HeatmapGroup, "group_by")
        red_below = request.red_below or self._config.red_below
        if not 0 < red_below <= 1:
            raise InvalidArgument("red_below", "must be a share in (0, 1]")
        scope = await self._scope(caller, request.filter)

        found = await queries.heatmap(
            self._sessions,
            scope,
            by_rep=group == pb.HEATMAP_GROUP_REP,
            red_below=red_below,
            config=self._config,
        )
        return pb.HeatmapResponse(
            action_keys=found.action_keys,
            groups=found.groups,
            cells=[
                pb.HeatmapCell(
                    action_key=cell.action_key,
                    group=cell.group,
                    due=cell.due,
                    on_time=cell.on_time,
                    rate=cell.rate,
                    red=cell.red,
                )
                for cell in found.cells
            ],
            red_below=red_below,
            overall_rate=found.overall_rate,
            target_rate=self._config.completion_target,
        )

    @rpc
    async def Bottlenecks(self, request, context, caller: Caller) -> pb.BottlenecksResponse:
        """The action types where pipelines stall most in the period."""
        limit = bounded_limit(request.limit, default=3, maximum=50)
        rank_by = _enum(request.rank_by, pb.BottleneckRank, "rank_by")
        scope = await self._scope(caller, request.filter)
        if scope.end - scope.start > MAX_BOTTLENECK_PERIOD:
            raise InvalidArgument(
                "filter.end",
                f"bottlenecks look at most {MAX_BOTTLENECK_PERIOD.days} days at a time",
            )

        found = await queries.bottlenecks(
            self._sessions,
            scope,
            limit=limit,
            by_stalled=rank_by == pb.BOTTLENECK_RANK_STALLED,
            stall_hours=self._config.stall_hours,
            now=self._clock(),
        )
        return pb.BottlenecksResponse(
            bottlenecks=[
                pb.Bottleneck(
                    rank=b.rank,
                    action_key=b.action_key,
                    instances=b.instances,
                    stalled=b.stalled,
                    open=b.open,
                    average_hours=b.average_hours,
                    p90_hours=b.p90_hours,
                    total_hours=b.total_hours,
                    summary=b.summary,
                )
                for b in found
            ],
            stall_hours=self._config.stall_hours,
        )

    @rpc
    async def Conversion(self, request, context, caller: Caller) -> pb.ConversionResponse:
        """Per action, the share of pipelines reaching the contract stage within the window."""
        window = bounded_limit(
            request.window_days,
            default=self._config.conversion_window_days,
            maximum=90,
            field="window_days",
        )
        scope = await self._scope(caller, request.filter)

        rows = await queries.conversion(
            self._sessions, scope, window_days=window, config=self._config, now=self._clock()
        )
        return pb.ConversionResponse(
            window_days=window,
            contract_action=self._config.contract_action,
            target_factor=self._config.conversion_target_factor,
            rows=[
                pb.ConversionRow(
                    action_key=row.action_key,
                    completed=row.completed,
                    converted=row.converted,
                    rate=row.rate,
                    reference=row.reference or 0.0,
                    target=row.target or 0.0,
                    flag=_CONVERSION_FLAGS[row.flag],
                    maturing=row.maturing,
                )
                for row in rows
            ],
        )

    @rpc
    async def Quality(self, request, context, caller: Caller) -> pb.QualityResponse:
        """Quality scores 0–100: each rep's mean, or each completed instance."""
        level = _enum(request.level, pb.QualityLevel, "level")
        limit = bounded_limit(request.limit, default=100, maximum=1000)
        action_key = _key(request.action_key, "action_key", required=False)
        scope = await self._scope(caller, request.filter)
        weights, target = self._config.quality_weights, self._config.quality_target

        response = pb.QualityResponse(
            weights=pb.QualityWeights(
                evidence=weights.evidence,
                answers=weights.answers,
                timeliness=weights.timeliness,
                feedback=weights.feedback,
            ),
            target=target,
        )
        if level == pb.QUALITY_LEVEL_INSTANCE:
            for found in await queries.quality_instances(
                self._sessions, scope, action_key=action_key, weights=weights, limit=limit
            ):
                response.instances.append(
                    pb.InstanceQuality(
                        opportunity_id=found.opportunity_id,
                        action_key=found.action_key,
                        occurrence=found.occurrence,
                        rep_id=found.rep_id,
                        region=found.region,
                        completed_at=timestamp(found.completed_at),
                        score=found.score,
                        components=_components(found.components),
                        below_target=found.score < target,
                    )
                )
        else:
            for found in await queries.quality_by_rep(
                self._sessions,
                scope,
                action_key=action_key,
                config=self._config,
            ):
                response.reps.append(
                    pb.RepQuality(
                        rep_id=found.rep_id,
                        region=found.region,
                        instances=found.instances,
                        score=found.score,
                        components=_components(found.components),
                        below_target=found.score < target,
                    )
                )
        return response

    @rpc
    async def GrowthPath(self, request, context, caller: Caller) -> pb.GrowthPathResponse:
        """A rep's weekly figures next to the team's top performers."""
        rep_id = _key(request.rep_id, "rep_id", required=True)
        weeks = bounded_limit(request.weeks, default=12, maximum=52, field="weeks")
        top = bounded_limit(request.top, default=3, maximum=10, field="top")
        now = self._clock()
        end = _moment(request, "end") or now
        await readable_rep(self._sessions, caller, rep_id)

        path = await queries.growth_path(
            self._sessions,
            rep_id=rep_id,
            weeks=weeks,
            end=end,
            top=top,
            config=self._config,
            now=now,
        )
        return pb.GrowthPathResponse(
            rep_id=path.rep_id,
            team=path.team,
            top_performers=path.top_performers,
            weeks=[
                pb.GrowthWeek(
                    week_start=timestamp(week.week_start),
                    rep=_week_figures(week.rep),
                    top_performers=_week_figures(week.top_performers),
                )
                for week in path.weeks
            ],
        )

    @rpc
    async def HealthCheck(self, request, context, caller: Caller) -> pb.HealthCheckResponse:
        """The ten self-check items with their values and the overall verdict."""
        scope = await self._scope(caller, request.filter)
        report = await health.health_check(
            self._sessions, scope, config=self._config, now=self._clock()
        )
        return pb.HealthCheckResponse(
            items=[
                pb.HealthItem(
                    number=item.number,
                    key=item.key,
                    title=item.title,
                    status=_HEALTH_STATUSES[item.status],
                    value=item.value,
                    unit=item.unit,
                    threshold=item.threshold,
                    detail=item.detail,
                )
                for item in report.items
            ],
            passed=report.passed,
            unmeasurable=report.unmeasurable,
            needed=health.HEALTHY_AT,
            healthy=report.healthy,
            verdict=report.verdict,
        )

    @rpc
    async def LastOutcomes(self, request, context, caller: Caller) -> pb.LastOutcomesResponse:
        """A rep's newest completions of one action type and what came of them."""
        rep_id = _key(request.rep_id, "rep_id", required=True)
        action_key = _key(request.action_key, "action_key", required=True)
        topic = _key(request.topic, "topic", required=False)
        limit = bounded_limit(request.limit, default=3, maximum=20)
        await readable_rep(self._sessions, caller, rep_id)

        found = await queries.last_outcomes(
            self._sessions,
            rep_id=rep_id,
            action_key=action_key,
            topic=topic,
            limit=limit,
            weights=self._config.quality_weights,
        )
        return pb.LastOutcomesResponse(
            outcomes=[
                pb.Outcome(
                    opportunity_id=outcome.opportunity_id,
                    action_key=outcome.action_key,
                    completed_at=timestamp(outcome.completed_at),
                    strategies=outcome.strategies,
                    topic=outcome.topic,
                    result=_RESULTS[outcome.result],
                    pipeline_outcome=outcome.pipeline_outcome,
                    quality=outcome.quality,
                )
                for outcome in found
            ]
        )

    @rpc
    async def StrategySuggestion(
        self, request, context, caller: Caller
    ) -> pb.StrategySuggestionResponse:
        """Which strategies to use more, from the team's recorded customer outcomes."""
        rep_id = _key(request.rep_id, "rep_id", required=True)
        action_key = _key(request.action_key, "action_key", required=True)
        topic = _key(request.topic, "topic", required=False)
        opportunity_id = _key(request.opportunity_id, "opportunity_id", required=False)
        used = [_key(value, "strategies_used", required=True) for value in request.strategies_used]
        if used and not opportunity_id:
            raise InvalidArgument("opportunity_id", "is required with strategies_used")
        lookback = bounded_limit(
            request.lookback_days,
            default=self._config.suggestion_lookback_days,
            maximum=730,
            field="lookback_days",
        )
        await readable_rep(self._sessions, caller, rep_id)

        found = await strategies.suggest(
            self._sessions,
            rep_id=rep_id,
            action_key=action_key,
            topic=topic,
            opportunity_id=opportunity_id,
            strategies_used=used,
            lookback_days=lookback,
            config=self._config,
            now=self._clock(),
        )
        response = pb.StrategySuggestionResponse(
            suggestion=found.text,
            suggestion_zh=found.text_zh,
            team=found.team,
            rep_uses=found.rep_uses,
            rep_strategies=[_strategy_stat(stat) for stat in found.rep_strategies],
            team_strategies=[_strategy_stat(stat) for stat in found.team_strategies],
            use_more=found.use_more,
        )
        if found.team_acceptance is not None:
            response.team_acceptance = found.team_acceptance
        return response

    @rpc
    async def Coverage(self, request, context, caller: Caller) -> pb.CoverageResponse:
        """When the caller's visible instances started, and their regions, teams and reps."""
        found = await coverage.coverage(self._sessions, caller)
        response = pb.CoverageResponse(
            instances=found.instances,
            regions=found.regions,
            teams=found.teams,
            reps=[
                pb.CoveredRep(
                    rep_id=rep.rep_id, team=rep.team, region=rep.region, instances=rep.instances
                )
                for rep in found.reps
            ],
            timezone=self._config.timezone,
        )
        if found.first_started is not None:
            response.first_started.CopyFrom(timestamp(found.first_started))
            response.last_started.CopyFrom(timestamp(found.last_started))
        return response

    # ---- coaching ----------------------------------------------------------------------

    @rpc
    async def FindWeaknesses(self, request, context, caller: Caller) -> pb.FindWeaknessesResponse:
        """Each rep's weakest actions against the top performers over the history window."""
        rep_id = _key(request.rep_id, "rep_id", required=False)
        as_of = _moment(request, "as_of") or self._clock()
        caller.require_role(*READER_ROLES)
        regions = None
        if caller.role is Role.REP:
            rep_id = rep_id or caller.id
        if rep_id:
            await readable_rep(self._sessions, caller, rep_id)
        elif not caller.may_see_region("*"):
            regions = sorted(caller.regions)

        found = await coaching.find_weaknesses(
            self._sessions,
            self._config,
            as_of=as_of,
            rep_ids=[rep_id] if rep_id else None,
            regions=regions,
        )
        window = coaching.coaching_window(as_of, self._config)
        return pb.FindWeaknessesResponse(
            window_start=timestamp(window.start),
            window_end=timestamp(window.end),
            reps=[_rep_weaknesses(each) for each in found],
        )

    @rpc
    async def CreateTrainingTasks(
        self, request, context, caller: Caller
    ) -> pb.CreateTrainingTasksResponse:
        """Training tasks for a rep's weaknesses; an open task is never given twice."""
        rep_id = _key(request.rep_id, "rep_id", required=True)
        action_key = _key(request.action_key, "action_key", required=False)
        metric = _metric(request.metric, "metric")
        if metric and not action_key:
            raise InvalidArgument("action_key", "is required with metric")
        top = bounded_limit(request.top, default=coaching.TOP_ACTIONS, maximum=10, field="top")
        cases = bounded_limit(
            request.cases, default=self._config.coaching_cases, maximum=20, field="cases"
        )
        caller.require_role(Role.MANAGER)
        await readable_rep(self._sessions, caller, rep_id)

        result = await coaching.create_tasks(
            self._sessions,
            self._config,
            caller,
            rep_id=rep_id,
            action_key=action_key,
            metric=metric,
            top=top,
            cases=cases,
            now=self._clock(),
        )
        return pb.CreateTrainingTasksResponse(
            created=[_task(task) for task in result.created],
            existing=[_task(task) for task in result.existing],
            weaknesses=_rep_weaknesses(result.weaknesses),
        )

    @rpc
    async def ListTrainingTasks(
        self, request, context, caller: Caller
    ) -> pb.ListTrainingTasksResponse:
        """Training tasks the caller may see, newest first."""
        rep_id = _key(request.rep_id, "rep_id", required=False)
        status = (request.status or "").strip()
        if status not in ("", TASK_OPEN, TASK_DONE):
            raise InvalidArgument("status", f"must be {TASK_OPEN} or {TASK_DONE}")
        limit = bounded_limit(request.limit, default=100, maximum=1000)
        caller.require_role(*READER_ROLES)
        if caller.role is Role.REP:
            rep_id = rep_id or caller.id
        if rep_id:
            await readable_rep(self._sessions, caller, rep_id)

        query = select(TrainingTask).order_by(
            TrainingTask.created_at.desc(), TrainingTask.task_id.desc()
        )
        if rep_id:
            query = query.where(TrainingTask.rep_id == rep_id)
        elif not caller.may_see_region("*"):
            query = query.where(TrainingTask.region.in_(sorted(caller.regions)))
        if status:
            query = query.where(TrainingTask.status == status)
        async with self._sessions() as session:
            tasks = list(await session.scalars(query.limit(limit)))
        return pb.ListTrainingTasksResponse(tasks=[_task(task) for task in tasks])

    @rpc
    async def CompleteTrainingTask(self, request, context, caller: Caller) -> pb.TrainingTask:
        """Marks a task done; a talk track needs the rewritten text as its submission."""
        if request.task_id <= 0:
            raise InvalidArgument("task_id", "is required")
        submission = (request.submission or "").strip()
        if len(submission) > MAX_SUBMISSION_LENGTH:
            raise InvalidArgument(
                "submission", f"must be at most {MAX_SUBMISSION_LENGTH} characters"
            )

        def authorise(task: TrainingTask) -> None:
            _may_complete_task(caller, task)
            if task.kind == coaching.REWRITE_TALK_TRACK and not submission:
                if task.status != TASK_DONE:
                    raise InvalidArgument("submission", "is required: the rewritten talk track")

        task = await coaching.complete_task(
            self._sessions,
            caller,
            request.task_id,
            submission=submission,
            authorise=authorise,
            now=self._clock(),
        )
        return _task(task)

    @rpc
    async def TrainingProgress(
        self, request, context, caller: Caller
    ) -> pb.TrainingProgressResponse:
        """Before and after each task: did the weak metric improve?"""
        rep_id = _key(request.rep_id, "rep_id", required=False)
        if bool(request.task_id) == bool(rep_id):
            raise InvalidArgument("task_id", "name one task, or a rep (not both)")
        async with self._sessions() as session:
            if request.task_id:
                task = await session.get(TrainingTask, request.task_id)
                if task is None:
                    raise NotFound(f"training task {request.task_id} does not exist")
                _may_read_task(caller, task)
                tasks = [task]
            else:
                await readable_rep(self._sessions, caller, rep_id)
                tasks = list(
                    await session.scalars(
                        select(TrainingTask)
                        .where(TrainingTask.rep_id == rep_id)
                        .order_by(TrainingTask.created_at.desc(), TrainingTask.task_id.desc())
                        .limit(100)
                    )
                )

        found = await coaching.progress(self._sessions, self._config, tasks, now=self._clock())
        return pb.TrainingProgressResponse(
            tasks=[
                pb.TaskProgress(
                    task=_task(each.task),
                    before=_metric_window(each.before),
                    after=_metric_window(each.after),
                    state=each.state,
                    improved=each.improved,
                    required_instances=each.required,
                    summary=each.summary,
                )
                for each in found
            ]
        )

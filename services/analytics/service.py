"""The analytics service's gRPC face: validates requests, narrows them to what the caller
may see (services.analytics.scope) and translates the figures to the wire.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from salesflow.analytics.v1 import analytics_pb2 as pb
from salesflow.analytics.v1 import analytics_pb2_grpc
from salesflow.core.caller import Caller
from salesflow.core.db import utcnow
from salesflow.core.errors import InvalidArgument, require
from salesflow.core.rpc import rpc
from salesflow.core.wire import bounded_limit, timestamp
from services.analytics import coverage, health, queries, strategies
from services.analytics.config import AnalyticsConfig
from services.analytics.scope import Scope, readable_rep, resolve_scope

logger = logging.getLogger(__name__)

MAX_KEY_LENGTH = 200
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

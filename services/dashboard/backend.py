"""What the dashboard asks the analytics and pipeline services, and the JSON it answers.

Every call goes over gRPC with the viewer's identity as metadata, so the services decide
what the viewer may see; nothing here reads the database. The JSON shapes are the page's
contract (static/dashboard.js) and are listed in README.md, "Dashboard".
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from salesflow.analytics.v1 import analytics_pb2 as pb
from salesflow.analytics.v1 import analytics_pb2_grpc
from salesflow.core.caller import Caller
from salesflow.core.rpc import channel
from salesflow.pipeline.v1 import pipeline_pb2, pipeline_pb2_grpc
from services.dashboard.periods import DEFAULT_BOTTLENECK_PERIOD, DEFAULT_PERIOD, Period, presets
from services.dashboard.viewer import viewer_json

logger = logging.getLogger(__name__)

# Seconds one gRPC call may take before the page is told the service is unavailable.
CALL_TIMEOUT = 15.0
# A rep's pipeline list stops after this many (pages of ListPipelines' maximum).
MAX_PIPELINES = 2000
PIPELINE_PAGE = 500

_CONVERSION_FLAGS = {
    pb.CONVERSION_FLAG_UNSPECIFIED: "maturing",
    pb.CONVERSION_FLAG_NO_REFERENCE: "no_reference",
    pb.CONVERSION_FLAG_BELOW_REFERENCE: "below_reference",
    pb.CONVERSION_FLAG_AT_REFERENCE: "at_reference",
    pb.CONVERSION_FLAG_ABOVE_TARGET: "above_target",
}
_HEALTH_STATUSES = {
    pb.HEALTH_STATUS_UNSPECIFIED: "unmeasurable",
    pb.HEALTH_STATUS_PASS: "pass",
    pb.HEALTH_STATUS_FAIL: "fail",
    pb.HEALTH_STATUS_UNMEASURABLE: "unmeasurable",
}
BOTTLENECK_RANKS = {
    "time_open": pb.BOTTLENECK_RANK_TIME_OPEN,
    "stalled": pb.BOTTLENECK_RANK_STALLED,
}


@dataclass(frozen=True)
class Filters:
    """The page's filters: a period and, optionally, a region, a team and a rep."""

    period: Period
    region: str = ""
    team: str = ""
    rep: str = ""

    def proto(self) -> pb.Filter:
        message = pb.Filter(region=self.region, team=self.team, rep_id=self.rep)
        message.start.FromDatetime(self.period.start)
        message.end.FromDatetime(self.period.end)
        return message

    def json(self) -> dict:
        return {
            "period": self.period.json(),
            "region": self.region,
            "team": self.team,
            "rep": self.rep,
        }


def _moment(message, name: str) -> str | None:
    """An RFC 3339 UTC time of a Timestamp field, or None when unset."""
    if not message.HasField(name):
        return None
    return getattr(message, name).ToDatetime(tzinfo=UTC).isoformat().replace("+00:00", "Z")


def _optional(message, name: str) -> float | None:
    return getattr(message, name) if message.HasField(name) else None


def action_names() -> dict[str, dict[str, str]]:
    """English and Chinese names of the built-in action types (the library preset holds the
    default pipeline's five and the twelve B2B types); other keys are shown as words."""
    from services.templates.presets import library_template

    return {
        action.key: {"en": action.name, "zh": action.name_zh}
        for action in library_template().actions
    }


class DashboardBackend:
    """gRPC clients of the analytics and pipeline services, shared by every request."""

    def __init__(self, *, analytics_target: str, pipeline_target: str, zone: ZoneInfo) -> None:
        self.analytics_target = analytics_target
        self.pipeline_target = pipeline_target
        self.zone = zone
        self._analytics_channel = channel(analytics_target)
        self._pipeline_channel = channel(pipeline_target)
        self._analytics = analytics_pb2_grpc.AnalyticsServiceStub(self._analytics_channel)
        self._pipelines = pipeline_pb2_grpc.PipelineServiceStub(self._pipeline_channel)
        self._names = action_names()

    async def close(self) -> None:
        await self._analytics_channel.close()
        await self._pipeline_channel.close()

    async def _call(self, method, request, viewer: Caller):
        return await method(request, metadata=viewer.metadata(), timeout=CALL_TIMEOUT)

    # ---- what the page starts from ---------------------------------------------------------

    async def overview(self, viewer: Caller, *, now: datetime) -> dict:
        """The viewer, the data's span, the period presets, the filter lists, action names."""
        found = await self._call(self._analytics.Coverage, pb.CoverageRequest(), viewer)
        first = last = None
        if found.HasField("first_started"):
            first = found.first_started.ToDatetime(tzinfo=UTC)
            last = found.last_started.ToDatetime(tzinfo=UTC)
        periods = presets(first, last, self.zone, now)
        return {
            "viewer": viewer_json(viewer),
            "timezone": found.timezone or self.zone.key,
            "data": None
            if first is None
            else {
                "first_day": first.astimezone(self.zone).date().isoformat(),
                "last_day": last.astimezone(self.zone).date().isoformat(),
                "instances": found.instances,
            },
            "periods": {name: period.json() for name, period in periods.items()},
            "default_period": DEFAULT_PERIOD,
            "default_bottleneck_period": DEFAULT_BOTTLENECK_PERIOD,
            "regions": list(found.regions),
            "teams": list(found.teams),
            "reps": [
                {"id": r.rep_id, "team": r.team, "region": r.region, "instances": r.instances}
                for r in found.reps
            ],
            "actions": self._names,
        }

    # ---- the analytics panels --------------------------------------------------------------

    async def heatmap(self, viewer: Caller, filters: Filters, *, by_rep: bool) -> dict:
        group = pb.HEATMAP_GROUP_REP if by_rep else pb.HEATMAP_GROUP_REGION
        found = await self._call(
            self._analytics.Heatmap,
            pb.HeatmapRequest(filter=filters.proto(), group_by=group),
            viewer,
        )
        return {
            "filters": filters.json(),
            "group_by": "rep" if by_rep else "region",
            "actions": list(found.action_keys),
            "groups": list(found.groups),
            "cells": [
                {
                    "action": cell.action_key,
                    "group": cell.group,
                    "due": cell.due,
                    "on_time": cell.on_time,
                    "rate": cell.rate,
                    "red": cell.red,
                }
                for cell in found.cells
            ],
            "red_below": found.red_below,
            "overall_rate": found.overall_rate,
            "target_rate": found.target_rate,
        }

    async def bottlenecks(
        self, viewer: Caller, filters: Filters, *, rank_by: str, limit: int
    ) -> dict:
        found = await self._call(
            self._analytics.Bottlenecks,
            pb.BottlenecksRequest(
                filter=filters.proto(), limit=limit, rank_by=BOTTLENECK_RANKS[rank_by]
            ),
            viewer,
        )
        return {
            "filters": filters.json(),
            "rank_by": rank_by,
            "stall_hours": found.stall_hours,
            "items": [
                {
                    "rank": item.rank,
                    "action": item.action_key,
                    "instances": item.instances,
                    "stalled": item.stalled,
                    "open": item.open,
                    "average_hours": item.average_hours,
                    "p90_hours": item.p90_hours,
                    "average_days": item.average_hours / 24,
                    "p90_days": item.p90_hours / 24,
                    "summary": item.summary,
                }
                for item in found.bottlenecks
            ],
        }

    async def conversion(self, viewer: Caller, filters: Filters, *, window_days: int) -> dict:
        found = await self._call(
            self._analytics.Conversion,
            pb.ConversionRequest(filter=filters.proto(), window_days=window_days),
            viewer,
        )
        return {
            "filters": filters.json(),
            "window_days": found.window_days,
            "contract_action": found.contract_action,
            "target_factor": found.target_factor,
            "rows": [
                {
                    "action": row.action_key,
                    "completed": row.completed,
                    "converted": row.converted,
                    "rate": row.rate,
                    "reference": row.reference,
                    "target": row.target,
                    "flag": _CONVERSION_FLAGS[row.flag],
                    "maturing": row.maturing,
                }
                for row in found.rows
            ],
        }

    async def quality(self, viewer: Caller, filters: Filters) -> dict:
        found = await self._call(
            self._analytics.Quality,
            pb.QualityRequest(filter=filters.proto(), level=pb.QUALITY_LEVEL_REP),
            viewer,
        )
        weights = found.weights
        return {
            "filters": filters.json(),
            "target": found.target,
            "weights": {
                "evidence": weights.evidence,
                "answers": weights.answers,
                "timeliness": weights.timeliness,
                "feedback": weights.feedback,
            },
            "reps": [
                {
                    "rep": rep.rep_id,
                    "region": rep.region,
                    "instances": rep.instances,
                    "score": rep.score,
                    "components": {
                        "evidence": rep.components.evidence,
                        "answers": rep.components.answers,
                        "timeliness": rep.components.timeliness,
                        "feedback": rep.components.feedback,
                    },
                    "below_target": rep.below_target,
                }
                for rep in found.reps
            ],
        }

    async def growth(
        self, viewer: Caller, *, rep: str, end: datetime, weeks: int, top: int
    ) -> dict:
        request = pb.GrowthPathRequest(rep_id=rep, weeks=weeks, top=top)
        request.end.FromDatetime(end)
        found = await self._call(self._analytics.GrowthPath, request, viewer)
        return {
            "rep": found.rep_id,
            "team": found.team,
            "top_performers": list(found.top_performers),
            "weeks": [
                {
                    "week_start": week.week_start.ToDatetime(tzinfo=UTC)
                    .astimezone(self.zone)
                    .date()
                    .isoformat(),
                    "rep": _week(week.rep),
                    "top": _week(week.top_performers),
                }
                for week in found.weeks
            ],
        }

    async def health(self, viewer: Caller, filters: Filters) -> dict:
        found = await self._call(
            self._analytics.HealthCheck, pb.HealthCheckRequest(filter=filters.proto()), viewer
        )
        return {
            "filters": filters.json(),
            "items": [
                {
                    "number": item.number,
                    "key": item.key,
                    "title": item.title,
                    "status": _HEALTH_STATUSES[item.status],
                    "value": item.value,
                    "unit": item.unit,
                    "threshold": item.threshold,
                    "detail": item.detail,
                }
                for item in found.items
            ],
            "passed": found.passed,
            "unmeasurable": found.unmeasurable,
            "needed": found.needed,
            "healthy": found.healthy,
            "verdict": found.verdict,
        }

    # ---- drill-down to pipelines -----------------------------------------------------------

    async def pipelines(self, viewer: Caller, *, rep: str, region: str, outcome: str) -> dict:
        """A rep's (or a region's) pipelines, by opportunity id, at most MAX_PIPELINES."""
        found, token = [], ""
        while True:
            page = await self._call(
                self._pipelines.ListPipelines,
                pipeline_pb2.ListPipelinesRequest(
                    rep_id=rep,
                    region=region,
                    outcome=outcome,
                    page_size=PIPELINE_PAGE,
                    page_token=token,
                ),
                viewer,
            )
            found.extend(page.pipelines)
            token = page.next_page_token
            if not token or len(found) >= MAX_PIPELINES:
                break
        return {
            "rep": rep,
            "region": region,
            "outcome": outcome,
            "truncated": bool(token),
            "pipelines": [
                {
                    "id": p.opportunity_id,
                    "rep": p.rep_id,
                    "region": p.region,
                    "account": p.account,
                    "outcome": p.outcome,
                    "current_action": p.current_action,
                    "current_since": _moment(p, "current_since"),
                    "overdue_actions": p.overdue_actions,
                }
                for p in found[:MAX_PIPELINES]
            ],
        }

    async def pipeline(self, viewer: Caller, opportunity_id: str) -> dict:
        """One pipeline's action timeline, from its workflow."""
        state = await self._call(
            self._pipelines.GetPipeline,
            pipeline_pb2.GetPipelineRequest(opportunity_id=opportunity_id),
            viewer,
        )
        return {
            "id": state.opportunity_id,
            "workflow_id": state.workflow_id,
            "rep": state.rep_id,
            "manager": state.manager_id,
            "region": state.region,
            "account": state.account,
            "outcome": state.outcome,
            "current_action": state.current_action,
            "current_since": _moment(state, "current_since"),
            "last_touch_at": _moment(state, "last_touch_at"),
            "template": {"id": state.template_id, "version": state.template_version},
            "reminders": state.reminders,
            "actions": [
                {
                    "key": action.key,
                    "name": action.name,
                    "name_zh": action.name_zh,
                    "status": action.status,
                    "started_at": _moment(action, "started_at"),
                    "completed_at": _moment(action, "completed_at"),
                    "due_at": _moment(action, "due_at"),
                    "overdue": action.overdue,
                    "escalations": action.escalations,
                    "paused": action.paused,
                    "warned": action.warned,
                }
                for action in state.actions
            ],
            "deadlines": [
                {"key": d.key, "at": _moment(d, "at"), "fired": d.fired} for d in state.deadlines
            ],
            "tickets": [
                {"key": t.ticket_key, "department": t.department, "status": t.status}
                for t in state.tickets
            ],
        }


def _week(figures: pb.WeekFigures) -> dict:
    return {
        "completion_rate": _optional(figures, "completion_rate"),
        "quality": _optional(figures, "quality"),
        "conversion_rate": _optional(figures, "conversion_rate"),
        "due": figures.due,
        "scored": figures.scored,
        "conversions_decided": figures.conversions_decided,
    }

"""Events and callers the points tests build: pipeline.started, action.completed and
action.overdue as the pipeline workflow publishes them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from salesflow.core.caller import Caller, Role
from salesflow.core.events import new_event
from salesflow.events.v1 import events_pb2

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DIRECTOR = Caller(id="director", role=Role.DIRECTOR, regions=frozenset())
HR = Caller(id="hr", role=Role.HR, regions=frozenset())
ADMIN = Caller(id="admin", role=Role.ADMIN, regions=frozenset({"*"}))


def unique(name: str) -> str:
    return f"{name} {uuid.uuid4().hex[:6]}"


def started(
    rep: str,
    region: str,
    *,
    opp: str,
    at: datetime = T0,
    template: str = "b2b-default",
    version: int = 1,
    manager: str = "",
) -> events_pb2.Event:
    event = new_event(
        event_id=f"pipeline-{opp}:pipeline.started",
        event_type="pipeline.started",
        source="tests",
        time=at,
        opportunity_id=opp,
        rep_id=rep,
        region=region,
    )
    event.pipeline_started.CopyFrom(
        events_pb2.PipelineStarted(
            workflow_id=f"pipeline-{opp}",
            manager_id=manager,
            template_id=template,
            template_version=version,
        )
    )
    return event


def template_changed(
    rep: str, region: str, *, opp: str, at: datetime, template: str, to_version: int
) -> events_pb2.Event:
    event = new_event(
        event_id=f"pipeline-{opp}:pipeline.template_changed:{to_version}",
        event_type="pipeline.template_changed",
        source="tests",
        time=at,
        opportunity_id=opp,
        rep_id=rep,
        region=region,
    )
    event.pipeline_template_changed.CopyFrom(
        events_pb2.PipelineTemplateChanged(template_id=template, to_version=to_version)
    )
    return event


def completed(
    rep: str,
    region: str,
    action: str,
    points: int = 5,
    *,
    at: datetime = T0,
    opp: str = "OPP1",
    on_time: bool = True,
    evidence: int = 0,
    answers: int = 0,
) -> events_pb2.Event:
    event = new_event(
        event_id=f"pipeline-{opp}:action.completed:{action}:{rep}",
        event_type="action.completed",
        source="tests",
        time=at,
        opportunity_id=opp,
        rep_id=rep,
        region=region,
    )
    event.action_completed.CopyFrom(
        events_pb2.ActionCompleted(
            action_key=action,
            points=points,
            on_time=on_time,
            evidence_ids=[f"ev-{n}" for n in range(evidence)],
            answers_given=answers,
        )
    )
    return event


def overdue(
    rep: str, region: str, action: str, points: int = -2, *, at: datetime = T0, opp: str = "OPP1"
) -> events_pb2.Event:
    event = new_event(
        event_id=f"pipeline-{opp}:action.overdue:{action}:{rep}",
        event_type="action.overdue",
        source="tests",
        time=at,
        opportunity_id=opp,
        rep_id=rep,
        region=region,
    )
    event.action_overdue.CopyFrom(events_pb2.ActionOverdue(action_key=action, points=points))
    return event


def rep_caller(rep: str, region: str) -> Caller:
    return Caller(id=rep, role=Role.REP, regions=frozenset({region}))


def manager_caller(region: str) -> Caller:
    return Caller(id=unique("manager"), role=Role.MANAGER, regions=frozenset({region}))

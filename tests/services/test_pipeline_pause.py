"""Pausing and resuming an action over gRPC: who may, what is refused, what is recorded;
and the rep's time zone from the team directory reaching the pipeline."""

from __future__ import annotations

import uuid
from datetime import UTC, timedelta

import grpc
import pytest
from sqlalchemy import select

from salesflow.core.caller import Caller, Role
from salesflow.core.oplog import OperationLogEntry, verify_chain
from salesflow.pipeline.v1 import pipeline_pb2, pipeline_pb2_grpc
from salesflow.replay.export import TeamMember
from services.pipeline.directory import upsert_team

REP = Caller("Klara Berg", Role.REP, frozenset({"West"}))
OTHER_REP = Caller("Oscar Other", Role.REP, frozenset({"West"}))
MANAGER = Caller("Mona Manager", Role.MANAGER, frozenset({"West"}))
LEGAL = Caller("Lee Legal", Role.LEGAL, frozenset())
REASON = "waiting for the customer's board approval"


@pytest.fixture
async def stack(stack):
    await upsert_team(
        stack.sessions,
        [
            TeamMember("Klara Berg", "Mona Manager", "West", "Europe/Berlin"),
            TeamMember("Oscar Other", "Mona Manager", "West"),
        ],
    )
    return stack


async def refused(call, request) -> grpc.StatusCode:
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await call(request)
    return error.value.code()


def deadlines(state: pipeline_pb2.PipelineState) -> dict[str, object]:
    return {
        item.key: item.at.ToDatetime(tzinfo=UTC) if item.HasField("at") else None
        for item in state.deadlines
    }


async def test_a_rep_pauses_and_a_manager_resumes_with_every_refusal_on_the_wire(
    stack, open_channel
):
    opportunity_id = f"P{uuid.uuid4().hex[:7].upper()}"
    rep = pipeline_pb2_grpc.PipelineServiceStub(open_channel(stack.target("pipeline"), REP))
    other = pipeline_pb2_grpc.PipelineServiceStub(open_channel(stack.target("pipeline"), OTHER_REP))
    manager = pipeline_pb2_grpc.PipelineServiceStub(open_channel(stack.target("pipeline"), MANAGER))
    legal = pipeline_pb2_grpc.PipelineServiceStub(open_channel(stack.target("pipeline"), LEGAL))

    started = await rep.StartPipeline(
        pipeline_pb2.StartPipelineRequest(opportunity_id=opportunity_id, rep_id=REP.id)
    )
    # The rep's zone from the team directory is where the pipeline's dates are judged.
    assert started.state.rep_time_zone == "Europe/Berlin"
    opened = started.state.current_since.ToDatetime(tzinfo=UTC)
    assert deadlines(started.state) == {"silence": opened + timedelta(hours=72)}

    pause = pipeline_pb2.PauseActionRequest(opportunity_id=opportunity_id, reason=REASON)
    assert await refused(
        rep.PauseAction, pipeline_pb2.PauseActionRequest(opportunity_id=opportunity_id)
    ) == (grpc.StatusCode.INVALID_ARGUMENT)
    assert await refused(other.PauseAction, pause) == grpc.StatusCode.PERMISSION_DENIED
    assert await refused(legal.PauseAction, pause) == grpc.StatusCode.PERMISSION_DENIED
    wrong_step = pipeline_pb2.PauseActionRequest(
        opportunity_id=opportunity_id, action_key="solution_demo", reason=REASON
    )
    assert await refused(rep.PauseAction, wrong_step) == grpc.StatusCode.FAILED_PRECONDITION
    assert await refused(
        rep.ResumeAction, pipeline_pb2.ResumeActionRequest(opportunity_id=opportunity_id)
    ) == (grpc.StatusCode.FAILED_PRECONDITION)

    paused = await rep.PauseAction(pause)
    appointment = paused.actions[0]
    assert (appointment.paused, appointment.pause_reason) == (True, REASON)
    # When the pause began, so a reader can count the pause in force.
    paused_since = appointment.paused_since.ToDatetime(tzinfo=UTC)
    assert paused_since >= opened
    assert deadlines(paused) == {"silence": None}
    assert await refused(rep.PauseAction, pause) == grpc.StatusCode.FAILED_PRECONDITION

    await stack.environment.sleep(timedelta(hours=2))
    resumed = await manager.ResumeAction(
        pipeline_pb2.ResumeActionRequest(opportunity_id=opportunity_id, action_key="appointment")
    )
    appointment = resumed.actions[0]
    assert not appointment.paused and not appointment.HasField("paused_since")
    assert abs(appointment.paused_seconds - 7200) < 1
    assert deadlines(resumed) == {
        "silence": opened + timedelta(hours=72, seconds=appointment.paused_seconds)
    }
    assert await refused(
        manager.ResumeAction, pipeline_pb2.ResumeActionRequest(opportunity_id=opportunity_id)
    ) == (grpc.StatusCode.FAILED_PRECONDITION)

    async with stack.sessions() as session:
        entries = list(
            await session.scalars(
                select(OperationLogEntry)
                .where(OperationLogEntry.subject == opportunity_id)
                .order_by(OperationLogEntry.seq)
            )
        )
        assert (await verify_chain(session)).intact
    assert [(entry.operation, entry.actor_id) for entry in entries] == [
        ("pipeline.started", REP.id),
        ("action.paused", REP.id),
        ("action.resumed", MANAGER.id),
    ]
    assert REASON in entries[1].payload


async def test_pausing_a_closed_pipeline_is_refused(stack, open_channel):
    opportunity_id = f"P{uuid.uuid4().hex[:7].upper()}"
    rep = pipeline_pb2_grpc.PipelineServiceStub(open_channel(stack.target("pipeline"), REP))
    await rep.StartPipeline(
        pipeline_pb2.StartPipelineRequest(opportunity_id=opportunity_id, rep_id=REP.id)
    )
    await rep.ClosePipeline(
        pipeline_pb2.ClosePipelineRequest(opportunity_id=opportunity_id, reason="budget cut")
    )
    pause = pipeline_pb2.PauseActionRequest(opportunity_id=opportunity_id, reason=REASON)
    assert await refused(rep.PauseAction, pause) == grpc.StatusCode.FAILED_PRECONDITION


async def test_the_cli_pauses_and_resumes_through_the_service(stack, capsys):
    from dataclasses import replace

    from salesflow.cli.main import _parser

    opportunity_id = f"P{uuid.uuid4().hex[:7].upper()}"
    async with channel_to(stack, REP) as rep_channel:
        await pipeline_pb2_grpc.PipelineServiceStub(rep_channel).StartPipeline(
            pipeline_pb2.StartPipelineRequest(opportunity_id=opportunity_id, rep_id=REP.id)
        )
    settings = replace(stack.settings, pipeline_port=stack.services["pipeline"].port)

    async def run(*argv: str) -> int:
        options = _parser().parse_args(
            [*argv, "--as", REP.id, "--role", "rep", "--regions", "West"]
        )
        return await options.handler(options, settings)

    assert await run("pipeline", "pause", opportunity_id, "--reason", REASON) == 0
    assert f"(paused: {REASON}; paused so far" in capsys.readouterr().out
    assert await run("pipeline", "pause", opportunity_id, "--reason", REASON) == 1
    assert "FAILED_PRECONDITION" in capsys.readouterr().err
    assert await run("pipeline", "resume", opportunity_id) == 0
    printed = capsys.readouterr().out
    assert "at appointment since" in printed and "(running; paused so far" in printed
    assert "silence" in printed


def channel_to(stack, caller):
    from salesflow.core.rpc import channel

    return channel(stack.target("pipeline"), caller)

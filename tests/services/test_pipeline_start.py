"""Starting pipelines and naming evidence: the refusals a client sees on the wire."""

from __future__ import annotations

import uuid

import grpc
import pytest

from salesflow.core.caller import Caller, Role
from salesflow.pipeline.v1 import pipeline_pb2, pipeline_pb2_grpc
from salesflow.replay.export import TeamMember
from services.pipeline.directory import upsert_team

REP = Caller("Sara Start", Role.REP, frozenset({"South"}))
OTHER_REP = Caller("Olaf Start", Role.REP, frozenset({"South"}))


@pytest.fixture
async def stubs(stack, open_channel):
    await upsert_team(
        stack.sessions,
        [TeamMember(REP.id, "Mo Start", "South"), TeamMember(OTHER_REP.id, "Mo Start", "South")],
    )
    target = stack.target("pipeline")
    return (
        pipeline_pb2_grpc.PipelineServiceStub(open_channel(target, REP)),
        pipeline_pb2_grpc.PipelineServiceStub(open_channel(target, OTHER_REP)),
    )


async def refusal(call, request) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await call(request)
    return error.value


async def test_a_rep_starting_a_pipeline_for_another_rep_is_permission_denied(stubs):
    rep, _other = stubs
    refused = await refusal(
        rep.StartPipeline,
        pipeline_pb2.StartPipelineRequest(
            opportunity_id=f"S{uuid.uuid4().hex[:7]}", rep_id=OTHER_REP.id
        ),
    )
    assert refused.code() == grpc.StatusCode.PERMISSION_DENIED
    assert f"may not start a pipeline for {OTHER_REP.id}" in refused.details()


async def test_starting_a_closed_opportunity_again_says_it_is_closed(stubs):
    rep, _other = stubs
    opportunity_id = f"S{uuid.uuid4().hex[:7]}"
    start = pipeline_pb2.StartPipelineRequest(opportunity_id=opportunity_id, rep_id=REP.id)
    await rep.StartPipeline(start)
    assert (await rep.StartPipeline(start)).already_running

    await rep.ClosePipeline(
        pipeline_pb2.ClosePipelineRequest(opportunity_id=opportunity_id, reason="chose a rival")
    )
    refused = await refusal(rep.StartPipeline, start)
    assert refused.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert f"pipeline '{opportunity_id}' is closed (lost)" in refused.details()


async def test_every_unknown_evidence_id_is_named_at_once(stubs):
    rep, _other = stubs
    opportunity_id = f"S{uuid.uuid4().hex[:7]}"
    await rep.StartPipeline(
        pipeline_pb2.StartPipelineRequest(opportunity_id=opportunity_id, rep_id=REP.id)
    )
    unknown = [str(uuid.uuid4()) for _ in range(3)]
    refused = await refusal(
        rep.CompleteAction,
        pipeline_pb2.CompleteActionRequest(
            opportunity_id=opportunity_id, action_key="appointment", evidence_ids=unknown
        ),
    )
    assert refused.code() == grpc.StatusCode.NOT_FOUND
    assert all(evidence_id in refused.details() for evidence_id in unknown), refused.details()

"""What the pipeline service refuses before a workflow sees it: oversized free text, too
many answers or evidence ids. A 1.1 MB note once went through to the workflow, exceeded
NATS's payload limit and then Temporal's, and stopped the pipeline for good."""

from __future__ import annotations

import uuid

import grpc
import pytest

from salesflow.core.caller import Caller, Role
from salesflow.pipeline.v1 import pipeline_pb2, pipeline_pb2_grpc
from salesflow.replay.export import TeamMember
from services.pipeline.directory import upsert_team

REP = Caller("Lena Limit", Role.REP, frozenset({"North"}))


@pytest.fixture
async def rep(stack, open_channel):
    await upsert_team(stack.sessions, [TeamMember(REP.id, "Max Limit", "North")])
    return pipeline_pb2_grpc.PipelineServiceStub(open_channel(stack.target("pipeline"), REP))


async def refusal(call, request) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await call(request)
    return error.value.code(), error.value.details()


async def test_oversized_requests_are_refused_naming_the_field_and_the_pipeline_goes_on(rep):
    opportunity_id = f"L{uuid.uuid4().hex[:7].upper()}"
    await rep.StartPipeline(
        pipeline_pb2.StartPipelineRequest(opportunity_id=opportunity_id, rep_id=REP.id)
    )

    def complete(**fields) -> pipeline_pb2.CompleteActionRequest:
        return pipeline_pb2.CompleteActionRequest(
            opportunity_id=opportunity_id, action_key="appointment", **fields
        )

    answer = pipeline_pb2.Answer
    cases = [
        (rep.CompleteAction, complete(note="n" * 1_100_000), "note: is 1100000 characters"),
        (rep.CompleteAction, complete(note="n" * 2001), "at most 2000"),
        (
            rep.CompleteAction,
            complete(answers=[answer(key="questions", values=[f"q{n}" for n in range(51)])]),
            "answers[questions].values: 51 values; at most 50 per key",
        ),
        (
            rep.CompleteAction,
            complete(answers=[answer(key="questions", values=["q" * 501])]),
            "answers[questions].values: is 501 characters long; at most 500",
        ),
        (
            rep.CompleteAction,
            complete(evidence_ids=[str(uuid.uuid4()) for _ in range(101)]),
            "evidence_ids: 101 ids; at most 100 in one call",
        ),
        (
            rep.RecordCustomerReply,
            pipeline_pb2.RecordCustomerReplyRequest(opportunity_id=opportunity_id, note="r" * 2001),
            "note: is 2001 characters long; at most 2000",
        ),
        (
            rep.PauseAction,
            pipeline_pb2.PauseActionRequest(opportunity_id=opportunity_id, reason="p" * 2001),
            "reason: is 2001 characters long; at most 2000",
        ),
        (
            rep.ClosePipeline,
            pipeline_pb2.ClosePipelineRequest(opportunity_id=opportunity_id, reason="c" * 2001),
            "reason: is 2001 characters long; at most 2000",
        ),
        (
            rep.StartPipeline,
            pipeline_pb2.StartPipelineRequest(
                opportunity_id=f"{opportunity_id}X", rep_id=REP.id, account="a" * 501
            ),
            "account: is 501 characters long; at most 500",
        ),
    ]
    for call, request, words in cases:
        code, details = await refusal(call, request)
        assert code == grpc.StatusCode.INVALID_ARGUMENT, (words, details)
        assert words in details

    # Nothing reached the workflow: the pipeline takes a normal completion.
    completed = await rep.CompleteAction(complete(note="met the buyer"))
    assert completed.state.current_action == "onsite_diagnosis"

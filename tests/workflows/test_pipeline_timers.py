"""The pipeline's clocks at their real durations on Temporal's time-skipping server."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError

from salesflow.core.events import EventBus
from tests.conftest import eventually
from workflows.pipeline.activities import PipelineActivities, PipelineFact
from workflows.pipeline.template import default_template
from workflows.pipeline.types import (
    AnswerInput,
    CompleteActionInput,
    CustomerReplyInput,
    EvidenceItem,
    PipelineInput,
    ReassignInput,
    workflow_id_for,
)
from workflows.pipeline.workflow import PipelineWorkflow
from workflows.worker import build_worker

HOUR = timedelta(hours=1)


def pipeline_input(opportunity_id: str) -> PipelineInput:
    return PipelineInput(
        opportunity_id=opportunity_id,
        rep_id="Anna Snelling",
        manager_id="Dustin Brinkmann",
        region="Central",
        account="Cancity",
        product="GTX Basic",
        template=default_template(),
    )


async def published(bus: EventBus, event_type: str) -> list[str]:
    """Ids of the events of one type in the stream (duplicates included, if any)."""
    from salesflow.core.events import subject_for

    subscription = await bus.jetstream.subscribe(
        subject_for(bus.prefix, event_type), ordered_consumer=True
    )
    ids = []
    try:
        while True:
            message = await subscription.next_msg(timeout=0.3)
            ids.append(message.headers["Nats-Msg-Id"])
    except Exception:
        pass
    await subscription.unsubscribe()
    return ids


def photos(opportunity_id: str, captured_at, count: int) -> list[EvidenceItem]:
    return [
        EvidenceItem(
            evidence_id=f"ev-{index}",
            opportunity_id=opportunity_id,
            kind="onsite_photo",
            sha256=f"{index:064x}",
            captured_at=captured_at,
            content_type="image/jpeg",
            uploaded_by="Anna Snelling",
        )
        for index in range(count)
    ]


async def walk_to_solution_demo(env, handle: WorkflowHandle, opportunity_id: str):
    """Completes appointment and diagnosis; returns when the diagnosis photo was taken."""
    await handle.execute_update(
        PipelineWorkflow.complete_action, CompleteActionInput(action_key="appointment")
    )
    now = await env.get_current_time()
    await handle.execute_update(
        PipelineWorkflow.complete_action,
        CompleteActionInput(action_key="onsite_diagnosis", evidence=photos(opportunity_id, now, 1)),
    )
    return now


async def walk_to_objection_handling(env, handle: WorkflowHandle, opportunity_id: str) -> None:
    await walk_to_solution_demo(env, handle, opportunity_id)
    await env.sleep(timedelta(minutes=5))
    now = await env.get_current_time()
    await handle.execute_update(
        PipelineWorkflow.complete_action,
        CompleteActionInput(
            action_key="solution_demo",
            evidence=photos(opportunity_id, now, 3),
            answers=[
                AnswerInput("customer_questions", ["price?", "delivery?", "warranty?"]),
                AnswerInput(
                    "response_strategies", ["cost_breakdown", "trial_period", "bundle_offer"]
                ),
            ],
        ),
    )


async def complete_objection_handling(handle: WorkflowHandle) -> None:
    await handle.execute_update(
        PipelineWorkflow.complete_action,
        CompleteActionInput(
            action_key="objection_handling",
            answers=[
                AnswerInput("customer_objections", ["price"]),
                AnswerInput("response_strategies", ["cost_breakdown"]),
            ],
        ),
    )


@pytest.fixture
async def running(time_skipping_env, event_bus, task_queue):
    worker = build_worker(time_skipping_env.client, event_bus, task_queue=task_queue)
    async with worker:
        yield time_skipping_env, event_bus, task_queue


async def start(env, task_queue) -> tuple[str, WorkflowHandle]:
    opportunity_id = uuid.uuid4().hex[:8].upper()
    handle = await env.client.start_workflow(
        PipelineWorkflow.run,
        pipeline_input(opportunity_id),
        id=workflow_id_for(opportunity_id),
        task_queue=task_queue,
    )
    return opportunity_id, handle


async def test_objection_handling_escalates_once_at_48_hours_not_before(running):
    env, bus, task_queue = running
    opportunity_id, handle = await start(env, task_queue)
    await walk_to_objection_handling(env, handle, opportunity_id)
    state = await handle.query(PipelineWorkflow.state)
    assert state.current_action == "objection_handling"

    # Keep the customer talking so the 72 h silence reminder stays out of the picture.
    await env.sleep(47 * HOUR + timedelta(minutes=59))
    await handle.execute_update(PipelineWorkflow.record_customer_reply, CustomerReplyInput("ok"))
    assert (await handle.query(PipelineWorkflow.state)).escalations == 0
    assert await published(bus, "escalation.raised") == []

    await env.sleep(timedelta(minutes=1, seconds=1))
    state = await eventually(lambda: _state_if(handle, lambda s: s.escalations == 1), timeout=10)
    assert state.overdue_actions == ["objection_handling"]
    await env.sleep(100 * HOUR)
    state = await handle.query(PipelineWorkflow.state)
    assert state.escalations == 1
    escalations = await published(bus, "escalation.raised")
    assert escalations == [f"{handle.id}:escalation.raised:objection_handling:1:1"]


async def _state_if(handle, predicate):
    state = await handle.query(PipelineWorkflow.state)
    return state if predicate(state) else None


async def test_customer_reply_resets_the_72_hour_silence_clock(running):
    env, bus, task_queue = running
    opportunity_id, handle = await start(env, task_queue)

    await env.sleep(71 * HOUR)
    await handle.execute_update(PipelineWorkflow.record_customer_reply, CustomerReplyInput("hi"))
    await env.sleep(71 * HOUR)
    assert (await handle.query(PipelineWorkflow.state)).reminders == 0

    await env.sleep(1 * HOUR + timedelta(seconds=1))
    await eventually(lambda: _state_if(handle, lambda s: s.reminders == 1), timeout=10)
    await env.sleep(200 * HOUR)
    assert (await handle.query(PipelineWorkflow.state)).reminders == 1
    reminders = await published(bus, "reminder.raised")
    assert len(reminders) == 1


async def test_demo_without_photos_is_refused_with_what_is_missing(running):
    env, _bus, task_queue = running
    opportunity_id, handle = await start(env, task_queue)
    now = await walk_to_solution_demo(env, handle, opportunity_id)
    await env.sleep(timedelta(minutes=30))
    during_demo = await env.get_current_time()
    before_demo = now - timedelta(minutes=1)
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(
            PipelineWorkflow.complete_action,
            CompleteActionInput(
                action_key="solution_demo",
                evidence=photos(opportunity_id, during_demo, 2)
                + [
                    # Taken before the demo started: does not count.
                    EvidenceItem(
                        "ev-old",
                        opportunity_id,
                        "onsite_photo",
                        "f" * 64,
                        before_demo,
                        "image/jpeg",
                        "Anna Snelling",
                    )
                ],
            ),
        )
    cause = refused.value.cause
    assert cause.type == "ActionIncomplete"
    unmet = {(item["kind"], item["key"]): item for item in cause.details}
    assert unmet[("evidence", "onsite_photo")]["required"] == 3
    assert unmet[("evidence", "onsite_photo")]["provided"] == 2
    assert ("answer", "customer_questions") in unmet
    assert (await handle.query(PipelineWorkflow.state)).current_action == "solution_demo"


async def test_a_retried_publish_does_not_send_a_second_escalation(
    time_skipping_env, event_bus, task_queue
):
    """The publishing activity fails after publishing once; its retry publishes the same
    ids again and the stream still holds one escalation."""
    from temporalio import activity
    from temporalio.worker import Worker

    real = PipelineActivities(event_bus)
    failed_after_escalation = []

    @activity.defn(name="publish_pipeline_facts")
    async def flaky_publish(facts: list[PipelineFact]) -> int:
        sequence = await real.publish_facts(facts)
        if any(f.event_type == "escalation.raised" for f in facts) and not failed_after_escalation:
            failed_after_escalation.append(True)
            raise RuntimeError("connection lost after the publish reached the server")
        return sequence

    env = time_skipping_env
    async with Worker(
        env.client,
        task_queue=task_queue,
        workflows=[PipelineWorkflow],
        activities=[flaky_publish],
    ):
        opportunity_id, handle = await start(env, task_queue)
        await walk_to_objection_handling(env, handle, opportunity_id)
        await env.sleep(47 * HOUR)
        await handle.execute_update(PipelineWorkflow.record_customer_reply, CustomerReplyInput())
        await env.sleep(2 * HOUR)
        await eventually(lambda: _state_if(handle, lambda s: s.escalations == 1), timeout=15)
        await env.sleep(HOUR)

    assert failed_after_escalation == [True]
    assert await published(event_bus, "escalation.raised") == [
        f"{handle.id}:escalation.raised:objection_handling:1:1"
    ]


async def test_a_signal_sent_before_the_worker_runs_sees_an_initialised_pipeline(
    time_skipping_env, event_bus, task_queue
):
    """The pipeline is started and signalled while no worker runs; the signal lands on an
    initialised pipeline and the clocks count from the moment the workflow started, not
    from when a worker first picked it up."""
    env = time_skipping_env
    opportunity_id, handle = await start(env, task_queue)
    started_at = (await handle.describe()).start_time
    await handle.signal(PipelineWorkflow.reassign, ReassignInput("Cecily Lampkin"))

    # The worker comes up later. (The test server holds its clock while a workflow task
    # waits for a worker, so the delay is real time rather than skipped time.)
    await asyncio.sleep(1.5)
    async with build_worker(env.client, event_bus, task_queue=task_queue):
        state = await handle.query(PipelineWorkflow.state)
        assert state.rep_id == "Cecily Lampkin"
        assert state.current_action == "appointment"
        assert state.current_since == started_at

        # The 72 h silence clock runs from the workflow's start.
        await env.sleep(
            71 * HOUR + timedelta(minutes=59) - (await env.get_current_time() - started_at)
        )
        assert (await handle.query(PipelineWorkflow.state)).reminders == 0
        await env.sleep(timedelta(minutes=2))
        state = await eventually(lambda: _state_if(handle, lambda s: s.reminders == 1))
        reminder = await published(event_bus, "reminder.raised")
        assert len(reminder) == 1

"""Records full pipeline histories into tests/workflows/histories/ for the replay test.

    .venv/bin/python -m tests.workflows.record_history [NAME ...]   # all when none named

won_with_escalation_and_legal_review: start to won, with an escalation, a reminder and a
legal review. time_rules_pause_chain_and_template_change: an escalation chain and a
reminder rule on business hours over China's 2026 National Day, a pause and resume, and a
move to a new template version. contract_returned_and_resubmitted: legal asks for changes,
the rep resubmits, legal rejects, the rep resubmits again (the review's second ticket), legal
resolves and the contract completes. rejected_before_returns_then_resubmitted: the pipeline
workflow as it was before a department could send an action back (commit
19ed0e5, read with git) records a rejection that blocks the contract; today's workflow then
resubmits it, legal resolves the second ticket and the contract completes.
ticket_response_escalated_then_answered: a ticket's response clock (TicketResponseWorkflow)
raises its first level at the missed target and ends at the late first response.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import types
import uuid
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from salesflow.core.events import EventBus
from salesflow.core.servers import NatsServer, start_time_skipping_environment
from tests.workflows.test_pipeline_timers import (
    HOUR,
    complete_objection_handling,
    pipeline_input,
    walk_to_objection_handling,
)
from workflows.pipeline.activities import PipelineActivities
from workflows.pipeline.template import (
    CLOCK_BUSINESS,
    ROLE_REGIONAL_MANAGER,
    ROLE_REP,
    ROLE_SALES_DIRECTOR,
    EscalationLevel,
    ReminderRule,
)
from workflows.pipeline.types import (
    CompleteActionInput,
    EvidenceItem,
    PauseInput,
    PipelineResult,
    ResubmitInput,
    ResumeInput,
    TicketChangedInput,
    workflow_id_for,
)
from workflows.pipeline.workflow import PipelineWorkflow
from workflows.worker import build_worker

OUT = Path(__file__).parent / "histories"
ROOT = Path(__file__).resolve().parents[2]
# The pipeline workflow before a rejected ticket could send its action back to the rep.
BEFORE_RETURNS = "19ed0e5"


async def won_with_escalation_and_legal_review(env, queue: str):
    opportunity_id = "HISTORY1"
    handle = await env.client.start_workflow(
        PipelineWorkflow.run,
        pipeline_input(opportunity_id),
        id=workflow_id_for(opportunity_id),
        task_queue=queue,
    )
    await walk_to_objection_handling(env, handle, opportunity_id)
    await env.sleep(80 * HOUR)
    await complete_objection_handling(handle)
    key = f"{opportunity_id}:contract_archive:legal"
    await handle.signal(PipelineWorkflow.ticket_changed, TicketChangedInput(key, "resolved"))
    documents = [
        EvidenceItem(
            f"doc-{i}",
            opportunity_id,
            kind,
            f"{i + 100:064x}",
            None,
            "application/pdf",
            "Anna Snelling",
        )
        for i, kind in enumerate(
            ("signed_signature_page", "product_list", "service_commitment_letter")
        )
    ]
    await env.sleep(timedelta(hours=1))
    await handle.execute_update(
        PipelineWorkflow.complete_action,
        CompleteActionInput(action_key="contract_archive", evidence=documents),
    )
    return handle


async def time_rules_pause_chain_and_template_change(env, queue: str):
    from tests.workflows.test_time_rules import negotiation, template

    chain = (
        EscalationLevel(8, ROLE_REP),
        EscalationLevel(16, ROLE_REGIONAL_MANAGER),
        EscalationLevel(40, ROLE_SALES_DIRECTOR),
    )
    version_1 = template(
        negotiation(
            clock=CLOCK_BUSINESS,
            warning_hours=12,
            due_hours=24,
            escalations=chain,
            reminders=(ReminderRule("follow_up", 4, (ROLE_REP,), max_times=3),),
        ),
        silence_reminder_hours=72,
    )
    version_2 = replace(
        version_1,
        version=2,
        actions=(replace(version_1.actions[0], due_hours=32), *version_1.actions[1:]),
    )
    opened = datetime(2026, 9, 30, 15, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    shift = await env.get_current_time() - opened
    opportunity_id = "HISTORY2"
    handle = await env.client.start_workflow(
        PipelineWorkflow.run,
        replace(
            pipeline_input(opportunity_id),
            template=version_1,
            director_id="Dora Director",
            rep_time_zone="Asia/Shanghai",
            clock_shift_seconds=shift.total_seconds(),
        ),
        id=workflow_id_for(opportunity_id),
        task_queue=queue,
    )
    await env.sleep(9 * 24 * HOUR)
    await handle.execute_update(
        PipelineWorkflow.pause_action, PauseInput(reason="customer's board approval")
    )
    await env.sleep(30 * HOUR)
    await handle.execute_update(PipelineWorkflow.resume_action, ResumeInput())
    await handle.execute_update(PipelineWorkflow.change_template, version_2)
    await env.sleep(5 * 24 * HOUR)
    await handle.execute_update(
        PipelineWorkflow.complete_action, CompleteActionInput(action_key="negotiation")
    )
    await handle.execute_update(
        PipelineWorkflow.complete_action, CompleteActionInput(action_key="contract_archive")
    )
    return handle


async def contract_returned_and_resubmitted(env, queue: str):
    opportunity_id = "HISTORY3"
    handle = await env.client.start_workflow(
        PipelineWorkflow.run,
        pipeline_input(opportunity_id),
        id=workflow_id_for(opportunity_id),
        task_queue=queue,
    )
    await walk_to_objection_handling(env, handle, opportunity_id)
    await complete_objection_handling(handle)
    key = f"{opportunity_id}:contract_archive:legal"

    async def legal(ticket_key: str, status: str, note: str, round: int = 0) -> None:
        await env.sleep(timedelta(hours=1))
        await handle.signal(
            PipelineWorkflow.ticket_changed, TicketChangedInput(ticket_key, status, note, round)
        )

    async def resubmit(note: str) -> None:
        await env.sleep(timedelta(hours=2))
        await handle.execute_update(
            PipelineWorkflow.resubmit_action, ResubmitInput(note=note, actor_id="Anna Snelling")
        )

    await legal(key, "acknowledged", "")
    await legal(key, "changes_requested", "clause 7: add the penalty cap")
    # Delivered again by the ticket desk's retry: changes nothing.
    await legal(key, "changes_requested", "clause 7: add the penalty cap")
    await resubmit("penalty cap added")
    await legal(key, "rejected", "wrong contracting party", round=1)
    await resubmit("contracting party corrected")
    await legal(f"{key}:2", "resolved", "approved")
    documents = [
        EvidenceItem(
            f"doc-{i}",
            opportunity_id,
            kind,
            f"{i + 300:064x}",
            None,
            "application/pdf",
            "Anna Snelling",
        )
        for i, kind in enumerate(
            ("signed_signature_page", "product_list", "service_commitment_letter")
        )
    ]
    await handle.execute_update(
        PipelineWorkflow.complete_action,
        CompleteActionInput(action_key="contract_archive", evidence=documents),
    )
    return handle


def workflow_before_returns():
    """PipelineWorkflow as committed in BEFORE_RETURNS, loaded from git under a module
    name of its own (its workflow type is the same: PipelineWorkflow)."""
    source = subprocess.run(
        ["git", "show", f"{BEFORE_RETURNS}:workflows/pipeline/workflow.py"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    module = types.ModuleType("pipeline_workflow_before_returns")
    sys.modules[module.__name__] = module
    exec(compile(source, f"{BEFORE_RETURNS}:workflows/pipeline/workflow.py", "exec"), vars(module))
    return module.PipelineWorkflow


async def rejected_before_returns_then_resubmitted(env, queue: str, bus: EventBus):
    opportunity_id = "HISTORY4"
    key = f"{opportunity_id}:contract_archive:legal"
    old = Worker(
        env.client,
        task_queue=queue,
        workflows=[workflow_before_returns()],
        activities=[PipelineActivities(bus).publish_facts],
        workflow_runner=UnsandboxedWorkflowRunner(),
        # No sticky cache: its tasks must reach today's worker once this one has stopped.
        max_cached_workflows=0,
    )
    async with old:
        handle = await env.client.start_workflow(
            PipelineWorkflow.run,
            pipeline_input(opportunity_id),
            id=workflow_id_for(opportunity_id),
            task_queue=queue,
        )
        await walk_to_objection_handling(env, handle, opportunity_id)
        await complete_objection_handling(handle)
        await env.sleep(timedelta(hours=1))
        rejected = TicketChangedInput(key, "rejected", "wrong contracting party")
        await handle.signal(PipelineWorkflow.ticket_changed, rejected)
        # The old workflow holds the rejection and nothing else: the contract is stuck.
        state = await handle.query(PipelineWorkflow.state)
        assert [ticket.status for ticket in state.tickets] == ["rejected"], state.tickets

    async with build_worker(env.client, bus, task_queue=queue):
        await env.sleep(timedelta(hours=2))
        await handle.execute_update(
            PipelineWorkflow.resubmit_action,
            ResubmitInput(note="contracting party corrected", actor_id="Anna Snelling"),
        )
        await env.sleep(timedelta(hours=1))
        await handle.signal(
            PipelineWorkflow.ticket_changed, TicketChangedInput(f"{key}:2", "resolved", "ok")
        )
        documents = [
            EvidenceItem(
                f"doc-{i}",
                opportunity_id,
                kind,
                f"{i + 400:064x}",
                None,
                "application/pdf",
                "Anna Snelling",
            )
            for i, kind in enumerate(
                ("signed_signature_page", "product_list", "service_commitment_letter")
            )
        ]
        await handle.execute_update(
            PipelineWorkflow.complete_action,
            CompleteActionInput(action_key="contract_archive", evidence=documents),
        )
        await handle.result()
    return handle


async def ticket_response_escalated_then_answered(env, queue: str):
    from workflows.ticket_response.types import (
        ResponseLevel,
        TicketResponded,
        TicketResponseInput,
        response_workflow_id,
    )
    from workflows.ticket_response.workflow import TicketResponseWorkflow

    shanghai = ZoneInfo("Asia/Shanghai")
    opened = datetime(2026, 12, 4, 17, 30, tzinfo=shanghai)
    respond_by = datetime(2026, 12, 7, 10, 30, tzinfo=shanghai)
    shift = await env.get_current_time() - opened
    key = "HISTORY5:contract_archive:legal"
    handle = await env.client.start_workflow(
        TicketResponseWorkflow.run,
        TicketResponseInput(
            ticket_key=key,
            department="legal",
            opportunity_id="HISTORY5",
            rep_id="Anna Snelling",
            region="Central",
            opened_at=opened,
            respond_by=respond_by,
            response_target_minutes=120,
            levels=[
                ResponseLevel(1, respond_by, "Helen Head"),
                ResponseLevel(2, datetime(2026, 12, 7, 13, 30, tzinfo=shanghai), "Helen Head"),
            ],
            assignee_id="Lee Legal",
            clock_shift_seconds=shift.total_seconds(),
        ),
        id=response_workflow_id(key),
        task_queue=queue,
    )
    await env.sleep(respond_by + shift - await env.get_current_time() + timedelta(minutes=30))
    late = datetime(2026, 12, 7, 11, 0, tzinfo=shanghai)
    await handle.signal(TicketResponseWorkflow.responded, TicketResponded(late, "Lee Legal"))
    return handle


RECORDINGS = {
    recording.__name__: recording
    for recording in (
        won_with_escalation_and_legal_review,
        time_rules_pause_chain_and_template_change,
        contract_returned_and_resubmitted,
        rejected_before_returns_then_resubmitted,
        ticket_response_escalated_then_answered,
    )
}
# Recordings that run their own workers (they need the bus to start them).
OWN_WORKERS = {rejected_before_returns_then_resubmitted}


async def main(names: list[str]) -> None:
    nats = await NatsServer().start()
    bus = await EventBus.connect(nats.url, "record")
    try:
        for name in names or list(RECORDINGS):
            # A fresh server each: its clock starts at today, as the scenarios expect.
            env = await start_time_skipping_environment()
            queue = f"record-{uuid.uuid4().hex[:6]}"
            try:
                recording = RECORDINGS[name]
                if recording in OWN_WORKERS:
                    handle = await recording(env, queue, bus)
                    result = await handle.result()
                else:
                    async with build_worker(env.client, bus, task_queue=queue):
                        handle = await recording(env, queue)
                        result = await handle.result()
                if isinstance(result, PipelineResult):
                    assert result.outcome == "won", result
                else:
                    assert result.escalated_levels == [1], result
                history = await handle.fetch_history()
            finally:
                await env.shutdown()
            OUT.mkdir(exist_ok=True)
            path = OUT / f"{name}.json"
            path.write_text(history.to_json())
            print(f"recorded {path} ({len(history.events)} events)")
    finally:
        await bus.close()
        await nats.stop()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))

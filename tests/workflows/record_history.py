"""Records a full pipeline history (start to won, with an escalation, a reminder and a
legal review) into tests/workflows/histories/ for the replay test."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from pathlib import Path

from salesflow.core.events import EventBus
from salesflow.core.servers import NatsServer, start_time_skipping_environment
from tests.workflows.test_pipeline_timers import (
    HOUR,
    complete_objection_handling,
    pipeline_input,
    walk_to_objection_handling,
)
from workflows.pipeline.types import (
    CompleteActionInput,
    EvidenceItem,
    TicketChangedInput,
    workflow_id_for,
)
from workflows.pipeline.workflow import PipelineWorkflow
from workflows.worker import build_worker

OUT = Path(__file__).parent / "histories"


async def main() -> None:
    nats = await NatsServer().start()
    env = await start_time_skipping_environment()
    bus = await EventBus.connect(nats.url, "record")
    queue = f"record-{uuid.uuid4().hex[:6]}"
    try:
        async with build_worker(env.client, bus, task_queue=queue):
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
            await handle.signal(
                PipelineWorkflow.ticket_changed, TicketChangedInput(key, "resolved")
            )
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
            result = await handle.result()
            assert result.outcome == "won", result
            history = await handle.fetch_history()
        OUT.mkdir(exist_ok=True)
        path = OUT / "won_with_escalation_and_legal_review.json"
        path.write_text(history.to_json())
        print(f"recorded {path} ({len(history.events)} events)")
    finally:
        await bus.close()
        await env.shutdown()
        await nats.stop()


if __name__ == "__main__":
    asyncio.run(main())

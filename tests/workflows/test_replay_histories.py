"""Recorded histories replay without non-determinism against today's workflow code.

A change to PipelineWorkflow or TicketResponseWorkflow that would break running workflows
fails here. After an
intended, versioned change (workflow.patched), record a new history with:

    .venv/bin/python -m tests.workflows.record_history
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from workflows.pipeline.workflow import PipelineWorkflow
from workflows.ticket_response.workflow import TicketResponseWorkflow

HISTORIES = {
    path.stem: path.read_text()
    for path in sorted((Path(__file__).parent / "histories").glob("*.json"))
}


@pytest.mark.parametrize("name", sorted(HISTORIES))
async def test_recorded_history_replays(name: str):
    history = WorkflowHistory.from_json(name, HISTORIES[name])
    result = await Replayer(workflows=[PipelineWorkflow, TicketResponseWorkflow]).replay_workflow(
        history, raise_on_replay_failure=False
    )
    assert result.replay_failure is None, result.replay_failure


def test_there_is_a_recorded_history():
    assert HISTORIES, "record one: python -m tests.workflows.record_history"

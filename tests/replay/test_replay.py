"""Replaying CRM exports end to end on PostgreSQL, with expectations computed by hand from
the documented placement rules (salesflow/replay/plan.py) rather than read back from the
code under test."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from salesflow.replay.export import Export, read_export
from salesflow.replay.plan import StepKind, plan_opportunity
from salesflow.replay.replayer import replay_export
from salesflow.replay.sample import write_sample_export

# The shared export sits beside the checkout; SALESFLOW_CRM_EXPORT points elsewhere.
CRM_EXPORT = Path(
    os.environ.get(
        "SALESFLOW_CRM_EXPORT", Path(__file__).resolve().parents[3] / "shared" / "data" / "crm"
    )
)
# The first rows of the real export, in file order (its earliest opportunities): enough to
# cover every stage and both timers while the suite stays quick.
CRM_SLICE_ROWS = 250
ZONE = ZoneInfo("Asia/Shanghai")


def first_rows(export: Export, rows: int) -> Export:
    return export.first(rows)


def expected_totals(export: Export) -> dict[str, int]:
    """What the stack must record, derived from the plan with the rules spelt out here:
    every completion is a touch; a 72 h quiet period before the next touch (or the end)
    is one reminder; objection handling open 48 h before it ends is one escalation and
    one overdue penalty; +5 per completion, -2 per overdue."""
    end_of_export = datetime.combine(export.as_of + timedelta(days=1), datetime.min.time(), ZONE)
    totals = dict.fromkeys(
        [
            "actions_completed",
            "escalations",
            "reminders",
            "tickets_opened",
            "tickets_resolved",
            "pipelines_won",
            "pipelines_lost",
            "pipelines_open",
        ],
        0,
    )
    for opportunity in export.opportunities:
        plan = plan_opportunity(opportunity, as_of=export.as_of, zone=ZONE)
        completions = {s.action_key: s.at for s in plan.steps if s.kind is StepKind.COMPLETE}
        closes = [s.at for s in plan.steps if s.kind is StepKind.CLOSE_LOST]
        if opportunity.stage == "Won":
            end, outcome = completions["contract_archive"], "won"
        elif closes:
            end, outcome = closes[0], "lost"
        else:
            end, outcome = end_of_export, "open"
        totals[f"pipelines_{outcome}"] += 1
        totals["actions_completed"] += len(completions)

        touches = [plan.steps[0].at, *sorted(completions.values())]
        for touch, following in zip(touches, [*touches[1:], end], strict=True):
            if following - touch >= timedelta(hours=72):
                totals["reminders"] += 1

        if "solution_demo" in completions:
            opened = completions["solution_demo"]
            closed = completions.get("objection_handling", end)
            if closed - opened >= timedelta(hours=48):
                totals["escalations"] += 1
        if "objection_handling" in completions:
            totals["tickets_opened"] += 1
            totals["tickets_resolved"] += outcome == "won"

    totals["overdue_actions"] = totals["escalations"]
    totals["points_entries"] = totals["actions_completed"] + totals["escalations"]
    totals["points_total"] = 5 * totals["actions_completed"] - 2 * totals["escalations"]
    return totals


async def _clean(stack) -> None:
    """The session's database is shared; the replay's totals read all of it."""
    from sqlalchemy import text

    async with stack.sessions() as session, session.begin():
        for table in ("pipelines", "pipeline_projected_events", "tickets"):
            await session.execute(text(f"DELETE FROM {table}"))
        # The ledger refuses DELETE; emptying the whole table is its owner's reset.
        await session.execute(text("TRUNCATE points_ledger, points_facts, points_pipelines"))


@pytest.mark.slow
@pytest.mark.skipif(not CRM_EXPORT.exists(), reason="the shared CRM export is not beside us")
async def test_a_slice_of_the_real_crm_export_replays_to_the_hand_computed_totals(stack):
    export = first_rows(read_export(CRM_EXPORT), CRM_SLICE_ROWS)
    expected = expected_totals(export)
    await _clean(stack)

    summary = await replay_export(stack, export)

    assert summary.opportunities_read == CRM_SLICE_ROWS
    assert summary.pipelines_started == CRM_SLICE_ROWS
    assert summary.rejected == {}
    assert summary.steps_refused == {}
    recorded = {key: getattr(summary, key) for key in expected}
    assert recorded == expected
    # The slice exercises both timers and every outcome.
    assert expected["escalations"] > 0 and expected["reminders"] > 0
    assert (
        min(expected["pipelines_won"], expected["pipelines_lost"], expected["pipelines_open"]) > 0
    )

    # The same replay again against the same stack starts and counts nothing twice.
    again = await replay_export(stack, read_export_slice())
    assert again.pipelines_started == 0
    assert again.already_started == CRM_SLICE_ROWS
    assert {key: getattr(again, key) for key in expected} == expected


def read_export_slice() -> Export:
    return first_rows(read_export(CRM_EXPORT), CRM_SLICE_ROWS)


async def test_every_row_of_a_faulty_export_is_accounted_for(stack, tmp_path):
    export = read_export(write_sample_export(tmp_path / "export"))
    await _clean(stack)

    summary = await replay_export(stack, export)

    assert summary.opportunities_read == 42
    assert summary.pipelines_started == 38
    assert summary.rejected_rows == [
        {"row": 38, "opportunity_id": "SF9001", "reason": "unknown_sales_agent: Nobody Known"},
        {"row": 39, "opportunity_id": "SF0000", "reason": "duplicate_opportunity_id"},
        {"row": 40, "opportunity_id": "SF9002", "reason": "close_before_engage"},
        {"row": 41, "opportunity_id": "SF9003", "reason": "bad_engage_date: 2025-13-01"},
    ]
    assert summary.warnings == {
        "not_engaged_yet": 6,
        "product_name_normalised": 1,
        "account_missing": 1,
    }
    expected = expected_totals(export)
    assert {key: getattr(summary, key) for key in expected} == expected


async def test_a_replay_survives_its_nats_server_being_killed_mid_run(stack, tmp_path):
    """nats-server dies (SIGKILL) while the replay runs; the stack restarts it, every
    client reconnects, and the totals come out exactly as without the crash."""
    import asyncio
    import os
    import signal

    export = read_export(write_sample_export(tmp_path / "export"))
    await _clean(stack)

    async def kill_nats_soon():
        await asyncio.sleep(1.5)
        # The server and the guard it runs under (salesflow/core/guard.py) are one group.
        os.killpg(stack.nats.process.pid, signal.SIGKILL)

    killer = asyncio.create_task(kill_nats_soon())
    summary = await replay_export(stack, export)
    await killer

    assert summary.pipelines_started == 38
    expected = expected_totals(export)
    assert {key: getattr(summary, key) for key in expected} == expected

"""The analytics projection: the fold of one pipeline, idempotency, out-of-order delivery
and rebuilding from the stored events, on real PostgreSQL."""

from __future__ import annotations

import random

from services.analytics import projection, rebuild
from services.analytics.fold import fold_pipeline
from services.analytics.models import ACCEPTED, DONE, PENDING, REJECTED, SKIPPED
from tests.schema import schema_differences
from tests.services.analytics.conftest import snapshot
from tests.services.analytics.scenario import T0, hours


def by_action(folded) -> dict[str, dict]:
    return {row["action_key"]: row for row in folded.actions}


def test_a_lost_pipeline_folds_into_its_instances(scenario, config):
    p2 = scenario.pipelines()["P2"]
    folded = fold_pipeline(p2.events, config)
    rows = by_action(folded)
    t1 = T0 + hours(1)

    objection = rows["objection_handling"]
    assert (objection["status"], objection["due"], objection["on_time"]) == (DONE, True, False)
    assert (objection["overdue"], objection["escalations"]) == (True, 1)
    assert objection["duration_seconds"] == 60 * 3600
    # 12 hours late on 48 allowed; the pipeline was lost right after it.
    assert objection["q_timeliness"] == 0.75
    assert (objection["result"], objection["q_feedback"]) == (REJECTED, 0.0)
    assert objection["contract_lag_seconds"] == 0.0
    assert (objection["strategies"], objection["topic"]) == (["phased_payment"], "price too high")

    demo = rows["solution_demo"]
    assert (demo["q_evidence"], demo["q_answers"], demo["result"]) == (2 / 3, 1.0, ACCEPTED)
    assert demo["contract_lag_seconds"] == 60 * 3600

    contract = rows["contract_archive"]
    assert (contract["status"], contract["due"], contract["ended_at"]) == (
        SKIPPED,
        False,
        t1 + hours(100),
    )
    assert contract["duration_seconds"] == 30 * 3600
    assert contract["q_evidence"] is None

    assert folded.pipeline["outcome"] == "lost"
    assert folded.pipeline["contract_reached_at"] == t1 + hours(70)
    assert folded.pipeline["manager_id"] == scenario.north_manager
    assert sorted((s["action_key"], s["strategy"], s["result"]) for s in folded.strategies) == [
        ("objection_handling", "phased_payment", REJECTED),
        ("solution_demo", "bundle_offer", ACCEPTED),
        ("solution_demo", "cost_breakdown", ACCEPTED),
        ("solution_demo", "phased_payment", ACCEPTED),
    ]


def test_an_open_pipeline_leaves_its_customer_undecided(scenario, config):
    folded = fold_pipeline(scenario.pipelines()["P3"].events, config)
    rows = by_action(folded)
    assert (rows["appointment"]["result"], rows["appointment"]["q_feedback"]) == (PENDING, 0.5)
    assert (rows["solution_demo"]["status"], rows["solution_demo"]["ended_at"]) == ("open", None)


def test_a_completion_before_its_start_converges(scenario, config):
    events = scenario.pipelines()["P2"].events
    completed = next(
        event
        for event in events
        if event.type == "action.completed" and event.action_completed.action_key == "appointment"
    )

    alone = by_action(fold_pipeline([completed], config))["appointment"]
    # Only the completion has arrived: the start is read from its payload.
    assert alone["started_at"] == T0 + hours(1)
    assert alone["status"] == DONE

    reordered = fold_pipeline(list(reversed(events)), config)
    assert reordered == fold_pipeline(events, config)


def test_tickets_are_timed_from_request_to_first_answer(scenario, config):
    folded = fold_pipeline(scenario.pipelines()["P4"].events, config)
    (ticket,) = folded.tickets
    t3 = T0 + hours(3)
    assert (ticket["requested_at"], ticket["first_response_at"], ticket["closed_at"]) == (
        t3 + hours(20),
        t3 + hours(23),
        t3 + hours(29),
    )
    assert (ticket["department"], ticket["response_target_minutes"], ticket["status"]) == (
        "legal",
        120,
        "resolved",
    )


async def test_the_same_events_twice_change_nothing(db_sessions, clean, scenario, config):
    events = scenario.events()
    assert await projection.apply_events(db_sessions, events, config) == len(events)
    first = await snapshot(db_sessions)

    # A redelivered batch, and a batch carrying a redelivery beside the original.
    assert await projection.apply_events(db_sessions, events, config) == 0
    assert await projection.apply_events(db_sessions, events[:5] + events[:5], config) == 0
    assert await snapshot(db_sessions) == first
    assert len(first["analytics_action_facts"]) == 24


async def test_out_of_order_delivery_converges(db_sessions, clean, scenario, config):
    events = scenario.events()
    await projection.apply_events(db_sessions, events, config)
    in_order = await snapshot(db_sessions)

    await projection.clear(db_sessions, keep_events=False)
    for event in reversed(events):
        await projection.apply_events(db_sessions, [event], config)
    assert await snapshot(db_sessions) == in_order

    await projection.clear(db_sessions, keep_events=False)
    shuffled = list(events)
    random.Random(7).shuffle(shuffled)
    for start in range(0, len(shuffled), 5):
        await projection.apply_events(db_sessions, shuffled[start : start + 5], config)
    assert await snapshot(db_sessions) == in_order


async def test_folding_again_from_the_stored_events_equals_the_incremental_rows(
    db_sessions, recorded, config
):
    incremental = await snapshot(db_sessions)
    result = await rebuild.from_store(db_sessions, config)
    assert result.pipelines == 10
    assert await snapshot(db_sessions) == incremental


def test_the_migration_matches_the_models(database_url):
    from services.analytics import models

    tables = [t.__table__ for t in (*models.DERIVED_TABLES, models.AnalyticsEvent)]
    assert schema_differences(database_url, tables) == []

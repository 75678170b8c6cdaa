"""Coaching over gRPC: weaknesses against the top 10, training tasks given once, progress
before and after, the self-check item it makes measurable, and who may do what.

Figures are computed by hand from tests/services/analytics/coaching_scenario.py. Weights
here: evidence 40, answers 20, timeliness 20, feedback 20; quality target 92; 90 days of
history; the top 10; 5 instances behind a figure; gaps 0.10 / 10 points / 0.10 / 0.25.

The top 10 for Wes are R01–R10: R01–R11 all score 100 except R11 (98.6: a lost pipeline),
and ties go by id. Pooled over their 50 pipelines: every rate 1.0, quality 100, strategy
shares reference customer 0.4, cost breakdown 0.4, value reframing 0.2.

Wes over his 10 pipelines:
    appointment        on time 10 of 10, quality 100, converted 5 of 10 (the won ones)
    objection          on time 6 of 10; quality (5·100 + 80 + 4·75) / 10 = 88 (pipeline 5
                       on time but lost: 40+20+20+0; 6–9 late by 12 of 48 h and lost:
                       40+20+15+0); converted 5 of 10; strategies cost breakdown 0.7,
                       reference customer 0.3: overlap 0.4 + 0.3 + 0 = 0.7
"""

from __future__ import annotations

import json
from datetime import timedelta

import grpc
import pytest
from google.protobuf.timestamp_pb2 import Timestamp
from sqlalchemy import select

from salesflow.analytics.v1 import analytics_pb2 as pb
from salesflow.analytics.v1 import analytics_pb2_grpc
from salesflow.core.caller import Caller, Role
from salesflow.core.oplog import OperationLogEntry
from salesflow.core.service import ServiceDeps
from salesflow.core.settings import Settings
from services.analytics import projection
from services.analytics.server import serve
from tests.schema import schema_differences
from tests.services.analytics.coaching_scenario import AS_OF, WINDOW_START, CoachingScenario

approx = pytest.approx
DIRECTOR = Caller("Dina Director", Role.DIRECTOR, frozenset({"*"}))
ADMIN = Caller("admin", Role.ADMIN, frozenset({"*"}))
DONE_AT = AS_OF + timedelta(days=1)


class Clock:
    """The service's clock, moved by the test."""

    def __init__(self, now) -> None:
        self.now = now

    def __call__(self):
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock(AS_OF)


@pytest.fixture
async def coaching(db_sessions, clean, config):
    scenario = CoachingScenario()
    await projection.apply_events(db_sessions, scenario.events(), config)
    return scenario


@pytest.fixture
async def coach_for(db_sessions, event_bus, config, clock, open_channel):
    """A client per caller of an analytics service on the test's clock."""
    deps = ServiceDeps(settings=Settings(), sessions=db_sessions, bus=event_bus)
    service = await serve(deps, port=0, config=config, clock=clock)
    yield lambda caller: analytics_pb2_grpc.AnalyticsServiceStub(
        open_channel(f"127.0.0.1:{service.port}", caller)
    )
    await service.stop()


def stamp(moment) -> Timestamp:
    value = Timestamp()
    value.FromDatetime(moment)
    return value


def rep(s: CoachingScenario, name: str) -> Caller:
    return Caller(name, Role.REP, frozenset({s.region_of(name)}))


def manager(s: CoachingScenario, region: str) -> Caller:
    return Caller(s.name(f"Manager of {region}"), Role.MANAGER, frozenset({region}))


async def failure(call) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.aio.AioRpcError) as failed:
        await call
    return failed.value.code(), failed.value.details()


def task_keys(tasks) -> list[tuple[str, str, str]]:
    return [(task.action_key, task.metric, task.kind) for task in tasks]


# ---- weaknesses -------------------------------------------------------------------------------


async def test_weaknesses_against_the_top_ten(coaching, coach_for):
    s = coaching
    found = await coach_for(DIRECTOR).FindWeaknesses(
        pb.FindWeaknessesRequest(rep_id=s.wes, as_of=stamp(AS_OF))
    )

    assert found.window_start.ToDatetime() == WINDOW_START.replace(tzinfo=None)
    assert found.window_end.ToDatetime() == AS_OF.replace(tzinfo=None)
    [wes] = found.reps
    assert (wes.rep_id, wes.region, wes.history_days, wes.required_days) == (
        s.wes,
        s.north,
        120,
        90,
    )
    assert wes.enough_history
    assert list(wes.top_performers) == [s.top(k) for k in range(1, 11)]

    # Ranked by gap (quality in hundredths), then pipeline position, then metric.
    rows = [
        (w.rank, w.action_key, w.metric, w.value, w.benchmark, w.gap, w.instances)
        for w in wes.weaknesses
    ]
    assert rows == [
        (1, "appointment", "conversion", 0.5, 1.0, 0.5, 10),
        (2, "objection_handling", "conversion", 0.5, 1.0, 0.5, 10),
        (3, "objection_handling", "completion", 0.6, 1.0, approx(0.4), 10),
        (4, "objection_handling", "strategy_mix", approx(0.7), 1.0, approx(0.3), 10),
        (5, "objection_handling", "quality", approx(88.0), approx(100.0), approx(12.0), 10),
    ]
    assert {w.benchmark_instances for w in wes.weaknesses} == {50}
    mix = wes.weaknesses[3]
    assert [(x.strategy, x.rep_share, x.top_share) for x in mix.strategies] == [
        ("cost_breakdown", approx(0.7), approx(0.4)),
        ("value_reframing", 0.0, approx(0.2)),
        ("reference_customer", approx(0.3), approx(0.4)),
    ]
    assert mix.summary == (
        "objection handling: only 70% of your strategy mix matches the top 10's: cost "
        "breakdown is 70% of your strategies and 40% of theirs; value reframing is 0% of your "
        "strategies and 20% of theirs"
    )
    assert wes.weaknesses[0].summary == (
        "appointment: contract stage within 7 days after 50% of 10 completions against 100% "
        "for the top 10 (of 50)"
    )
    assert wes.weaknesses[2].summary == (
        "objection handling: on-time completion 60% (10 due) against 100% for the top 10 (50 due)"
    )
    assert wes.weaknesses[4].summary == (
        "objection handling: quality 88.0 (10 completed) against 100.0 for the top 10 (50 "
        "completed)"
    )
    assert list(wes.top_actions) == ["appointment", "objection_handling"]
    assert wes.summary == (
        "5 weaknesses against the top 10; improve first: appointment, objection handling"
    )


async def test_a_rep_without_enough_history_is_not_judged(coaching, coach_for):
    s = coaching
    found = await coach_for(rep(s, s.nia)).FindWeaknesses(pb.FindWeaknessesRequest())

    [nia] = found.reps
    assert (nia.rep_id, nia.enough_history, nia.history_days) == (s.nia, False, 30)
    assert list(nia.weaknesses) == []
    assert nia.summary == "not enough history (30 days of 90)"

    code, details = await failure(
        coach_for(manager(s, s.north)).CreateTrainingTasks(
            pb.CreateTrainingTasksRequest(rep_id=s.nia)
        )
    )
    assert code == grpc.StatusCode.FAILED_PRECONDITION
    assert details == f"{s.nia}: not enough history (30 days of 90)"


async def test_a_manager_sees_every_rep_of_their_region(coaching, coach_for):
    s = coaching
    found = await coach_for(manager(s, s.north)).FindWeaknesses(pb.FindWeaknessesRequest())

    reps = {each.rep_id: each for each in found.reps}
    assert list(reps) == [s.nia, *(s.top(k) for k in range(1, 7)), s.wes]
    # R01 against R02–R11: nothing worse than theirs.
    assert list(reps[s.top(1)].top_performers) == [s.top(k) for k in range(2, 12)]
    assert list(reps[s.top(1)].weaknesses) == []
    assert reps[s.top(1)].summary == "no weakness against the top 10 in the last 90 days"
    assert len(reps[s.wes].weaknesses) == 5


# ---- training tasks ---------------------------------------------------------------------------


async def test_training_tasks_are_given_once_per_open_weakness(coaching, coach_for, db_sessions):
    s = coaching
    mona = coach_for(manager(s, s.north))
    first = await mona.CreateTrainingTasks(pb.CreateTrainingTasksRequest(rep_id=s.wes, cases=3))

    # Appointment: its largest gap (conversion). Objection handling: its largest gap
    # (conversion) and, its strategy mix being weak, the talk track.
    assert task_keys(first.created) == [
        ("appointment", "conversion", "watch_benchmark_cases"),
        ("objection_handling", "conversion", "watch_benchmark_cases"),
        ("objection_handling", "strategy_mix", "rewrite_talk_track"),
    ]
    appointment, objection, talk = first.created
    # Converted high-quality cases of the top 10, newest first: the fifth pipelines of R10,
    # R09 and R08 (started at hour 10, 9, 8 of day 50).
    newest = [f"R{k:02d}-P5-{s.suffix}" for k in (10, 9, 8)]
    assert [case.opportunity_id for case in appointment.cases] == newest
    assert [(case.rep_id, case.quality) for case in appointment.cases] == [
        (s.top(k), 100.0) for k in (10, 9, 8)
    ]
    assert [case.opportunity_id for case in objection.cases] == newest
    assert appointment.instructions == (
        f"Watch 3 appointment cases of the top performers (quality 92 or more): "
        f"{newest[0]} by {s.top(10)}, {newest[1]} by {s.top(9)}, {newest[2]} by {s.top(8)}. "
        "Why: appointment: contract stage within 7 days after 50% of 10 completions against "
        "100% for the top 10 (of 50)."
    )
    assert talk.instructions == (
        "Rewrite your objection handling talk track towards the strategy mix of the top 10 "
        "(cost breakdown 40% of theirs, 70% of yours; value reframing 20% of theirs, 0% of "
        "yours; reference customer 40% of theirs, 30% of yours) and submit it when you mark "
        "this task done."
    )
    assert [(x.strategy, x.top_share) for x in talk.strategies] == [
        ("cost_breakdown", approx(0.4)),
        ("reference_customer", approx(0.4)),
        ("value_reframing", approx(0.2)),
    ]
    assert list(talk.cases) == []
    assert (talk.status, talk.value_at_creation, talk.benchmark) == ("open", approx(0.7), 1.0)
    assert (talk.rep_id, talk.region, talk.created_by, talk.window_days) == (
        s.wes,
        s.north,
        s.name("Manager of " + s.north),
        90,
    )
    assert talk.created_at.ToDatetime() == AS_OF.replace(tzinfo=None)

    again = await mona.CreateTrainingTasks(pb.CreateTrainingTasksRequest(rep_id=s.wes, cases=3))
    assert list(again.created) == []
    assert [task.task_id for task in again.existing] == [task.task_id for task in first.created]

    # The mix on its own: a watch task with cases using value reframing (the strategy Wes
    # under-uses most: 0.2 below the top 10); the talk track exists already.
    mix = await mona.CreateTrainingTasks(
        pb.CreateTrainingTasksRequest(
            rep_id=s.wes, action_key="objection_handling", metric="strategy_mix", cases=2
        )
    )
    assert task_keys(mix.created) == [
        ("objection_handling", "strategy_mix", "watch_benchmark_cases")
    ]
    assert [(c.opportunity_id, list(c.strategies)) for c in mix.created[0].cases] == [
        (newest[0], ["value_reframing"]),
        (newest[1], ["value_reframing"]),
    ]
    assert [task.task_id for task in mix.existing] == [talk.task_id]

    # Every task is in the operation log with its weakness and cases.
    created = [*first.created, *mix.created]
    async with db_sessions() as session:
        entries = list(
            await session.scalars(
                select(OperationLogEntry).where(
                    OperationLogEntry.subject.in_([f"training_task:{t.task_id}" for t in created])
                )
            )
        )
    assert sorted((e.operation, e.subject) for e in entries) == sorted(
        ("training_task.created", f"training_task:{t.task_id}") for t in created
    )
    logged = {e.subject: json.loads(e.payload) for e in entries}
    assert logged[f"training_task:{appointment.task_id}"]["cases"] == newest
    assert logged[f"training_task:{talk.task_id}"]["value"] == approx(0.7)


async def test_progress_before_and_after_a_task(coaching, coach_for, db_sessions, config, clock):
    s = coaching
    created = await coach_for(manager(s, s.north)).CreateTrainingTasks(
        pb.CreateTrainingTasksRequest(rep_id=s.wes)
    )
    appointment, conversion, talk = created.created
    wes = coach_for(rep(s, s.wes))

    clock.now = DONE_AT
    code, details = await failure(
        wes.CompleteTrainingTask(pb.CompleteTrainingTaskRequest(task_id=talk.task_id))
    )
    assert (code, details) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        "submission: is required: the rewritten talk track",
    )
    done = await wes.CompleteTrainingTask(
        pb.CompleteTrainingTaskRequest(
            task_id=talk.task_id, submission="Start from the customer's hidden needs ..."
        )
    )
    assert (done.status, done.completed_by) == ("done", s.wes)
    assert done.completed_at.ToDatetime() == DONE_AT.replace(tzinfo=None)
    await wes.CompleteTrainingTask(pb.CompleteTrainingTaskRequest(task_id=conversion.task_id))

    async def progress():
        found = await wes.TrainingProgress(pb.TrainingProgressRequest(rep_id=s.wes))
        return {each.task.task_id: each for each in found.tasks}

    clock.now = DONE_AT + timedelta(days=2)
    found = await progress()
    assert (found[appointment.task_id].state, found[appointment.task_id].summary) == (
        "open",
        "not done yet; conversion before: 50% (10 actions)",
    )
    assert not found[appointment.task_id].HasField("after")
    assert [found[t.task_id].summary for t in (conversion, talk)] == [
        "measuring, 0 of 5 actions",
        "measuring, 0 of 5 actions",
    ]

    # Three pipelines after the tasks, on time and won, all with cost breakdown.
    await projection.apply_events(db_sessions, s.wes_after_training(DONE_AT, 3), config)
    clock.now = DONE_AT + timedelta(days=30)
    found = await progress()
    assert [found[t.task_id].summary for t in (conversion, talk)] == [
        "measuring, 3 of 5 actions",
        "measuring, 3 of 5 actions",
    ]

    # Two more: 5 of 5 converted against 5 of 10 before — improved. Only cost breakdown
    # now: overlap 0.4 with the top 10's mix against 0.7 before — not improved.
    await projection.apply_events(db_sessions, s.wes_after_training(DONE_AT, 2, first=14), config)
    found = await progress()
    improved, unchanged = found[conversion.task_id], found[talk.task_id]
    assert (improved.state, improved.improved, improved.summary) == (
        "measured",
        True,
        "improved: conversion 50% -> 100%",
    )
    assert (improved.before.value, improved.before.instances) == (0.5, 10)
    assert (improved.after.value, improved.after.instances) == (1.0, 5)
    assert improved.before.start.ToDatetime() == WINDOW_START.replace(tzinfo=None)
    assert improved.before.end.ToDatetime() == AS_OF.replace(tzinfo=None)
    assert improved.after.start.ToDatetime() == DONE_AT.replace(tzinfo=None)
    assert improved.after.end.ToDatetime() == (DONE_AT + timedelta(days=30)).replace(tzinfo=None)
    assert (unchanged.state, unchanged.improved, unchanged.summary) == (
        "measured",
        False,
        "not improved: strategy_mix 70% -> 40%",
    )
    assert (unchanged.before.value, unchanged.after.value) == (approx(0.7), approx(0.4))
    assert unchanged.required_instances == 5

    # Once done, the weakness may be given again: a new open task, not a duplicate.
    clock.now = AS_OF
    again = await coach_for(manager(s, s.north)).CreateTrainingTasks(
        pb.CreateTrainingTasksRequest(rep_id=s.wes)
    )
    assert task_keys(again.created) == task_keys([conversion, talk])
    assert [t.task_id for t in again.existing] == [appointment.task_id]


async def test_reviews_make_the_top_three_self_check_item_measurable(coaching, coach_for):
    s = coaching
    mona = coach_for(manager(s, s.north))
    await mona.CreateTrainingTasks(pb.CreateTrainingTasksRequest(rep_id=s.wes))
    # R01 has no weakness: the review is recorded all the same, with no task.
    reviewed = await mona.CreateTrainingTasks(pb.CreateTrainingTasksRequest(rep_id=s.top(1)))
    assert list(reviewed.created) == []

    period = pb.Filter(
        start=stamp(WINDOW_START), end=stamp(AS_OF + timedelta(days=1)), region=s.north
    )
    found = await coach_for(DIRECTOR).HealthCheck(pb.HealthCheckRequest(filter=period))
    item = next(item for item in found.items if item.number == 8)
    # Active in the North with 90 days of history by the period's end: R01–R06 and Wes
    # (Nia started 30 days ago). Reviewed: Wes and R01.
    assert (item.key, item.status, item.value) == (
        "reps_know_top_actions",
        pb.HEALTH_STATUS_FAIL,
        approx(2 / 7),
    )
    assert item.detail.endswith(": 2 of 7")
    assert item.threshold == ">= 0.8"


# ---- who may do what --------------------------------------------------------------------------


async def test_reps_see_and_complete_only_their_own_tasks(coaching, coach_for):
    s = coaching
    mona = coach_for(manager(s, s.north))
    created = await mona.CreateTrainingTasks(pb.CreateTrainingTasksRequest(rep_id=s.wes))
    watch = created.created[0]
    wes, ron = coach_for(rep(s, s.wes)), coach_for(rep(s, s.top(1)))

    listed = await wes.ListTrainingTasks(pb.ListTrainingTasksRequest())
    assert sorted(t.task_id for t in listed.tasks) == sorted(t.task_id for t in created.created)
    assert list((await ron.ListTrainingTasks(pb.ListTrainingTasksRequest())).tasks) == []

    for call in (
        ron.FindWeaknesses(pb.FindWeaknessesRequest(rep_id=s.wes)),
        ron.ListTrainingTasks(pb.ListTrainingTasksRequest(rep_id=s.wes)),
        ron.CompleteTrainingTask(pb.CompleteTrainingTaskRequest(task_id=watch.task_id)),
        ron.TrainingProgress(pb.TrainingProgressRequest(task_id=watch.task_id)),
        wes.CreateTrainingTasks(pb.CreateTrainingTasksRequest(rep_id=s.wes)),
    ):
        code, _details = await failure(call)
        assert code == grpc.StatusCode.PERMISSION_DENIED

    # The rep's manager may mark it done too; done again answers the same task.
    done = await mona.CompleteTrainingTask(
        pb.CompleteTrainingTaskRequest(task_id=watch.task_id, submission="watched together")
    )
    again = await wes.CompleteTrainingTask(pb.CompleteTrainingTaskRequest(task_id=watch.task_id))
    mona_id = s.name(f"Manager of {s.north}")
    assert (done.completed_by, again.completed_by, again.submission) == (
        mona_id,
        mona_id,
        "watched together",
    )


async def test_managers_coach_their_regions_and_directors_only_read(coaching, coach_for):
    s = coaching
    south = coach_for(manager(s, s.south))
    code, _details = await failure(
        south.CreateTrainingTasks(pb.CreateTrainingTasksRequest(rep_id=s.wes))
    )
    assert code == grpc.StatusCode.PERMISSION_DENIED
    found = await south.FindWeaknesses(pb.FindWeaknessesRequest())
    assert [each.rep_id for each in found.reps] == [s.top(k) for k in range(7, 12)]

    code, _details = await failure(
        coach_for(DIRECTOR).CreateTrainingTasks(pb.CreateTrainingTasksRequest(rep_id=s.wes))
    )
    assert code == grpc.StatusCode.PERMISSION_DENIED

    created = await coach_for(ADMIN).CreateTrainingTasks(
        pb.CreateTrainingTasksRequest(rep_id=s.wes)
    )
    ids = sorted(task.task_id for task in created.created)
    assert len(ids) == 3
    listed = await coach_for(DIRECTOR).ListTrainingTasks(
        pb.ListTrainingTasksRequest(rep_id=s.wes, status="open")
    )
    assert sorted(task.task_id for task in listed.tasks) == ids
    assert not [
        task
        for task in (await south.ListTrainingTasks(pb.ListTrainingTasksRequest())).tasks
        if task.rep_id == s.wes
    ]
    code, _details = await failure(
        coach_for(DIRECTOR).CompleteTrainingTask(pb.CompleteTrainingTaskRequest(task_id=ids[0]))
    )
    assert code == grpc.StatusCode.PERMISSION_DENIED
    code, _details = await failure(
        coach_for(ADMIN).TrainingProgress(pb.TrainingProgressRequest(task_id=2**62))
    )
    assert code == grpc.StatusCode.NOT_FOUND


@pytest.mark.parametrize(
    ("method", "request_message", "field"),
    [
        ("CreateTrainingTasks", pb.CreateTrainingTasksRequest(), "rep_id"),
        (
            "CreateTrainingTasks",
            pb.CreateTrainingTasksRequest(rep_id="x", action_key="a", metric="speed"),
            "metric",
        ),
        (
            "CreateTrainingTasks",
            pb.CreateTrainingTasksRequest(rep_id="x", metric="quality"),
            "action_key",
        ),
        ("CreateTrainingTasks", pb.CreateTrainingTasksRequest(rep_id="x", top=11), "top"),
        ("CreateTrainingTasks", pb.CreateTrainingTasksRequest(rep_id="x", cases=21), "cases"),
        ("ListTrainingTasks", pb.ListTrainingTasksRequest(status="closed"), "status"),
        ("CompleteTrainingTask", pb.CompleteTrainingTaskRequest(), "task_id"),
        ("TrainingProgress", pb.TrainingProgressRequest(), "task_id"),
        ("TrainingProgress", pb.TrainingProgressRequest(task_id=1, rep_id="x"), "task_id"),
    ],
)
async def test_malformed_coaching_requests_name_the_field(
    coach_for, method, request_message, field
):
    code, details = await failure(getattr(coach_for(ADMIN), method)(request_message))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert details.startswith(f"{field}:")


def test_the_coaching_migration_matches_the_models(database_url):
    from services.analytics import models

    tables = [t.__table__ for t in models.COACHING_TABLES]
    assert schema_differences(database_url, tables) == []

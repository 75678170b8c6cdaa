"""Time rules at their real durations on Temporal's time-skipping server: escalation chains,
business hours over China's 2026 National Day, pause and resume, deadlines judged around
midnight in Asia/Shanghai, recurring reminders and moving a pipeline to a new version."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from temporalio.client import WorkflowHandle, WorkflowUpdateFailedError

from salesflow.calendars import resolve_calendar
from salesflow.core.events import EventBus, subject_for
from salesflow.events.v1 import events_pb2
from tests.conftest import eventually
from workflows.pipeline.template import (
    CLOCK_BUSINESS,
    ROLE_REGIONAL_MANAGER,
    ROLE_REP,
    ROLE_SALES_DIRECTOR,
    ActionTemplate,
    CalendarSpec,
    EscalationLevel,
    PipelineTemplate,
    ReminderRule,
)
from workflows.pipeline.types import (
    CompleteActionInput,
    CustomerReplyInput,
    PauseInput,
    PipelineInput,
    PipelineSnapshot,
    ResumeInput,
    workflow_id_for,
)
from workflows.pipeline.workflow import PipelineWorkflow
from workflows.worker import build_worker

HOUR = timedelta(hours=1)
MINUTE = timedelta(minutes=1)
SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
REP, MANAGER, DIRECTOR = "Anna Snelling", "Dustin Brinkmann", "Dora Director"

# China's calendar for 2026 as the holidays package gives it (holidays and 调休).
CN_2026 = resolve_calendar(CalendarSpec(), [2026])

CHAIN = (
    EscalationLevel(24, ROLE_REP),
    EscalationLevel(48, ROLE_REGIONAL_MANAGER),
    EscalationLevel(96, ROLE_SALES_DIRECTOR),
)


def template(*first: ActionTemplate, version: int = 1, **changes) -> PipelineTemplate:
    """A pipeline whose first action(s) carry the clocks under test, then contract archive."""
    archive = ActionTemplate(key="contract_archive", name="Contract archive", name_zh="合同归档")
    values = {
        "template_id": "time-rules",
        "version": version,
        "name": "time rules",
        "actions": (*first, archive),
        "calendars": (CN_2026,),
        # Off unless a test is about it, so it never fires in the middle of another clock.
        "silence_reminder_hours": 0,
    }
    return PipelineTemplate(**(values | changes))


def negotiation(**changes) -> ActionTemplate:
    return ActionTemplate(key="negotiation", name="Negotiation", name_zh="商务谈判", **changes)


async def events_of(bus: EventBus, event_type: str) -> list[events_pb2.Event]:
    """Every event of one type in the stream, duplicates included if there were any."""
    subscription = await bus.jetstream.subscribe(
        subject_for(bus.prefix, event_type), ordered_consumer=True
    )
    found = []
    try:
        while True:
            message = await subscription.next_msg(timeout=0.3)
            event = events_pb2.Event()
            event.ParseFromString(message.data)
            found.append(event)
    except Exception:
        pass
    await subscription.unsubscribe()
    return found


def at(event: events_pb2.Event) -> datetime:
    return event.time.ToDatetime(tzinfo=UTC)


async def start(
    env, task_queue: str, pipeline_template: PipelineTemplate, **changes
) -> WorkflowHandle:
    opportunity_id = uuid.uuid4().hex[:8].upper()
    pipeline_input = PipelineInput(
        opportunity_id=opportunity_id,
        rep_id=REP,
        manager_id=MANAGER,
        director_id=DIRECTOR,
        region="Central",
        account="Cancity",
        product="GTX Basic",
        template=pipeline_template,
    )
    return await env.client.start_workflow(
        PipelineWorkflow.run,
        replace(pipeline_input, **changes),
        id=workflow_id_for(opportunity_id),
        task_queue=task_queue,
    )


async def state(handle: WorkflowHandle) -> PipelineSnapshot:
    return await handle.query(PipelineWorkflow.state)


async def sleep_until(env, moment: datetime) -> None:
    """Advances the server clock to a workflow-time moment."""
    now = await env.get_current_time()
    assert moment > now, f"{moment} is already past ({now})"
    await env.sleep(moment - now)


async def count_when(handle, predicate, *, timeout: float = 10):
    async def check():
        snapshot = await state(handle)
        return snapshot if predicate(snapshot) else None

    return await eventually(check, timeout=timeout)


async def refusal(handle: WorkflowHandle, update, argument) -> str:
    """The reason the workflow gives for refusing an update."""
    with pytest.raises(WorkflowUpdateFailedError) as refused:
        await handle.execute_update(update, argument)
    return refused.value.cause.message


def deadline(snapshot: PipelineSnapshot, key: str):
    return next(item for item in snapshot.deadlines if item.key == key)


@pytest.fixture
def env(time_skipping_env):
    return time_skipping_env


async def test_an_escalation_chain_fires_each_level_once_at_its_time_across_worker_restarts(
    env, event_bus, task_queue
):
    pipeline_template = template(negotiation(warning_hours=36, due_hours=48, escalations=CHAIN))

    def restarted_worker():
        # Limitation: the time-skipping server holds its clock while a task waits on the
        # sticky queue of a stopped worker, so these workers keep no cache: every workflow
        # task replays the history from the start, as the first task after a restart does.
        return build_worker(env.client, event_bus, task_queue=task_queue, max_cached_workflows=0)

    async with restarted_worker():
        handle = await start(env, task_queue, pipeline_template)
        started = (await state(handle)).current_since
        assert [(d.key, d.at - started) for d in (await state(handle)).deadlines] == [
            ("warning", 36 * HOUR),
            ("due", 48 * HOUR),
            ("escalation:1", 24 * HOUR),
            ("escalation:2", 48 * HOUR),
            ("escalation:3", 96 * HOUR),
        ]

        await sleep_until(env, started + 24 * HOUR - MINUTE)
        assert (await state(handle)).escalations == 0
        await sleep_until(env, started + 24 * HOUR + timedelta(seconds=1))
        await count_when(handle, lambda s: s.escalations == 1)

    # A new worker replays the history before going on.
    async with restarted_worker():
        await sleep_until(env, started + 48 * HOUR - MINUTE)
        snapshot = await state(handle)
        assert (snapshot.escalations, snapshot.actions[0].warned) == (1, True)
        assert snapshot.overdue_actions == []
        await sleep_until(env, started + 48 * HOUR + timedelta(seconds=1))
        snapshot = await count_when(handle, lambda s: s.escalations == 2)
        assert snapshot.overdue_actions == ["negotiation"]

    async with restarted_worker():
        await sleep_until(env, started + 96 * HOUR - MINUTE)
        assert (await state(handle)).escalations == 2
        await sleep_until(env, started + 96 * HOUR + timedelta(seconds=1))
        await count_when(handle, lambda s: s.escalations == 3)
        await env.sleep(200 * HOUR)
        snapshot = await state(handle)
        assert snapshot.escalations == 3
        assert [(d.key, d.at - started, d.fired) for d in snapshot.deadlines] == [
            ("warning", 36 * HOUR, True),
            ("due", 48 * HOUR, True),
            ("escalation:1", 24 * HOUR, True),
            ("escalation:2", 48 * HOUR, True),
            ("escalation:3", 96 * HOUR, True),
        ]

    escalations = await events_of(event_bus, "escalation.raised")
    assert [
        (
            event.id,
            event.escalation_raised.to_role,
            event.escalation_raised.to_person,
            at(event) - started,
        )
        for event in escalations
    ] == [
        (f"{handle.id}:escalation.raised:negotiation:1:1", ROLE_REP, REP, 24 * HOUR),
        (
            f"{handle.id}:escalation.raised:negotiation:2:1",
            ROLE_REGIONAL_MANAGER,
            MANAGER,
            48 * HOUR,
        ),
        (
            f"{handle.id}:escalation.raised:negotiation:3:1",
            ROLE_SALES_DIRECTOR,
            DIRECTOR,
            96 * HOUR,
        ),
    ]
    warnings = await events_of(event_bus, "action.warning")
    assert [(event.id, at(event) - started) for event in warnings] == [
        (f"{handle.id}:action.warning:negotiation:1", 36 * HOUR)
    ]
    overdue = await events_of(event_bus, "action.overdue")
    assert [(event.id, at(event) - started) for event in overdue] == [
        (f"{handle.id}:action.overdue:negotiation:1", 48 * HOUR)
    ]


async def test_business_hours_skip_national_day_and_count_the_make_up_saturday(
    env, event_bus, task_queue
):
    """Opened Wed 30 Sep 2026 15:30 in Shanghai, 32 business hours: 2.5 h that day, 1-7 Oct
    off, Thu 8 and Fri 9 Oct, the make-up Saturday 10 Oct, Sunday off, then 5.5 h on Monday:
    due Mon 12 Oct 15:30. The manager is told after 16 business hours: Fri 9 Oct 15:30."""
    pipeline_template = template(
        negotiation(
            clock=CLOCK_BUSINESS,
            due_hours=32,
            escalations=(EscalationLevel(16, ROLE_REGIONAL_MANAGER),),
        )
    )
    opened = datetime(2026, 9, 30, 15, 30, tzinfo=SHANGHAI)
    shift = await env.get_current_time() - opened
    async with build_worker(env.client, event_bus, task_queue=task_queue):
        handle = await start(
            env, task_queue, pipeline_template, clock_shift_seconds=shift.total_seconds()
        )
        snapshot = await state(handle)
        started = snapshot.current_since
        # The server took the start a few milliseconds after the clock was read.
        assert timedelta(0) <= started - opened < MINUTE
        due = snapshot.actions[0].due_at
        assert due - started == timedelta(days=12)
        assert due.astimezone(SHANGHAI).replace(second=0, microsecond=0) == datetime(
            2026, 10, 12, 15, 30, tzinfo=SHANGHAI
        )
        escalation_at = deadline(snapshot, "escalation:1").at
        assert escalation_at - started == timedelta(days=9)  # Fri 9 Oct, 15:30

        await sleep_until(env, escalation_at + shift - MINUTE)
        assert (await state(handle)).escalations == 0
        await sleep_until(env, escalation_at + shift + timedelta(seconds=1))
        await count_when(handle, lambda s: s.escalations == 1)

        await sleep_until(env, due + shift - MINUTE)
        assert (await state(handle)).overdue_actions == []
        await sleep_until(env, due + shift + timedelta(seconds=1))
        await count_when(handle, lambda s: s.overdue_actions == ["negotiation"])

    # Events carry business time: the calendar dates, not the test server's.
    (overdue,) = await events_of(event_bus, "action.overdue")
    assert at(overdue) == due
    assert at(overdue).astimezone(SHANGHAI).strftime("%a %Y-%m-%d %H:%M") == "Mon 2026-10-12 15:30"
    (escalation,) = await events_of(event_bus, "escalation.raised")
    assert at(escalation).astimezone(SHANGHAI).strftime("%a %Y-%m-%d %H:%M") == (
        "Fri 2026-10-09 15:30"
    )


async def test_a_30_hour_pause_moves_every_deadline_by_the_paused_time_and_nothing_fires(
    env, event_bus, task_queue
):
    pipeline_template = template(
        negotiation(due_hours=48, escalations=(EscalationLevel(48, ROLE_REGIONAL_MANAGER),)),
        silence_reminder_hours=72,
    )
    async with build_worker(env.client, event_bus, task_queue=task_queue):
        handle = await start(env, task_queue, pipeline_template)
        started = (await state(handle)).current_since

        await sleep_until(env, started + 40 * HOUR)
        assert "reason is required" in await refusal(
            handle, PipelineWorkflow.pause_action, PauseInput(reason=" ")
        )
        assert "is not paused" in await refusal(
            handle, PipelineWorkflow.resume_action, ResumeInput()
        )
        paused = await handle.execute_update(
            PipelineWorkflow.pause_action,
            PauseInput(reason="waiting for the customer's own approval", actor_id=REP),
        )
        assert paused.actions[0].paused
        assert paused.actions[0].pause_reason == "waiting for the customer's own approval"
        assert [(d.key, d.at) for d in paused.deadlines] == [
            ("due", None),
            ("escalation:1", None),
            ("silence", None),
        ]
        assert "negotiation is already paused" in await refusal(
            handle, PipelineWorkflow.pause_action, PauseInput(reason="again", actor_id=REP)
        )

        # 48 h, the deadline, passes during the pause: nothing fires.
        await env.sleep(30 * HOUR)
        snapshot = await state(handle)
        assert (snapshot.escalations, snapshot.overdue_actions, snapshot.reminders) == (0, [], 0)
        resumed = await handle.execute_update(
            PipelineWorkflow.resume_action, ResumeInput(actor_id=MANAGER)
        )

        (pause,) = await events_of(event_bus, "action.paused")
        (resume,) = await events_of(event_bus, "action.resumed")
        # The pause as the workflow timed it: 30 h, give or take the test's own milliseconds.
        pause_length = at(resume) - at(pause)
        assert abs(pause_length - 30 * HOUR) < timedelta(seconds=1)
        action = resumed.actions[0]
        assert (action.paused, action.pause_reason) == (False, "")
        assert action.paused_seconds == resume.action_resumed.paused_seconds
        assert timedelta(seconds=action.paused_seconds) == pause_length
        # Every deadline moved out by exactly the paused time.
        assert action.due_at - started == 48 * HOUR + pause_length
        assert [(d.key, d.at - started) for d in resumed.deadlines] == [
            ("due", 48 * HOUR + pause_length),
            ("escalation:1", 48 * HOUR + pause_length),
            ("silence", 72 * HOUR + pause_length),
        ]
        assert (pause.action_paused.reason, pause.action_paused.actor_id) == (
            "waiting for the customer's own approval",
            REP,
        )
        assert resume.action_resumed.actor_id == MANAGER
        assert resume.action_resumed.due_at.ToDatetime(tzinfo=UTC) == action.due_at

        await sleep_until(env, action.due_at - MINUTE)
        assert (await state(handle)).escalations == 0
        await sleep_until(env, action.due_at + timedelta(seconds=1))
        await count_when(handle, lambda s: s.escalations == 1 and s.overdue_actions)
        silence_due = started + 72 * HOUR + pause_length
        await sleep_until(env, silence_due - MINUTE)
        assert (await state(handle)).reminders == 0
        await sleep_until(env, silence_due + timedelta(seconds=1))
        await count_when(handle, lambda s: s.reminders == 1)

    (overdue,) = await events_of(event_bus, "action.overdue")
    assert at(overdue) == action.due_at
    (silence,) = await events_of(event_bus, "reminder.raised")
    assert at(silence) == silence_due


async def test_completing_a_paused_action_ends_the_pause_on_record(env, event_bus, task_queue):
    pipeline_template = template(negotiation(due_hours=48))
    async with build_worker(env.client, event_bus, task_queue=task_queue):
        handle = await start(env, task_queue, pipeline_template)
        await handle.execute_update(
            PipelineWorkflow.pause_action, PauseInput(reason="customer board approval")
        )
        await env.sleep(5 * HOUR)
        await handle.execute_update(
            PipelineWorkflow.complete_action, CompleteActionInput(action_key="negotiation")
        )
        snapshot = await state(handle)
        assert snapshot.current_action == "contract_archive"
        assert not snapshot.actions[0].paused
        paused_for = timedelta(seconds=snapshot.actions[0].paused_seconds)
        assert abs(paused_for - 5 * HOUR) < timedelta(seconds=1)
        # The next action has no pause to resume.
        assert "contract_archive is not paused" in await refusal(
            handle, PipelineWorkflow.resume_action, ResumeInput()
        )
    (pause,) = await events_of(event_bus, "action.paused")
    (resume,) = await events_of(event_bus, "action.resumed")
    assert timedelta(seconds=resume.action_resumed.paused_seconds) == paused_for
    assert at(resume) - at(pause) == paused_for == snapshot.actions[0].completed_at - at(pause)


async def test_a_deadline_around_midnight_is_judged_in_shanghai_and_in_the_rep_s_own_zone(
    env, event_bus, task_queue
):
    """Opened Friday 13 Nov 2026 at 23:30 in Shanghai (15:30 UTC), 4 business hours.
    Judged in Shanghai Friday's work is over: due Monday 14:00 Shanghai (06:00 UTC).
    A rep in Berlin lives the same instant as Friday 16:30 and still works 1.5 h of it:
    due Monday 11:30 Berlin (10:30 UTC)."""
    pipeline_template = template(negotiation(clock=CLOCK_BUSINESS, due_hours=4))
    opened = datetime(2026, 11, 13, 23, 30, tzinfo=SHANGHAI)
    assert opened.astimezone(UTC) == datetime(2026, 11, 13, 15, 30, tzinfo=UTC)
    shift = await env.get_current_time() - opened
    async with build_worker(env.client, event_bus, task_queue=task_queue):
        in_shanghai = await start(
            env, task_queue, pipeline_template, clock_shift_seconds=shift.total_seconds()
        )
        in_berlin = await start(
            env,
            task_queue,
            pipeline_template,
            clock_shift_seconds=shift.total_seconds(),
            rep_time_zone="Europe/Berlin",
        )
        shanghai_state, berlin_state = await state(in_shanghai), await state(in_berlin)
        assert (shanghai_state.rep_time_zone, berlin_state.rep_time_zone) == ("", "Europe/Berlin")
        for snapshot in (shanghai_state, berlin_state):
            assert timedelta(0) <= snapshot.current_since - opened < MINUTE
        shanghai_due = shanghai_state.actions[0].due_at
        berlin_due = berlin_state.actions[0].due_at
        # Both started within the same working period of their zone (or before it): the
        # due minute is exact; the seconds are the server's start latency.
        assert shanghai_due.astimezone(SHANGHAI).strftime("%a %H:%M") == "Mon 14:00"
        assert shanghai_due.replace(second=0, microsecond=0) == datetime(
            2026, 11, 16, 6, 0, tzinfo=UTC
        )
        assert berlin_due.astimezone(BERLIN).strftime("%a %H:%M") == "Mon 11:30"
        assert berlin_due - berlin_state.current_since == timedelta(days=2, hours=19)

        await sleep_until(env, shanghai_due + shift - MINUTE)
        assert (await state(in_shanghai)).overdue_actions == []
        await sleep_until(env, shanghai_due + shift + timedelta(seconds=1))
        await count_when(in_shanghai, lambda s: s.overdue_actions == ["negotiation"])
        assert (await state(in_berlin)).overdue_actions == []
        await sleep_until(env, berlin_due + shift - MINUTE)
        assert (await state(in_berlin)).overdue_actions == []
        await sleep_until(env, berlin_due + shift + timedelta(seconds=1))
        await count_when(in_berlin, lambda s: s.overdue_actions == ["negotiation"])

    times = sorted(at(event) for event in await events_of(event_bus, "action.overdue"))
    assert times == [shanghai_due, berlin_due]


async def test_recurring_reminders_stop_after_their_count_and_silence_re_arms_on_touch(
    env, event_bus, task_queue
):
    pipeline_template = template(
        negotiation(reminders=(ReminderRule("follow_up", 24, (ROLE_REP,), max_times=3),)),
        silence_reminder_hours=72,
    )
    async with build_worker(env.client, event_bus, task_queue=task_queue):
        handle = await start(env, task_queue, pipeline_template)
        started = (await state(handle)).current_since
        await sleep_until(env, started + 60 * HOUR)
        # A touch re-arms the silence clock: 72 h from now, not from the start.
        touched = await handle.execute_update(
            PipelineWorkflow.record_customer_reply, CustomerReplyInput()
        )
        silence_due = touched.last_touch_at + 72 * HOUR
        assert deadline(touched, "silence").at == silence_due
        await sleep_until(env, silence_due - MINUTE)
        snapshot = await state(handle)
        assert snapshot.reminders == 3
        assert deadline(snapshot, "reminder:follow_up").fired
        await sleep_until(env, silence_due + timedelta(seconds=1))
        await count_when(handle, lambda s: s.reminders == 4)
        await env.sleep(300 * HOUR)
        assert (await state(handle)).reminders == 4

    reminders = await events_of(event_bus, "reminder.raised")
    assert [
        (event.id, event.reminder_raised.kind, list(event.reminder_raised.to_people))
        for event in reminders
    ] == [
        (f"{handle.id}:reminder.raised:negotiation:follow_up:{n}:1", "follow_up", [REP])
        for n in (1, 2, 3)
    ] + [(f"{handle.id}:reminder.raised:customer_silence:1", "customer_silence", [REP, MANAGER])]
    assert [at(event) for event in reminders] == [
        started + 24 * HOUR,
        started + 48 * HOUR,
        started + 72 * HOUR,
        silence_due,
    ]


async def test_moving_to_a_new_version_keeps_elapsed_time_pauses_and_fired_clocks(
    env, event_bus, task_queue
):
    version_1 = template(
        negotiation(due_hours=48, escalations=(EscalationLevel(24, ROLE_REP),)),
    )
    review = ActionTemplate(key="legal_review", name="Legal review", name_zh="法务审核")
    version_2 = template(
        negotiation(
            warning_hours=50,
            due_hours=72,
            escalations=(
                EscalationLevel(24, ROLE_REP),
                EscalationLevel(60, ROLE_REGIONAL_MANAGER),
            ),
        ),
        review,
        version=2,
    )
    without_negotiation = template(review, version=3)
    async with build_worker(env.client, event_bus, task_queue=task_queue):
        handle = await start(env, task_queue, version_1)
        started = (await state(handle)).current_since
        await sleep_until(env, started + 30 * HOUR)
        await count_when(handle, lambda s: s.escalations == 1)
        await handle.execute_update(PipelineWorkflow.pause_action, PauseInput(reason="approval"))
        await env.sleep(5 * HOUR)
        resumed = await handle.execute_update(PipelineWorkflow.resume_action, ResumeInput())
        held = timedelta(seconds=resumed.actions[0].paused_seconds)
        assert abs(held - 5 * HOUR) < timedelta(seconds=1)

        preview = await handle.query(PipelineWorkflow.preview_template_change, version_2)
        assert (preview.possible, preview.from_version, preview.to_version) == (True, 1, 2)
        assert (preview.added_actions, preview.removed_actions) == (["legal_review"], [])
        assert {
            change.key: (
                change.before and change.before - started,
                change.after and change.after - started,
            )
            for change in preview.deadlines
        } == {
            # Elapsed time and the 5 h pause are kept: deadlines count from the start.
            "due": (48 * HOUR + held, 72 * HOUR + held),
            "escalation:1": (24 * HOUR, 24 * HOUR),  # fired, stays fired
            "warning": (None, 50 * HOUR + held),
            "escalation:2": (None, 60 * HOUR + held),
        }

        refused = await handle.query(PipelineWorkflow.preview_template_change, without_negotiation)
        assert not refused.possible
        assert "'negotiation' is not in time-rules version 3" in refused.problems[0]
        assert "cannot move to time-rules version 3" in await refusal(
            handle, PipelineWorkflow.change_template, without_negotiation
        )

        moved = await handle.execute_update(PipelineWorkflow.change_template, version_2)
        assert moved.template_version == 2
        assert [action.key for action in moved.actions] == [
            "negotiation",
            "legal_review",
            "contract_archive",
        ]
        assert moved.actions[0].due_at - started == 72 * HOUR + held
        assert moved.actions[0].paused_seconds == resumed.actions[0].paused_seconds

        await sleep_until(env, started + 60 * HOUR + held - MINUTE)
        assert (await state(handle)).escalations == 1
        await sleep_until(env, started + 60 * HOUR + held + timedelta(seconds=1))
        await count_when(handle, lambda s: s.escalations == 2)
        await handle.execute_update(
            PipelineWorkflow.complete_action, CompleteActionInput(action_key="negotiation")
        )
        assert (await state(handle)).current_action == "legal_review"

    escalations = await events_of(event_bus, "escalation.raised")
    assert [(event.escalation_raised.level, at(event) - started) for event in escalations] == [
        (1, 24 * HOUR),
        (2, 60 * HOUR + held),
    ]
    (changed,) = await events_of(event_bus, "pipeline.template_changed")
    assert (
        changed.pipeline_template_changed.from_version,
        changed.pipeline_template_changed.to_version,
        list(changed.pipeline_template_changed.added_actions),
    ) == (1, 2, ["legal_review"])

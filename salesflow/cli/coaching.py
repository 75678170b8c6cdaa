"""`salesflow coaching ...`: weaknesses, training tasks and their progress, over gRPC.

    salesflow coaching weaknesses [REP] [--as-of TIME]    against the top 10 (all you may see)
    salesflow coaching assign REP [--action KEY [--metric M]] [--top N] [--cases N]
    salesflow coaching tasks [REP] [--status open|done] [-n N]
    salesflow coaching done TASK_ID [--submission TEXT | --file PATH]
    salesflow coaching progress [TASK_ID] [--rep REP]     before and after each task

Every command speaks as the caller of --as/--role/--regions (or SALESFLOW_CALLER_*), so the
analytics service applies its rules: reps see and complete their own tasks, managers those
of their regions, admins all.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

from salesflow.analytics.v1 import analytics_pb2 as pb
from salesflow.analytics.v1 import analytics_pb2_grpc
from salesflow.cli.pipelines import add_identity_options, call_as, caller_from_options
from salesflow.core.caller import Role
from salesflow.core.settings import Settings

METRICS = ("completion", "quality", "conversion", "strategy_mix")


def register(commands) -> None:
    """Adds the `coaching` command group to the top-level parser."""
    coaching = commands.add_parser("coaching", help="weak actions, training tasks, progress")
    verbs = coaching.add_subparsers(dest="verb", required=True)

    weaknesses = verbs.add_parser("weaknesses", help="weakest actions against the top 10")
    weaknesses.add_argument("rep", nargs="?", default="", help="one rep (default: all you see)")
    weaknesses.add_argument("--as-of", default="", help="end of the window (ISO time; now)")
    weaknesses.set_defaults(handler=_weaknesses)

    assign = verbs.add_parser("assign", help="give a rep training tasks for their weaknesses")
    assign.add_argument("rep")
    assign.add_argument("--action", default="", help="only this action's weaknesses")
    assign.add_argument("--metric", default="", choices=["", *METRICS])
    assign.add_argument("--top", type=int, default=0, help="weak actions to cover (3)")
    assign.add_argument("--cases", type=int, default=0, help="benchmark cases per task (5)")
    assign.set_defaults(handler=_assign)

    tasks = verbs.add_parser("tasks", help="training tasks, newest first")
    tasks.add_argument("rep", nargs="?", default="")
    tasks.add_argument("--status", default="", choices=["", "open", "done"])
    tasks.add_argument("-n", "--limit", type=int, default=0)
    tasks.set_defaults(handler=_tasks)

    done = verbs.add_parser("done", help="mark a training task done")
    done.add_argument("task_id", type=int)
    given = done.add_mutually_exclusive_group()
    given.add_argument("--submission", default="", help="the rewritten talk track, or a note")
    given.add_argument("--file", type=Path, help="read the submission from a file")
    done.set_defaults(handler=_done)

    progress = verbs.add_parser("progress", help="did the weak metric improve after a task")
    progress.add_argument("task_id", type=int, nargs="?", default=0)
    progress.add_argument("--rep", default="", help="every task of a rep (default: yours)")
    progress.set_defaults(handler=_progress)

    for sub in verbs.choices.values():
        add_identity_options(sub)


async def _call(settings: Settings, options, method: str, request):
    """One AnalyticsService call as the command's caller; None after printing a failure."""
    return await call_as(
        options, settings, "analytics", analytics_pb2_grpc.AnalyticsServiceStub, method, request
    )


def _when(stamp) -> str:
    return stamp.ToDatetime().strftime("%Y-%m-%d %H:%MZ")


def _value(metric: str, value: float) -> str:
    return f"{value:.1f}" if metric == "quality" else f"{round(value * 100)}%"


async def _weaknesses(options, settings: Settings) -> int:
    request = pb.FindWeaknessesRequest(rep_id=options.rep)
    if options.as_of:
        try:
            as_of = datetime.fromisoformat(options.as_of)
        except ValueError:
            print(f"salesflow: --as-of {options.as_of!r} is not an ISO time", file=sys.stderr)
            return 2
        request.as_of.FromDatetime(as_of if as_of.tzinfo else as_of.replace(tzinfo=UTC))
    found = await _call(settings, options, "FindWeaknesses", request)
    if found is None:
        return 1

    print(f"window {_when(found.window_start)} .. {_when(found.window_end)}")
    for rep in found.reps:
        print(f"{rep.rep_id} ({rep.region}): {rep.summary}")
        for weakness in rep.weaknesses:
            print(f"  {weakness.rank}. {weakness.metric:<13} {weakness.summary}")
    return 0


def _print_task(task: pb.TrainingTask) -> None:
    print(
        f"#{task.task_id} {task.status:<4} {task.rep_id}: {task.action_key} {task.metric} "
        f"({task.kind}), created {_when(task.created_at)} by {task.created_by}"
    )
    print(f"    {task.instructions}")
    if task.status == "done":
        print(f"    done {_when(task.completed_at)} by {task.completed_by}")


async def _assign(options, settings: Settings) -> int:
    request = pb.CreateTrainingTasksRequest(
        rep_id=options.rep,
        action_key=options.action,
        metric=options.metric,
        top=options.top,
        cases=options.cases,
    )
    found = await _call(settings, options, "CreateTrainingTasks", request)
    if found is None:
        return 1

    print(f"{found.weaknesses.rep_id}: {found.weaknesses.summary}")
    print(f"{len(found.created)} tasks created, {len(found.existing)} already open")
    for task in found.created:
        _print_task(task)
    for task in found.existing:
        print(f"  already open: #{task.task_id} {task.action_key} {task.metric} ({task.kind})")
    return 0


async def _tasks(options, settings: Settings) -> int:
    request = pb.ListTrainingTasksRequest(
        rep_id=options.rep, status=options.status, limit=options.limit
    )
    found = await _call(settings, options, "ListTrainingTasks", request)
    if found is None:
        return 1
    for task in found.tasks:
        _print_task(task)
    if not found.tasks:
        print("no training tasks")
    return 0


async def _done(options, settings: Settings) -> int:
    submission = options.submission
    if options.file is not None:
        try:
            submission = options.file.read_text(encoding="utf-8")
        except OSError as error:
            print(f"salesflow: cannot read {options.file}: {error}", file=sys.stderr)
            return 2
    request = pb.CompleteTrainingTaskRequest(task_id=options.task_id, submission=submission)
    task = await _call(settings, options, "CompleteTrainingTask", request)
    if task is None:
        return 1
    print(f"task #{task.task_id} done ({task.action_key} {task.metric}, {task.kind})")
    return 0


async def _progress(options, settings: Settings) -> int:
    rep_id = options.rep
    if not options.task_id and not rep_id:
        caller = caller_from_options(options)
        if caller.role is not Role.REP:
            print("salesflow: name a task or a rep (--rep)", file=sys.stderr)
            return 2
        rep_id = caller.id
    request = pb.TrainingProgressRequest(task_id=options.task_id, rep_id=rep_id)
    found = await _call(settings, options, "TrainingProgress", request)
    if found is None:
        return 1

    for each in found.tasks:
        task = each.task
        print(
            f"#{task.task_id} {task.rep_id}: {task.action_key} {task.metric} ({task.kind}) "
            f"— {each.summary}"
        )
        windows = [("before", each.before)]
        if each.HasField("after"):
            windows.append(("after", each.after))
        for name, window in windows:
            value = _value(task.metric, window.value) if window.HasField("value") else "-"
            print(
                f"    {name:<6} {_when(window.start)} .. {_when(window.end)}  {value} "
                f"({window.instances} actions)"
            )
    if not found.tasks:
        print("no training tasks")
    return 0

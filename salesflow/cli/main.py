"""The `salesflow` command.

salesflow demo [--json] [--dashboard]        replay the built-in sample on an embedded stack
salesflow replay DIR [--json] [--dashboard]  replay a CRM export (sales_pipeline.csv, ...)
salesflow up                         run the stack on a local Temporal dev server
salesflow dashboard [--port N]       the web dashboard in front of a running stack
salesflow db upgrade                 migrate the configured database
salesflow routes import FILE         where notices go (recipient,region,channel,target)
salesflow status OPPORTUNITY_ID      a pipeline's live state, from a running stack
salesflow pipeline start|complete|show|reply|close ...   act on pipelines of a running stack
salesflow evidence upload|list ...   evidence files of a running stack
salesflow template ...               the action template library (see salesflow.cli.templates)
salesflow analytics rebuild [--from-store]   rebuild the analytics read model
salesflow analytics outcomes REP ACTION      a rep's last outcomes (--topic price, -n 3)
salesflow coaching weaknesses|assign|tasks|done|progress   coaching (cli/coaching.py)
salesflow points ...                 balances, leaderboard, rewards, HR export (cli/points.py)
salesflow tickets ...                tickets to legal and logistics (see salesflow.cli.tickets)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
import tempfile
from dataclasses import asdict, replace
from pathlib import Path

from salesflow.cli import analytics, coaching, dashboard, pipelines
from salesflow.cli import points as points_commands
from salesflow.cli import templates as template_commands
from salesflow.cli import tickets as ticket_commands
from salesflow.core.logs import configure_logging
from salesflow.core.settings import LOG_LEVELS, Settings, SettingsError

logger = logging.getLogger("salesflow.cli")


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    options = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        print(f"salesflow: configuration error: {error}", file=sys.stderr)
        return 2
    # Only the long-running `up` logs at the configured level; commands that answer and
    # exit stay quiet so their output is the answer.
    configure_logging(
        options.log_level
        or (settings.log_level if options.command in ("up", "dashboard") else "WARNING")
    )
    try:
        return asyncio.run(options.handler(options, settings))
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader left early (`salesflow ... | head`): stop quietly, as Unix tools do,
        # and keep the interpreter's final flush from complaining about the pipe again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="salesflow", description="Durable B2B sales action pipelines"
    )
    parser.add_argument(
        "--log-level",
        type=str.upper,
        choices=LOG_LEVELS,
        help="DEBUG, INFO, WARNING, ERROR or CRITICAL (default: quiet for replays)",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="replay the built-in sample export end to end")
    demo.add_argument("--json", action="store_true", help="print the summary as JSON")
    demo.add_argument("--dashboard", action="store_true", help=SERVE_HELP)
    demo.set_defaults(handler=_demo)

    replay = commands.add_parser("replay", help="replay a CRM export directory")
    replay.add_argument("directory", type=Path)
    replay.add_argument("--json", action="store_true", help="print the summary as JSON")
    replay.add_argument("--limit", type=int, default=0, help="replay only the first N rows")
    replay.add_argument("--dashboard", action="store_true", help=SERVE_HELP)
    replay.set_defaults(handler=_replay)

    up = commands.add_parser("up", help="run the stack on a local Temporal dev server")
    up.add_argument(
        "--ui-port",
        type=int,
        default=8233,
        help="port of the Temporal web UI on 127.0.0.1 (default 8233)",
    )
    up.set_defaults(handler=_up)

    db = commands.add_parser("db", help="database maintenance")
    db.add_argument("action", choices=["upgrade"])
    db.set_defaults(handler=_db)

    team = commands.add_parser("team", help="the team directory (reps, managers, regions)")
    team.add_argument("action", choices=["import"])
    team.add_argument(
        "file",
        type=Path,
        help="a CSV with sales_agent,manager,regional_office and optionally time_zone (IANA)",
    )
    team.set_defaults(handler=_team)

    routes = commands.add_parser("routes", help="where notices go: person, role or region")
    routes.add_argument("action", choices=["import"])
    routes.add_argument("file", type=Path, help="a CSV with recipient,region,channel,target")
    routes.set_defaults(handler=_routes)

    status = commands.add_parser("status", help="a pipeline's live state from a running stack")
    status.add_argument("opportunity_id")
    status.set_defaults(handler=_status)

    pipelines.register(commands)
    template_commands.add_parser(commands)
    analytics.register(commands)
    coaching.register(commands)
    points_commands.register(commands)
    ticket_commands.register(commands)
    dashboard.register(commands)
    return parser


SERVE_HELP = (
    "afterwards keep the stack up and serve the live dashboard (SALESFLOW_DASHBOARD_PORT, "
    "8080) until Ctrl-C"
)


async def _demo(options, settings: Settings) -> int:
    from salesflow.replay.sample import write_sample_export

    with tempfile.TemporaryDirectory(prefix="salesflow-demo-") as scratch:
        export_dir = write_sample_export(Path(scratch) / "export")
        return await _run_replay(
            export_dir, options, settings, scratch=Path(scratch), limit=0, snapshot=True
        )


async def _replay(options, settings: Settings) -> int:
    with tempfile.TemporaryDirectory(prefix="salesflow-replay-") as scratch:
        return await _run_replay(
            options.directory, options, settings, scratch=Path(scratch), limit=options.limit
        )


async def _run_replay(
    export_dir: Path,
    options,
    settings: Settings,
    *,
    scratch: Path,
    limit: int,
    snapshot: bool = False,
):
    from salesflow.replay.export import ExportError, read_export
    from salesflow.replay.replayer import replay_export
    from salesflow.stack import Stack, StackOptions

    try:
        export = read_export(export_dir)
    except ExportError as error:
        print(f"salesflow: cannot read export: {error}", file=sys.stderr)
        return 2
    if limit:
        export = export.first(limit)

    # Without a configured database, each replay gets a fresh SQLite file of its own.
    if "SALESFLOW_DATABASE_URL" not in __import__("os").environ:
        settings = replace(
            settings,
            database_url=f"sqlite:///{scratch / 'salesflow.db'}",
            evidence_dir=scratch / "evidence",
        )
    try:
        dashboard_config = dashboard.dashboard_config() if options.dashboard else None
    except SettingsError as error:
        print(f"salesflow: configuration error: {error}", file=sys.stderr)
        return 2
    try:
        # Past events must not message today's groups: every notice goes to the log.
        stack_options = StackOptions(worker_process=True, notices_to_log=True)
        async with Stack(settings, stack_options) as stack:
            summary = await replay_export(stack, export)
            showcase = await _showcase(stack, export) if not options.json else None
            snapshot_path = None
            if snapshot:
                from salesflow.core.settings import DEFAULT_HOME

                snapshot_path = await dashboard.write_demo_snapshot(stack, DEFAULT_HOME)
            _print_report(summary, export_dir, showcase, snapshot_path, json_output=options.json)
            if dashboard_config is not None:
                await _serve_dashboard(stack, dashboard_config, json_output=options.json)
    except Exception as error:
        logger.debug("replay failed", exc_info=True)
        print(f"salesflow: replay failed: {type(error).__name__}: {error}", file=sys.stderr)
        print("  (run with --log-level DEBUG for the full trace)", file=sys.stderr)
        return 1
    return 0


def _print_report(summary, export_dir, showcase, snapshot_path, *, json_output: bool) -> None:
    if json_output:
        found = asdict(summary)
        if snapshot_path is not None:
            found["dashboard_snapshot"] = str(snapshot_path)
        print(json.dumps(found, indent=2, ensure_ascii=False), flush=True)
        return
    print(_report(summary, export_dir, showcase))
    if snapshot_path is not None:
        print()
        print(f"Dashboard: {snapshot_path.as_uri()}")
        print("  a snapshot of these figures that opens in a browser without a server;")
        print("  `salesflow demo --dashboard` keeps the stack up and serves the live one.")
    sys.stdout.flush()


async def _serve_dashboard(stack, config, *, json_output: bool) -> None:
    """The live dashboard over the replayed stack, until Ctrl-C."""
    running = await dashboard.start_for_stack(stack, config)
    # With --json, standard output stays the JSON document.
    print(
        f"Dashboard: {running.url} (the replayed stack stays up; Ctrl-C stops both)",
        file=sys.stderr if json_output else sys.stdout,
        flush=True,
    )
    try:
        await dashboard.wait_for_stop()
    finally:
        await running.stop()


async def _showcase(stack, export) -> list[str]:
    """A few answers read back over gRPC, as a manager's client would see them."""
    from salesflow.core.caller import Caller, Role
    from salesflow.core.rpc import channel
    from salesflow.pipeline.v1 import pipeline_pb2, pipeline_pb2_grpc
    from salesflow.points.v1 import points_pb2, points_pb2_grpc

    director = Caller(id="director", role=Role.DIRECTOR, regions=frozenset({"*"}))
    lines: list[str] = []
    async with channel(stack.target("points"), director) as points_channel:
        board = await points_pb2_grpc.PointsServiceStub(points_channel).GetLeaderboard(
            points_pb2.GetLeaderboardRequest(limit=5)
        )
        lines.append("Leaderboard (top 5):")
        for row in board.rows:
            lines.append(f"  {row.rank}. {row.rep_id:<22} {row.region:<8} {row.points:>6} points")
    async with channel(stack.target("pipeline"), director) as pipeline_channel:
        stub = pipeline_pb2_grpc.PipelineServiceStub(pipeline_channel)
        stuck = await stub.ListPipelines(
            pipeline_pb2.ListPipelinesRequest(outcome="open", page_size=500)
        )
        if stuck.pipelines:
            oldest = min(stuck.pipelines, key=lambda p: p.current_since.ToDatetime())
            state = await stub.GetPipeline(
                pipeline_pb2.GetPipelineRequest(opportunity_id=oldest.opportunity_id)
            )
            since = state.current_since.ToDatetime().date().isoformat()
            account = state.account or "no account"
            lines.append(
                f"Longest-stuck open pipeline: {state.opportunity_id} ({account}"
                f", rep {state.rep_id}) at {state.current_action} since {since}; "
                f"overdue: {', '.join(state.overdue_actions) or 'nothing'}"
            )
    return lines


def _report(summary, export_dir: Path, showcase: list[str] | None) -> str:
    rejected = (
        ", ".join(f"{reason} {count}" for reason, count in summary.rejected.items()) or "none"
    )
    warnings = ", ".join(f"{kind} {count}" for kind, count in summary.warnings.items()) or "none"
    lines = [
        f"salesflow replay of {export_dir}",
        f"  simulated {summary.simulated_from or '-'} .. {summary.simulated_to or '-'} "
        f"in {summary.elapsed_seconds}s",
        "",
        f"  rows read            {summary.opportunities_read}",
        f"  pipelines started    {summary.pipelines_started}"
        + (f" (already running: {summary.already_started})" if summary.already_started else ""),
        f"  rejected rows        {len(summary.rejected_rows)} ({rejected})",
        f"  warnings             {warnings}",
        f"  actions completed    {summary.actions_completed}",
        f"  overdue actions      {summary.overdue_actions}",
        f"  escalations          {summary.escalations}",
        f"  silence reminders    {summary.reminders}",
        f"  points entries       {summary.points_entries} (net {summary.points_total} points)",
        f"  tickets opened       {summary.tickets_opened} (resolved {summary.tickets_resolved})",
        f"  pipelines            won {summary.pipelines_won}, lost {summary.pipelines_lost}, "
        f"open {summary.pipelines_open}",
        f"  notifications        {summary.notifications_written} written to the outbox, "
        f"{summary.notifications_delivered} delivered",
    ]
    for row in summary.team_rejected_rows:
        agent = row["sales_agent"] or "-"
        lines.append(f"    teams file row {row['row']}: {agent} rejected: {row['reason']}")
    if summary.steps_refused:
        lines.append(f"  steps refused        {summary.steps_refused}")
    for row in summary.rejected_rows[:10]:
        lines.append(
            f"    row {row['row']}: {row['opportunity_id'] or '-'} rejected: {row['reason']}"
        )
    if len(summary.rejected_rows) > 10:
        lines.append(f"    ... {len(summary.rejected_rows) - 10} more (use --json for all)")
    if showcase:
        lines += ["", *showcase]
    return "\n".join(lines)


async def _up(options, settings: Settings) -> int:
    from salesflow.core.settings import DEFAULT_HOME
    from salesflow.stack import Stack, StackConflict, StackOptions, TemporalMode

    state_dir = DEFAULT_HOME
    stack_options = StackOptions(
        temporal=TemporalMode.DEV_SERVER,
        fixed_ports=True,
        dev_server_ui_port=options.ui_port,
        dev_server_db=state_dir / "temporal.db",
        state_dir=state_dir,
    )
    try:
        dashboard_config = dashboard.dashboard_config()
    except SettingsError as error:
        print(f"salesflow: configuration error: {error}", file=sys.stderr)
        return 2
    stop = asyncio.Event()

    def on_signal() -> None:
        if stop.is_set():
            # Asked twice: leave now. The servers' guard stops them once we are gone.
            print("salesflow: stopping at once", file=sys.stderr, flush=True)
            os._exit(130)
        print("salesflow: stopping (press Ctrl-C again to stop at once)", file=sys.stderr)
        stop.set()

    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, on_signal)
    try:
        async with Stack(settings, stack_options) as stack:
            board = None
            try:
                board = await dashboard.start_for_stack(stack, dashboard_config)
            except OSError as error:
                # The services are what `up` is for; the dashboard can start on its own later.
                print(
                    f"salesflow: the dashboard cannot listen on {dashboard_config.host}:"
                    f"{dashboard_config.port} ({error}); choose SALESFLOW_DASHBOARD_PORT and "
                    "run `salesflow dashboard`",
                    file=sys.stderr,
                )
            try:
                print(f"salesflow is up (state in {state_dir})")
                if board is not None:
                    print(f"  Dashboard         {board.url}")
                print(f"  Temporal web UI   http://127.0.0.1:{options.ui_port}")
                print(f"  Temporal frontend {stack.settings.temporal_address}")
                print(f"  NATS              {stack.settings.nats_url}")
                for name, service in stack.services.items():
                    print(f"  {name:<17} {stack.settings.grpc_host}:{service.port}")
                print("Press Ctrl-C to stop.", flush=True)
                await stop.wait()
            finally:
                if board is not None:
                    await board.stop()
    except StackConflict as error:
        print("salesflow: cannot start:", file=sys.stderr)
        for problem in str(error).splitlines():
            print(f"  {problem}", file=sys.stderr)
        return 2
    return 0


async def _migrated(settings: Settings) -> bool:
    """Brings the configured database to the newest schema; False, after saying why, when
    it cannot be reached."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import InterfaceError, OperationalError

    from salesflow.core.migrate import upgrade

    try:
        await asyncio.to_thread(upgrade, settings.database_url)
    except (OperationalError, InterfaceError) as error:
        shown = make_url(settings.database_url).render_as_string(hide_password=True)
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        print(f"salesflow: cannot reach the database at {shown}: {reason}", file=sys.stderr)
        return False
    return True


async def _db(options, settings: Settings) -> int:
    if not await _migrated(settings):
        return 1
    print("database is at the newest schema")
    return 0


async def _team(options, settings: Settings) -> int:
    from salesflow.core.db import create_engine, session_factory
    from salesflow.replay.export import ExportError, read_team_file
    from services.pipeline.directory import upsert_team

    try:
        team, rejections = read_team_file(options.file)
    except ExportError as error:
        print(f"salesflow: cannot read team file: {error}", file=sys.stderr)
        return 2
    if not await _migrated(settings):
        return 1
    engine = create_engine(settings.database_url)
    try:
        written = await upsert_team(session_factory(engine), team.values())
    finally:
        await engine.dispose()
    print(f"{written} reps imported into the team directory")
    for rejection in rejections:
        print(
            f"  row {rejection.row}: {rejection.opportunity_id or '-'} rejected: {rejection.reason}"
        )
    return 0


async def _routes(options, settings: Settings) -> int:
    from salesflow.core.db import create_engine, session_factory
    from services.notifications.routes import RouteError, read_route_file, save_routes

    try:
        rows = read_route_file(options.file)
    except (OSError, UnicodeDecodeError, RouteError) as error:
        print(f"salesflow: cannot read routes: {error}", file=sys.stderr)
        return 2
    if not await _migrated(settings):
        return 1
    engine = create_engine(settings.database_url)
    try:
        written = await save_routes(session_factory(engine), rows)
    finally:
        await engine.dispose()
    print(f"{written} notification routes saved")
    unknown = sorted(
        {row.target for row in rows if row.channel in ("wecom", "dingtalk", "feishu")}
        - {robot.name for robot in settings.robots}
    )
    if unknown:
        print(f"  not configured here (SALESFLOW_ROBOT_<NAME>): {', '.join(unknown)}")
    return 0


async def _status(options, settings: Settings) -> int:
    import grpc

    from salesflow.core.caller import ADMIN_CALLER
    from salesflow.core.rpc import channel
    from salesflow.pipeline.v1 import pipeline_pb2, pipeline_pb2_grpc

    async with channel(settings.target("pipeline"), ADMIN_CALLER) as pipeline_channel:
        stub = pipeline_pb2_grpc.PipelineServiceStub(pipeline_channel)
        try:
            state = await stub.GetPipeline(
                pipeline_pb2.GetPipelineRequest(opportunity_id=options.opportunity_id), timeout=10
            )
        except grpc.aio.AioRpcError as error:
            print(f"salesflow: {error.code().name}: {error.details()}", file=sys.stderr)
            return 1
    pipelines.print_state(state)
    return 0


if __name__ == "__main__":
    sys.exit(main())

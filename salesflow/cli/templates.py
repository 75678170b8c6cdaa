"""`salesflow template ...`: the action template library from the command line.

salesflow template presets                      the built-in presets and the 12 action types
salesflow template validate FILE                check a file offline; exit 1 listing every problem
salesflow template export [ID] [--version N] [--preset] [-o FILE]
salesflow template import FILE [--comment TEXT] save a new version
salesflow template versions [ID]                every version of ID (every template without ID)
salesflow template diff ID V1 V2 | diff FILE [--from N]
salesflow template usage [ID]                   running pipelines per template version
salesflow template preview ID --to N [--pipeline OPP ...] [--from N]
salesflow template migrate ID --to N (--pipeline OPP ... | --from N | --all)

Commands that read or change the library talk gRPC to the template service of a running
stack (`salesflow up`) at SALESFLOW_GRPC_HOST:SALESFLOW_TEMPLATES_PORT, as the caller named
by --as, --role and --regions (default: $SALESFLOW_CALLER_* or admin).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from salesflow.cli.pipelines import add_identity_options, caller_from_options
from salesflow.core.settings import Settings

CALL_TIMEOUT_SECONDS = 60


def add_parser(commands) -> None:
    """Registers `template` and its subcommands on the CLI's subparsers."""
    template = commands.add_parser("template", help="the action template library")
    actions = template.add_subparsers(dest="template_command", required=True)

    identity = argparse.ArgumentParser(add_help=False)
    add_identity_options(identity)

    presets = actions.add_parser("presets", help="list the presets and the B2B action types")
    presets.set_defaults(handler=_presets)

    validate = actions.add_parser("validate", help="check a template file (offline)")
    validate.add_argument("file", type=Path)
    validate.set_defaults(handler=_validate)

    export = actions.add_parser("export", parents=[identity], help="write a template file")
    export.add_argument("template_id", nargs="?", default="b2b-default")
    export.add_argument("--version", type=int, default=0, help="a version (default: latest)")
    export.add_argument(
        "--preset", action="store_true", help="ID names a built-in preset (works offline)"
    )
    export.add_argument(
        "--as-imported", action="store_true", help="the file exactly as it was imported"
    )
    export.add_argument("-o", "--output", type=Path, help="write to FILE instead of stdout")
    export.set_defaults(handler=_export)

    load = actions.add_parser("import", parents=[identity], help="save a file as a new version")
    load.add_argument("file", type=Path)
    load.add_argument("--comment", default="", help="why this version was made")
    load.set_defaults(handler=_import)

    versions = actions.add_parser("versions", parents=[identity], help="list versions")
    versions.add_argument("template_id", nargs="?", default="")
    versions.set_defaults(handler=_versions)

    diff = actions.add_parser(
        "diff", parents=[identity], help="ID V1 V2, or FILE against the latest version"
    )
    diff.add_argument("target", help="a template id, or a template file")
    diff.add_argument("versions", nargs="*", type=int, help="V1 V2 (with a template id)")
    diff.add_argument("--from", dest="from_version", type=int, default=0, help="with FILE")
    diff.set_defaults(handler=_diff)

    usage = actions.add_parser("usage", parents=[identity], help="running pipelines per version")
    usage.add_argument("template_id", nargs="?", default="")
    usage.set_defaults(handler=_usage)

    for name, handler, text in (
        ("preview", _preview, "what moving running pipelines to a version would change"),
        ("migrate", _migrate, "move running pipelines to a version"),
    ):
        move = actions.add_parser(name, parents=[identity], help=text)
        move.add_argument("template_id")
        move.add_argument("--to", dest="to_version", type=int, required=True)
        move.add_argument("--pipeline", dest="pipelines", action="append", default=[])
        move.add_argument("--from", dest="from_version", type=int, default=0)
        move.add_argument(
            "--all", action="store_true", help="every running pipeline of the template"
        )
        move.set_defaults(handler=handler)


# ---- offline ----------------------------------------------------------------------------


async def _presets(options, settings: Settings) -> int:
    from services.templates.presets import ACTION_TYPES, PRESETS

    print("Presets (salesflow template export NAME --preset -o FILE):")
    for name, build in PRESETS.items():
        template = build()
        print(f"  {name:<14} {template.name} ({len(template.actions)} actions)")
    print("B2B action types (all in b2b-library):")
    for action in ACTION_TYPES:
        print(f"  {action.key:<34} {action.name} / {action.name_zh}")
    return 0


async def _validate(options, settings: Settings) -> int:
    from services.templates.validation import check_template_text

    text = _read(options.file)
    if text is None:
        return 2
    checked = check_template_text(text)
    if checked.ok:
        template = checked.template
        print(f"{options.file}: valid template {template.template_id!r}")
        print(f"  {len(template.actions)} actions: {action_path(template.action_keys)}")
        return 0
    print(f"{options.file}: {len(checked.problems)} problem(s); nothing would be saved")
    for problem in checked.problems:
        print(f"  {problem}")
    return 1


SHOWN_ACTION_KEYS = 30


def action_path(keys) -> str:
    """appointment -> ... -> contract_archive, cut after SHOWN_ACTION_KEYS keys."""
    keys = list(keys)
    shown = " -> ".join(keys[:SHOWN_ACTION_KEYS])
    if len(keys) > SHOWN_ACTION_KEYS:
        shown += f" -> … and {len(keys) - SHOWN_ACTION_KEYS} more"
    return shown


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        print(f"salesflow: cannot read {path}: {error}", file=sys.stderr)
        return None


def _is_file(path: Path) -> bool:
    return path.is_file()


def _write(text: str, output: Path | None, what: str) -> int:
    if output is None:
        sys.stdout.write(text)
        return 0
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as error:
        print(f"salesflow: cannot write {output}: {error}", file=sys.stderr)
        return 2
    print(f"wrote {output} ({what})")
    return 0


# ---- against the template service -------------------------------------------------------


async def _call(options, settings: Settings, call: Callable[..., Awaitable[int]]) -> int:
    """Runs `call(stub)` on a channel to the template service, reporting failures."""
    import grpc

    from salesflow.core.rpc import channel
    from salesflow.templates.v1 import templates_pb2_grpc

    caller = caller_from_options(options)
    target = settings.target("templates")
    async with channel(target, caller) as templates_channel:
        stub = templates_pb2_grpc.TemplateServiceStub(templates_channel)
        try:
            return await call(stub)
        except grpc.aio.AioRpcError as error:
            return _report_failure(error, target)


def _report_failure(error, target: str) -> int:
    import grpc

    from salesflow.core.rpc import rejection_detail
    from salesflow.templates.v1 import templates_pb2

    if error.code() == grpc.StatusCode.UNAVAILABLE:
        print(
            f"salesflow: the template service at {target} does not answer "
            f"(is `salesflow up` running?): {error.details()}",
            file=sys.stderr,
        )
        return 2
    rejection = rejection_detail(error, templates_pb2.TemplateRejection)
    if rejection is not None:
        print(f"refused: {len(rejection.problems)} problem(s); nothing was saved")
        for problem in rejection.problems:
            print(f"  {problem.path}: {problem.message}" if problem.path else problem.message)
        return 1
    print(f"salesflow: {error.code().name}: {error.details()}", file=sys.stderr)
    return 1


async def _export(options, settings: Settings) -> int:
    if options.preset:
        from services.templates.presets import preset
        from services.templates.yaml_format import dump_template

        try:
            template = preset(options.template_id)
        except KeyError as error:
            print(f"salesflow: {error.args[0]}", file=sys.stderr)
            return 2
        return _write(dump_template(template), options.output, f"preset {options.template_id}")

    from salesflow.templates.v1 import templates_pb2

    async def call(stub) -> int:
        exported = await stub.ExportTemplate(
            templates_pb2.ExportTemplateRequest(
                template_id=options.template_id, version=options.version
            ),
            timeout=CALL_TIMEOUT_SECONDS,
        )
        text = exported.imported_yaml if options.as_imported else exported.yaml
        version = exported.version
        return _write(text, options.output, f"version {version.version} of {version.template_id}")

    return await _call(options, settings, call)


async def _import(options, settings: Settings) -> int:
    from salesflow.templates.v1 import templates_pb2

    text = _read(options.file)
    if text is None:
        return 2

    async def call(stub) -> int:
        imported = await stub.ImportTemplate(
            templates_pb2.ImportTemplateRequest(yaml=text, comment=options.comment),
            timeout=CALL_TIMEOUT_SECONDS,
        )
        version = imported.version
        if imported.created:
            print(f"saved {version.template_id} version {version.version}")
        else:
            print(
                f"unchanged: {version.template_id} version {version.version} has this content; "
                "nothing new saved"
            )
        print(f"  actions: {action_path(version.action_keys)}")
        for line in coverage_lines(imported.calendars):
            print(f"  {line}")
        return 0

    return await _call(options, settings, call)


def coverage_lines(calendars) -> list[str]:
    """What each calendar's holidays cover, and which years still lack make-up workdays."""
    lines = []
    for calendar in calendars:
        years = list(calendar.resolved_years)
        lines.append(
            f"calendar {calendar.calendar_id} ({calendar.country}): holidays and make-up "
            f"working days resolved for {years[0]}-{years[-1]}; after {years[-1]} only "
            "weekends count"
        )
        missing = list(calendar.years_without_makeup_workdays)
        if missing:
            publisher = "the State Council" if calendar.country == "CN" else "the government"
            lines.append(
                f"warning: {', '.join(map(str, missing))}: no make-up working days known yet "
                f"(holidays {calendar.holidays_version}) — re-import when {publisher} "
                "publishes the schedule"
            )
    return lines


async def _versions(options, settings: Settings) -> int:
    from salesflow.templates.v1 import templates_pb2

    async def call(stub) -> int:
        if options.template_id:
            listed = await stub.ListVersions(
                templates_pb2.ListVersionsRequest(template_id=options.template_id),
                timeout=CALL_TIMEOUT_SECONDS,
            )
            rows = listed.versions
        else:
            rows = (
                await stub.ListTemplates(
                    templates_pb2.ListTemplatesRequest(), timeout=CALL_TIMEOUT_SECONDS
                )
            ).templates
        for row in rows:
            saved = row.created_at.ToDatetime(tzinfo=UTC).astimezone(ZoneInfo(settings.timezone))
            comment = f"  {row.comment}" if row.comment else ""
            print(
                f"{row.template_id} v{row.version}  {local_time(saved)}  {row.created_by}  "
                f"{len(row.action_keys)} actions  {row.sha256[:12]}{comment}"
            )
        return 0

    return await _call(options, settings, call)


async def _diff(options, settings: Settings) -> int:
    from salesflow.templates.v1 import templates_pb2

    path = Path(options.target)
    text = _read(path) if _is_file(path) else ""
    if text is None:
        return 2
    if text:
        from services.templates.yaml_format import read_template

        draft, _problems = read_template(text)
        request = templates_pb2.DiffVersionsRequest(
            template_id=draft.template_id if draft else "",
            draft_yaml=text,
            from_version=options.from_version,
        )
    elif len(options.versions) == 2:
        request = templates_pb2.DiffVersionsRequest(
            template_id=options.target,
            from_version=options.versions[0],
            to_version=options.versions[1],
        )
    else:
        print("salesflow: diff needs ID V1 V2, or a template FILE", file=sys.stderr)
        return 2

    async def call(stub) -> int:
        diff = await stub.DiffVersions(request, timeout=CALL_TIMEOUT_SECONDS)
        after = f"v{diff.to_version}" if diff.to_version else str(path)
        print(f"{request.template_id}: v{diff.from_version} -> {after}")
        for line in diff.lines:
            print(f"  {line}")
        if not diff.lines:
            print("  no differences")
        return 0

    return await _call(options, settings, call)


async def _usage(options, settings: Settings) -> int:
    from salesflow.templates.v1 import templates_pb2

    async def call(stub) -> int:
        usage = await stub.ListTemplateUsage(
            templates_pb2.ListTemplateUsageRequest(template_id=options.template_id),
            timeout=CALL_TIMEOUT_SECONDS,
        )
        if not usage.usage:
            print("no running pipelines")
        for row in usage.usage:
            shown = ", ".join(row.opportunity_ids[:10])
            more = f", ... {row.running - 10} more" if row.running > 10 else ""
            print(f"{row.template_id} v{row.version}: {row.running} running ({shown}{more})")
        return 0

    return await _call(options, settings, call)


async def _migration_requests(options, stub) -> list | None:
    """One request per source version: named pipelines, one version, or all of them; None
    when the options name none of these."""
    from salesflow.templates.v1 import templates_pb2

    base = {"template_id": options.template_id, "to_version": options.to_version}
    if options.pipelines or options.from_version:
        return [
            templates_pb2.MigrationRequest(
                **base, opportunity_ids=options.pipelines, from_version=options.from_version
            )
        ]
    if not options.all:
        return None
    usage = await stub.ListTemplateUsage(
        templates_pb2.ListTemplateUsageRequest(template_id=options.template_id),
        timeout=CALL_TIMEOUT_SECONDS,
    )
    return [
        templates_pb2.MigrationRequest(**base, from_version=row.version)
        for row in usage.usage
        if row.version != options.to_version
    ]


async def _preview(options, settings: Settings) -> int:
    zone = ZoneInfo(settings.timezone)

    async def call(stub) -> int:
        requests = await _migration_requests(options, stub)
        if requests is None:
            print("salesflow: name --pipeline OPP, --from N or --all", file=sys.stderr)
            return 2
        if not requests:
            print(
                f"nothing to do: no running pipeline of {options.template_id} is on "
                f"another version than v{options.to_version}"
            )
            return 0
        for request in requests:
            preview = await stub.PreviewMigration(request, timeout=CALL_TIMEOUT_SECONDS)
            if not preview.pipelines:
                print(f"no running pipelines of {request.template_id} on v{request.from_version}")
            for item in preview.pipelines:
                verdict = "possible" if item.possible else "NOT possible"
                print(
                    f"{item.opportunity_id}: v{item.from_version} -> v{item.to_version} {verdict}"
                )
                for problem in item.problems:
                    print(f"  ! {problem}")
                for deadline in item.deadlines:
                    before = _local(deadline, "before", zone)
                    after = _local(deadline, "after", zone)
                    print(f"  {deadline.key:<22} {before:>16} -> {after}")
                if item.added_actions:
                    print(f"  + actions {', '.join(item.added_actions)}")
                if item.removed_actions:
                    print(f"  - actions {', '.join(item.removed_actions)}")
        return 0

    return await _call(options, settings, call)


def _local(deadline, field: str, zone: ZoneInfo) -> str:
    if not deadline.HasField(field):
        return "none"
    return local_time(getattr(deadline, field).ToDatetime(tzinfo=UTC).astimezone(zone))


def local_time(moment: datetime) -> str:
    """2026-12-07 18:00 +08:00: the numeric offset, as zone abbreviations are ambiguous
    (CST is China, US Central and Cuba standard time)."""
    offset = moment.strftime("%z")
    return f"{moment:%Y-%m-%d %H:%M} {offset[:3]}:{offset[3:]}"


async def _migrate(options, settings: Settings) -> int:
    async def call(stub) -> int:
        requests = await _migration_requests(options, stub)
        if requests is None:
            print("salesflow: name --pipeline OPP, --from N or --all", file=sys.stderr)
            return 2
        if not requests:
            print(
                f"nothing to do: no running pipeline of {options.template_id} is on "
                f"another version than v{options.to_version}"
            )
            return 0
        failed = 0
        for request in requests:
            moved = await stub.MigratePipelines(request, timeout=CALL_TIMEOUT_SECONDS)
            if not moved.pipelines:
                print(f"no running pipelines of {request.template_id} on v{request.from_version}")
            for item in moved.pipelines:
                if item.moved:
                    versions = f"v{item.from_version} -> v{item.to_version}"
                    print(f"{item.opportunity_id}: moved {versions}")
                else:
                    failed += 1
                    print(f"{item.opportunity_id}: not moved: {'; '.join(item.problems)}")
        return 1 if failed else 0

    return await _call(options, settings, call)

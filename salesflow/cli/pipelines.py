"""`salesflow pipeline ...` and `salesflow evidence ...`: act on a running stack over gRPC.

Every command speaks as a caller (id, role, regions) given by --as/--role/--regions or by
SALESFLOW_CALLER_ID/ROLE/REGIONS, so the services apply the same checks as for any client:
nothing here can skip the evidence lock.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import grpc

from salesflow.core.caller import Caller, Role
from salesflow.core.rpc import channel, rejection_detail
from salesflow.core.settings import Settings
from salesflow.evidence.v1 import evidence_pb2, evidence_pb2_grpc
from salesflow.pipeline.v1 import pipeline_pb2, pipeline_pb2_grpc

UPLOAD_CHUNK_BYTES = 256 * 1024
RPC_TIMEOUT_SECONDS = 30


def add_identity_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--as",
        dest="caller_id",
        default=os.environ.get("SALESFLOW_CALLER_ID", "admin"),
        help="caller id (default: $SALESFLOW_CALLER_ID or admin)",
    )
    parser.add_argument(
        "--role",
        type=_role,
        default=os.environ.get("SALESFLOW_CALLER_ROLE") or "admin",
        help=f"caller role: {', '.join(CALLER_ROLES)} (default: $SALESFLOW_CALLER_ROLE or admin)",
    )
    parser.add_argument(
        "--regions",
        default=os.environ.get("SALESFLOW_CALLER_REGIONS", "*"),
        help="comma-separated regions the caller may see (default: * )",
    )


CALLER_ROLES = tuple(role.value for role in Role if role is not Role.SYSTEM)


def _role(value: str) -> str:
    """A caller role, in any case. Also applied to the default from SALESFLOW_CALLER_ROLE,
    which argparse's choices would let through unchecked."""
    role = value.strip().lower()
    if role not in CALLER_ROLES:
        raise argparse.ArgumentTypeError(
            f"unknown role {value!r} (from --role or SALESFLOW_CALLER_ROLE); "
            f"one of {', '.join(CALLER_ROLES)}"
        )
    return role


def caller_from_options(options) -> Caller:
    regions = frozenset(r.strip() for r in options.regions.split(",") if r.strip())
    return Caller(id=options.caller_id, role=Role(options.role), regions=regions)


def register(commands) -> None:
    """Adds the `pipeline` and `evidence` command groups to the top-level parser."""
    pipeline = commands.add_parser("pipeline", help="start and act on pipelines (running stack)")
    verbs = pipeline.add_subparsers(dest="verb", required=True)

    start = verbs.add_parser("start", help="start a pipeline for an opportunity")
    start.add_argument("opportunity_id")
    start.add_argument("--rep", required=True, help="the rep who owns the opportunity")
    start.add_argument("--account", default="")
    start.add_argument("--product", default="")
    start.add_argument("--template", default="", help="template id (default: b2b-default)")
    start.set_defaults(handler=_start)

    complete = verbs.add_parser("complete", help="complete the current action")
    complete.add_argument("opportunity_id")
    complete.add_argument("action_key")
    complete.add_argument("--evidence", action="append", default=[], help="evidence id")
    complete.add_argument(
        "--answer",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="one answer; repeat the option for several values of the same key",
    )
    complete.add_argument("--note", default="")
    complete.set_defaults(handler=_complete)

    show = verbs.add_parser("show", help="a pipeline's live state")
    show.add_argument("opportunity_id")
    show.set_defaults(handler=_show)

    reply = verbs.add_parser("reply", help="record that the customer replied")
    reply.add_argument("opportunity_id")
    reply.add_argument("--note", default="")
    reply.set_defaults(handler=_reply)

    pause = verbs.add_parser(
        "pause", help="pause the current action's clocks (e.g. waiting for approval)"
    )
    pause.add_argument("opportunity_id")
    pause.add_argument("--reason", required=True, help="why the clocks stop (recorded)")
    pause.add_argument("--action", default="", help="guard: the action expected to be current")
    pause.set_defaults(handler=_pause)

    resume = verbs.add_parser(
        "resume", help="resume a paused action; its deadlines move out by the paused time"
    )
    resume.add_argument("opportunity_id")
    resume.add_argument("--action", default="", help="guard: the action expected to be current")
    resume.set_defaults(handler=_resume)

    resubmit = verbs.add_parser(
        "resubmit", help="resubmit an action a department sent back (its review is asked again)"
    )
    resubmit.add_argument("opportunity_id")
    resubmit.add_argument("--note", default="", help="what was revised, for the department")
    resubmit.add_argument("--action", default="", help="guard: the action expected to be current")
    resubmit.set_defaults(handler=_resubmit)

    close = verbs.add_parser("close", help="close a pipeline as lost")
    close.add_argument("opportunity_id")
    close.add_argument("--reason", required=True)
    close.set_defaults(handler=_close)

    evidence = commands.add_parser("evidence", help="upload and list evidence (running stack)")
    evidence_verbs = evidence.add_subparsers(dest="verb", required=True)
    upload = evidence_verbs.add_parser("upload", help="upload a file as evidence")
    upload.add_argument("file", type=Path)
    upload.add_argument("--opportunity", required=True)
    upload.add_argument("--action", required=True, help="the action key it belongs to")
    upload.add_argument("--kind", required=True, help="what it proves, e.g. onsite_photo")
    upload.set_defaults(handler=_upload)
    listing = evidence_verbs.add_parser("list", help="an opportunity's evidence, oldest first")
    listing.add_argument("opportunity_id")
    listing.add_argument("--action", default="")
    listing.set_defaults(handler=_list_evidence)

    for group in (verbs, evidence_verbs):
        for sub in group.choices.values():
            add_identity_options(sub)


def print_rpc_error(error: grpc.aio.AioRpcError) -> int:
    """Says why a call failed, as every salesflow command does; answers exit code 1."""
    print(f"salesflow: {error.code().name}: {error.details()}", file=sys.stderr)
    return 1


async def call_as(
    options, settings: Settings, service: str, stub_class, method: str, request, *, timeout=None
):
    """One unary call to a service as the command's caller; None after saying why it failed."""
    async with channel(settings.target(service), caller_from_options(options)) as opened:
        try:
            return await getattr(stub_class(opened), method)(
                request, timeout=timeout or RPC_TIMEOUT_SECONDS
            )
        except grpc.aio.AioRpcError as error:
            print_rpc_error(error)
            return None


def _fail(error: grpc.aio.AioRpcError) -> int:
    print_rpc_error(error)
    rejection = rejection_detail(error, pipeline_pb2.CompleteActionRejection)
    if rejection is not None:
        print(f"{rejection.action_key} is locked until:", file=sys.stderr)
        for unmet in rejection.unmet:
            print(
                f"  - {unmet.kind} {unmet.key}: {unmet.provided}/{unmet.required}  {unmet.message}",
                file=sys.stderr,
            )
            for rejected in unmet.rejected:
                print(
                    f"      {rejected.evidence_id} does not count: {rejected.reason}"
                    f" ({rejected.detail})",
                    file=sys.stderr,
                )
    return 1


def _pipeline_stub(settings: Settings, options):
    return channel(settings.target("pipeline"), caller_from_options(options))


async def _start(options, settings: Settings) -> int:
    request = pipeline_pb2.StartPipelineRequest(
        opportunity_id=options.opportunity_id,
        rep_id=options.rep,
        account=options.account,
        product=options.product,
        template_id=options.template,
    )
    async with _pipeline_stub(settings, options) as open_channel:
        stub = pipeline_pb2_grpc.PipelineServiceStub(open_channel)
        try:
            response = await stub.StartPipeline(request, timeout=RPC_TIMEOUT_SECONDS)
        except grpc.aio.AioRpcError as error:
            return _fail(error)
    verb = "already running" if response.already_running else "started"
    print(f"pipeline {response.workflow_id} {verb}")
    print_state(response.state)
    return 0


def _parse_answers(raw: list[str]) -> list[pipeline_pb2.Answer] | None:
    values: dict[str, list[str]] = {}
    for item in raw:
        key, separator, value = item.partition("=")
        if not separator or not key.strip():
            print(f"salesflow: --answer {item!r} is not KEY=VALUE", file=sys.stderr)
            return None
        values.setdefault(key.strip(), []).append(value)
    return [pipeline_pb2.Answer(key=key, values=given) for key, given in values.items()]


async def _complete(options, settings: Settings) -> int:
    answers = _parse_answers(options.answer)
    if answers is None:
        return 2
    request = pipeline_pb2.CompleteActionRequest(
        opportunity_id=options.opportunity_id,
        action_key=options.action_key,
        evidence_ids=options.evidence,
        answers=answers,
        note=options.note,
    )
    async with _pipeline_stub(settings, options) as open_channel:
        stub = pipeline_pb2_grpc.PipelineServiceStub(open_channel)
        try:
            response = await stub.CompleteAction(request, timeout=RPC_TIMEOUT_SECONDS)
        except grpc.aio.AioRpcError as error:
            return _fail(error)
    timing = "on time" if response.on_time else "late"
    print(f"{options.action_key} completed ({timing}, {response.points:+d} points)")
    if response.HasField("suggestion"):
        print_suggestion(response.suggestion)
    print_state(response.state)
    return 0


def _record(record: pipeline_pb2.StrategyRecord) -> str:
    accepted = "no decided outcome yet"
    if record.HasField("team_acceptance"):
        accepted = (
            f"accepted {record.team_accepted} of {record.team_decided} "
            f"({round(record.team_acceptance * 100)}%)"
        )
    return (
        f"{record.strategy}: you {record.rep_uses}, team {record.team_uses} uses, "
        f"{accepted} team-wide"
    )


def print_suggestion(suggestion: pipeline_pb2.StrategySuggestion) -> None:
    """The feedback after a completion: the sentences, then the figures behind them."""
    print(f"Suggestion: {suggestion.text}")
    print(f"建议：{suggestion.text_zh}")
    for record in suggestion.used:
        print(f"  used      {_record(record)}")
    for record in suggestion.use_more:
        print(f"  use more  {_record(record)}")


async def _show(options, settings: Settings) -> int:
    request = pipeline_pb2.GetPipelineRequest(opportunity_id=options.opportunity_id)
    return await _change(options, settings, "GetPipeline", request)


async def _reply(options, settings: Settings) -> int:
    request = pipeline_pb2.RecordCustomerReplyRequest(
        opportunity_id=options.opportunity_id, note=options.note
    )
    return await _change(options, settings, "RecordCustomerReply", request)


async def _pause(options, settings: Settings) -> int:
    request = pipeline_pb2.PauseActionRequest(
        opportunity_id=options.opportunity_id, action_key=options.action, reason=options.reason
    )
    return await _change(options, settings, "PauseAction", request)


async def _resume(options, settings: Settings) -> int:
    request = pipeline_pb2.ResumeActionRequest(
        opportunity_id=options.opportunity_id, action_key=options.action
    )
    return await _change(options, settings, "ResumeAction", request)


async def _resubmit(options, settings: Settings) -> int:
    request = pipeline_pb2.ResubmitActionRequest(
        opportunity_id=options.opportunity_id, action_key=options.action, note=options.note
    )
    return await _change(options, settings, "ResubmitAction", request)


async def _change(options, settings: Settings, method: str, request) -> int:
    """One call that answers the pipeline's state, which is printed."""
    async with _pipeline_stub(settings, options) as open_channel:
        stub = pipeline_pb2_grpc.PipelineServiceStub(open_channel)
        try:
            state = await getattr(stub, method)(request, timeout=RPC_TIMEOUT_SECONDS)
        except grpc.aio.AioRpcError as error:
            return _fail(error)
    print_state(state)
    return 0


async def _close(options, settings: Settings) -> int:
    request = pipeline_pb2.ClosePipelineRequest(
        opportunity_id=options.opportunity_id, reason=options.reason
    )
    return await _change(options, settings, "ClosePipeline", request)


async def _upload_parts(
    metadata: evidence_pb2.UploadMetadata, path: Path
) -> AsyncIterator[evidence_pb2.UploadRequest]:
    yield evidence_pb2.UploadRequest(metadata=metadata)
    with path.open("rb") as source:
        while chunk := source.read(UPLOAD_CHUNK_BYTES):
            yield evidence_pb2.UploadRequest(chunk=chunk)


async def _upload(options, settings: Settings) -> int:
    if not options.file.is_file():
        print(f"salesflow: {options.file} is not a readable file", file=sys.stderr)
        return 2
    metadata = evidence_pb2.UploadMetadata(
        opportunity_id=options.opportunity,
        action_key=options.action,
        kind=options.kind,
        filename=options.file.name,
    )
    caller = caller_from_options(options)
    async with channel(settings.target("evidence"), caller) as open_channel:
        stub = evidence_pb2_grpc.EvidenceServiceStub(open_channel)
        try:
            evidence = await stub.Upload(
                _upload_parts(metadata, options.file), timeout=RPC_TIMEOUT_SECONDS * 4
            )
        except grpc.aio.AioRpcError as error:
            return _fail(error)
    print(evidence.evidence_id)
    print(_describe_evidence(evidence), file=sys.stderr)
    return 0


async def _list_evidence(options, settings: Settings) -> int:
    caller = caller_from_options(options)
    async with channel(settings.target("evidence"), caller) as open_channel:
        stub = evidence_pb2_grpc.EvidenceServiceStub(open_channel)
        try:
            listing = await stub.ListEvidence(
                evidence_pb2.ListEvidenceRequest(
                    opportunity_id=options.opportunity_id, action_key=options.action
                ),
                timeout=RPC_TIMEOUT_SECONDS,
            )
        except grpc.aio.AioRpcError as error:
            return _fail(error)
    for evidence in listing.evidence:
        print(f"{evidence.evidence_id}  {_describe_evidence(evidence)}")
    return 0


def _describe_evidence(evidence: evidence_pb2.Evidence) -> str:
    captured = (
        evidence.captured_at.ToDatetime().isoformat() + "Z"
        if evidence.HasField("captured_at")
        else "no time"
    )
    if evidence.capture_offset_assumed:
        # The camera wrote no offset: the stored time assumes the company's zone.
        captured += " (offset assumed)"
    described = (
        f"{evidence.action_key}/{evidence.kind} {evidence.filename} {evidence.content_type} "
        f"{evidence.size_bytes} bytes, captured {captured}, uploaded by {evidence.uploaded_by}"
    )
    flags = []
    for flag in evidence.flags:
        if flag == "reused_elsewhere" and evidence.reused_from_opportunity_ids:
            earlier = ", ".join(evidence.reused_from_opportunity_ids)
            flag = f"{flag} (first recorded for {earlier})"
        flags.append(flag)
    if flags:
        described += f"; FLAGGED, never counts: {', '.join(flags)}"
    return described


def paused_so_far(action: pipeline_pb2.ActionState, *, now: datetime | None = None) -> float:
    """Seconds the action has been paused: its finished pauses and the one in force."""
    seconds = action.paused_seconds
    if action.paused and action.HasField("paused_since"):
        began = action.paused_since.ToDatetime(tzinfo=UTC)
        seconds += max(0.0, ((now or datetime.now(UTC)) - began).total_seconds())
    return seconds


def print_state(state: pipeline_pb2.PipelineState, *, now: datetime | None = None) -> None:
    print(f"{state.opportunity_id}  rep {state.rep_id} ({state.region})  outcome {state.outcome}")
    print(f"  template {state.template_id} v{state.template_version}")
    current = next((a for a in state.actions if a.key == state.current_action), None)
    if current is not None:
        since = current.started_at.ToDatetime().isoformat() + "Z"
        status = f"paused: {current.pause_reason}" if current.paused else "running"
        print(
            f"  at {current.key} since {since} ({status}; "
            f"paused so far {paused_so_far(current, now=now) / 3600:.2f} h)"
        )
    for action in state.actions:
        flag = " OVERDUE" if action.overdue else ""
        if action.returned:
            flag += f" RETURNED: {action.return_reason or 'no reason given'}"
        print(f"  {action.key:<32} {action.status:<9}{flag}")
    for deadline in state.deadlines:
        when = (
            deadline.at.ToDatetime().isoformat() + "Z"
            if deadline.HasField("at")
            else "held while paused"
        )
        fired = "  (fired)" if deadline.fired else ""
        print(f"  deadline {deadline.key:<23} {when}{fired}")
    for ticket in state.tickets:
        note = f" ({ticket.note})" if ticket.note else ""
        print(f"  ticket {ticket.ticket_key} ({ticket.department}): {ticket.status}{note}")

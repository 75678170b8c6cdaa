"""`salesflow pipeline pause` and `salesflow pipeline resume`, against a running stack.

salesflow pipeline pause OPPORTUNITY_ID --reason TEXT   stop the current action's clocks
salesflow pipeline resume OPPORTUNITY_ID                start them again
"""

from __future__ import annotations

import argparse
import sys

from salesflow.core.settings import Settings


def add_pause_commands(pipeline_commands: argparse._SubParsersAction) -> None:
    """Adds `pause` and `resume` to the `salesflow pipeline` command group."""
    pause = pipeline_commands.add_parser(
        "pause", help="pause the current action's clocks (e.g. waiting for approval)"
    )
    pause.add_argument("opportunity_id")
    pause.add_argument("--reason", required=True, help="why the clocks stop (recorded)")
    pause.add_argument("--action", default="", help="guard: the action expected to be current")
    pause.set_defaults(handler=_pause)

    resume = pipeline_commands.add_parser(
        "resume", help="resume a paused action; its deadlines move out by the paused time"
    )
    resume.add_argument("opportunity_id")
    resume.add_argument("--action", default="", help="guard: the action expected to be current")
    resume.set_defaults(handler=_resume)


async def _pause(options, settings: Settings) -> int:
    from salesflow.pipeline.v1 import pipeline_pb2

    request = pipeline_pb2.PauseActionRequest(
        opportunity_id=options.opportunity_id, action_key=options.action, reason=options.reason
    )
    return await _call(settings, "PauseAction", request)


async def _resume(options, settings: Settings) -> int:
    from salesflow.pipeline.v1 import pipeline_pb2

    request = pipeline_pb2.ResumeActionRequest(
        opportunity_id=options.opportunity_id, action_key=options.action
    )
    return await _call(settings, "ResumeAction", request)


async def _call(settings: Settings, method: str, request) -> int:
    import grpc

    from salesflow.core.caller import ADMIN_CALLER
    from salesflow.core.rpc import channel
    from salesflow.pipeline.v1 import pipeline_pb2_grpc

    async with channel(settings.target("pipeline"), ADMIN_CALLER) as pipeline_channel:
        stub = pipeline_pb2_grpc.PipelineServiceStub(pipeline_channel)
        try:
            state = await getattr(stub, method)(request, timeout=20)
        except grpc.aio.AioRpcError as error:
            print(f"salesflow: {error.code().name}: {error.details()}", file=sys.stderr)
            return 1
    print(_describe(state))
    return 0


def _describe(state) -> str:
    """The current action's pause state and deadlines, one per line."""
    current = next((a for a in state.actions if a.key == state.current_action), None)
    if current is None:
        return f"{state.opportunity_id}  outcome {state.outcome}"
    status = f"paused: {current.pause_reason}" if current.paused else "running"
    lines = [
        f"{state.opportunity_id}  at {current.key} ({status}; "
        f"paused so far {current.paused_seconds / 3600:.2f} h)"
    ]
    for deadline in state.deadlines:
        when = (
            deadline.at.ToDatetime().isoformat() + "Z"
            if deadline.HasField("at")
            else "held while paused"
        )
        lines.append(f"  {deadline.key:<20} {when}{'  (fired)' if deadline.fired else ''}")
    return "\n".join(lines)

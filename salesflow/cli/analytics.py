"""`salesflow analytics rebuild`: rebuilds the analytics read model.

From the stream by default (every analytics table emptied, the JetStream stream replayed
from its first retained event), or with --from-store from the events the read model stored.
Uses SALESFLOW_DATABASE_URL, SALESFLOW_NATS_URL and SALESFLOW_EVENT_PREFIX; the analytics
service may keep running meanwhile.

`salesflow analytics outcomes REP ACTION [--topic price] [-n 3]`: a rep's last outcomes of
an action type, from the running analytics service, as the caller of --as/--role/--regions.
"""

from __future__ import annotations

import asyncio
import sys

from salesflow.analytics.v1 import analytics_pb2, analytics_pb2_grpc
from salesflow.cli.pipelines import add_identity_options, call_as
from salesflow.core.settings import Settings, SettingsError

_RESULTS = {
    analytics_pb2.OUTCOME_RESULT_ACCEPTED: "accepted",
    analytics_pb2.OUTCOME_RESULT_REJECTED: "rejected",
    analytics_pb2.OUTCOME_RESULT_PENDING: "pending",
}


def register(commands) -> None:
    """Adds the `analytics` command group to the top-level parser."""
    analytics = commands.add_parser("analytics", help="the analytics read model")
    verbs = analytics.add_subparsers(dest="verb", required=True)
    rebuild = verbs.add_parser("rebuild", help="rebuild the read model from the events")
    rebuild.add_argument(
        "--from-store",
        action="store_true",
        help="fold again from the stored events instead of replaying the stream",
    )
    rebuild.set_defaults(handler=_rebuild)

    outcomes = verbs.add_parser("outcomes", help="a rep's last outcomes of an action type")
    outcomes.add_argument("rep")
    outcomes.add_argument("action", help="action key, e.g. objection_handling")
    outcomes.add_argument("--topic", default="", help="only answers mentioning it, e.g. price")
    outcomes.add_argument("-n", "--limit", type=int, default=3, help="how many (default 3)")
    outcomes.set_defaults(handler=_outcomes)
    add_identity_options(outcomes)


async def _rebuild(options, settings: Settings) -> int:
    from salesflow.core.db import create_engine, session_factory
    from salesflow.core.events import TRANSIENT_ERRORS, EventBus
    from salesflow.core.migrate import upgrade
    from services.analytics import rebuild
    from services.analytics.config import AnalyticsConfig

    try:
        config = AnalyticsConfig.from_env(timezone=settings.timezone)
    except SettingsError as error:
        print(f"salesflow: configuration error: {error}", file=sys.stderr)
        return 2
    await asyncio.to_thread(upgrade, settings.database_url)
    engine = create_engine(settings.database_url)
    sessions = session_factory(engine)
    try:
        if options.from_store:
            result = await rebuild.from_store(sessions, config)
        else:
            try:
                bus = await EventBus.connect(
                    settings.nats_url, settings.event_prefix, name="analytics-rebuild"
                )
            except TRANSIENT_ERRORS as error:
                print(
                    f"salesflow: cannot reach NATS at {settings.nats_url}: {error}", file=sys.stderr
                )
                return 1
            try:
                result = await rebuild.from_stream(bus, sessions, config)
            finally:
                await bus.close()
    finally:
        await engine.dispose()

    source = "stored events" if options.from_store else "the stream"
    print(
        f"analytics rebuilt from {source}: {result.pipelines} pipelines"
        + ("" if options.from_store else f", {result.events_read} events read")
    )
    return 0


async def _outcomes(options, settings: Settings) -> int:
    request = analytics_pb2.LastOutcomesRequest(
        rep_id=options.rep, action_key=options.action, topic=options.topic, limit=options.limit
    )
    found = await call_as(
        options,
        settings,
        "analytics",
        analytics_pb2_grpc.AnalyticsServiceStub,
        "LastOutcomes",
        request,
    )
    if found is None:
        return 1

    about = f" about {options.topic}" if options.topic else ""
    print(f"{options.rep}: last {len(found.outcomes)} {options.action} outcomes{about}")
    for outcome in found.outcomes:
        completed = outcome.completed_at.ToDatetime().strftime("%Y-%m-%d %H:%MZ")
        strategies = ", ".join(outcome.strategies) or "no strategies"
        print(
            f"  {completed}  {outcome.opportunity_id}  {_RESULTS.get(outcome.result, '-')} "
            f"({outcome.pipeline_outcome})  quality {outcome.quality:.0f}  {strategies}"
            + (f"  — {outcome.topic}" if outcome.topic else "")
        )
    return 0

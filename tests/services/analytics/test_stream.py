"""The analytics read model fed through a real nats-server: the durable consumer, a rebuild
from the stream (through the CLI too), and catching up after downtime."""

from __future__ import annotations

import asyncio

from salesflow.analytics.v1 import analytics_pb2 as pb
from salesflow.analytics.v1 import analytics_pb2_grpc
from salesflow.cli.main import main
from salesflow.core.events import ANALYTICS_CONSUMER
from salesflow.core.service import ServiceDeps
from salesflow.core.settings import Settings
from services.analytics import projection, rebuild
from services.analytics.server import serve
from tests.conftest import eventually
from tests.services.analytics.conftest import snapshot
from tests.services.analytics.scenario import NOW, WEEK2_START, hours
from tests.services.analytics.test_service import DIRECTOR, stamp


async def publish(bus, events) -> None:
    for event in events:
        await bus.publish(event)


async def start(db_sessions, event_bus, config):
    deps = ServiceDeps(settings=Settings(), sessions=db_sessions, bus=event_bus)
    service = await serve(deps, port=0, config=config, clock=lambda: NOW)

    async def caught_up() -> bool:
        return await event_bus.pending(ANALYTICS_CONSUMER) == 0

    await eventually(caught_up)
    return service


async def test_events_through_nats_match_a_rebuild_and_catch_up_after_downtime(
    db_sessions, clean, event_bus, scenario, config, open_channel
):
    pipelines = scenario.pipelines()
    later = pipelines.pop("P5").events
    first = [event for pipeline in pipelines.values() for event in pipeline.events]
    await projection.apply_events(db_sessions, first, config)
    applied_directly = await snapshot(db_sessions)
    await projection.clear(db_sessions, keep_events=False)

    await publish(event_bus, first)
    service = await start(db_sessions, event_bus, config)
    try:
        assert await snapshot(db_sessions) == applied_directly

        result = await rebuild.from_stream(event_bus, db_sessions, config)
        assert (result.events_read, result.events_applied, result.pipelines) == (
            len(first),
            len(first),
            9,
        )
        assert await snapshot(db_sessions) == applied_directly
    finally:
        await service.stop()

    # The service is down while P5 happens; its durable consumer resumes where it stopped.
    await publish(event_bus, later)
    service = await start(db_sessions, event_bus, config)
    try:
        stub = analytics_pb2_grpc.AnalyticsServiceStub(
            open_channel(f"127.0.0.1:{service.port}", DIRECTOR)
        )
        path = await stub.GrowthPath(
            pb.GrowthPathRequest(rep_id=scenario.ann, weeks=1, end=stamp(WEEK2_START + hours(30)))
        )
        (week,) = path.weeks
        assert (week.rep.due, week.rep.completion_rate) == (1, 1.0)
    finally:
        await service.stop()


async def test_the_cli_rebuilds_from_the_stream(
    db_sessions, clean, event_bus, nats_server, event_prefix, database_url, scenario, config,
    monkeypatch, capsys,
):  # fmt: skip
    events = scenario.events()
    await publish(event_bus, events)
    await projection.apply_events(db_sessions, events, config)
    expected = await snapshot(db_sessions)

    monkeypatch.setenv("SALESFLOW_DATABASE_URL", database_url)
    monkeypatch.setenv("SALESFLOW_NATS_URL", nats_server.url)
    monkeypatch.setenv("SALESFLOW_EVENT_PREFIX", event_prefix)

    assert await asyncio.to_thread(main, ["analytics", "rebuild"]) == 0
    assert capsys.readouterr().out.strip() == (
        f"analytics rebuilt from the stream: 10 pipelines, {len(events)} events read"
    )
    assert await snapshot(db_sessions) == expected

    assert await asyncio.to_thread(main, ["analytics", "rebuild", "--from-store"]) == 0
    assert "from stored events: 10 pipelines" in capsys.readouterr().out
    assert await snapshot(db_sessions) == expected

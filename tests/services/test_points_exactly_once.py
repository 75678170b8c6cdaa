"""Exactly once, proved on a real nats-server and real PostgreSQL: the same event published
twice, delivered to two consumers at once, and a consumer that dies between the database
commit and the acknowledgement."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace

import pytest
from sqlalchemy import func, select

from salesflow.core.events import POINTS_CONSUMER, event_headers, subject_for
from salesflow.core.service import ServiceDeps
from salesflow.core.settings import Settings
from services.points.ledger import PointsLedger
from services.points.models import LedgerEntry, PricedEvent
from services.points.server import ledger_consumer
from services.templates.store import TemplateStore
from services.templates.validation import check_template_text
from tests.conftest import eventually
from tests.services.points_events import ADMIN, T0, completed, overdue, started, unique

MILESTONE_TEMPLATE = """
id: {template_id}
name: Visits
actions:
  - key: site_visit
    name: Site visit
    name_zh: 现场拜访
    points:
      completion: 2
      milestones:
        - {{count: 5, per: month, points: 50}}
"""


class ConsumerCrash(BaseException):
    """Stands for the process dying: not an Exception, so the consumer neither acks nor
    naks; the batch stays unacknowledged until its ack_wait runs out."""


async def counts(db_sessions, rep: str) -> tuple[int, int, int]:
    """(entries, their sum, priced events) of a rep."""
    async with db_sessions() as session:
        entries, total = (
            await session.execute(
                select(func.count(), func.coalesce(func.sum(LedgerEntry.points), 0)).where(
                    LedgerEntry.rep_id == rep
                )
            )
        ).one()
        priced = await session.scalar(
            select(func.count()).where(PricedEvent.rep_id == rep, PricedEvent.status == "priced")
        )
    return int(entries), int(total), int(priced)


async def publish_again_beyond_the_window(bus, event) -> None:
    """A second copy JetStream stores (a publish retried after its duplicate window)."""
    headers = {**event_headers(event), "Nats-Msg-Id": f"{event.id}:{uuid.uuid4().hex}"}
    await bus.jetstream.publish(
        subject_for(bus.prefix, event.type), event.SerializeToString(), headers=headers
    )


async def visits_template(db_sessions) -> str:
    template_id = f"visits-{uuid.uuid4().hex[:8]}"
    checked = check_template_text(MILESTONE_TEMPLATE.format(template_id=template_id))
    assert checked.ok, checked.problems
    await TemplateStore(db_sessions).save(ADMIN, checked.template)
    return template_id


async def test_two_consumers_on_one_durable_and_every_event_twice(db_sessions, event_bus):
    template_id = await visits_template(db_sessions)
    rep, region = unique("Ada"), unique("East")
    opps = [unique("VIS") for _ in range(12)]
    events = []
    for number, opp in enumerate(opps):
        events.append(started(rep, region, opp=opp, template=template_id))
        events.append(completed(rep, region, "site_visit", opp=opp, at=T0.replace(day=2 + number)))
    events.append(overdue(rep, region, "site_visit", opp=opps[0], at=T0.replace(day=20)))
    for event in events:
        await event_bus.publish(event)
        await publish_again_beyond_the_window(event_bus, event)

    # Two service processes on the same durable, each with a ledger of its own, small
    # batches so their transactions interleave on the same rep.
    deps = ServiceDeps(settings=Settings(), sessions=db_sessions, bus=event_bus)
    consumers = []
    for _ in range(2):
        consumer = ledger_consumer(deps, PointsLedger(db_sessions))
        consumer._batch = 3
        consumers.append(consumer)
    await asyncio.gather(*(consumer.start() for consumer in consumers))
    try:

        async def drained():
            return await event_bus.pending(POINTS_CONSUMER) == 0

        await eventually(drained, timeout=60)
    finally:
        for consumer in consumers:
            await consumer.stop()

    assert all(consumer.processed > 0 for consumer in consumers)
    assert sum(consumer.processed for consumer in consumers) == 2 * len(events)
    # 12 visits at 2 points, the fifth visit in March once (+50), one penalty of -2 (the
    # template's default). Twelve visits are more than ten, but the milestone counts once
    # per month.
    assert await counts(db_sessions, rep) == (12 + 1 + 1, 12 * 2 + 50 - 2, 13)


async def test_concurrent_deliveries_of_one_batch_add_it_once(db_sessions):
    template_id = await visits_template(db_sessions)
    rep, region = unique("Bo"), unique("East")
    opps = [unique("VIS") for _ in range(5)]
    batch = [started(rep, region, opp=opp, template=template_id) for opp in opps] + [
        completed(rep, region, "site_visit", opp=opp, at=T0) for opp in opps
    ]
    ledgers = [PointsLedger(db_sessions) for _ in range(4)]

    added = await asyncio.gather(*(ledger.record_events(batch) for ledger in ledgers))

    assert sorted(added) == [0, 0, 0, 6]
    assert await counts(db_sessions, rep) == (6, 5 * 2 + 50, 5)


async def test_a_consumer_killed_between_commit_and_ack_adds_nothing_on_redelivery(
    db_sessions, event_bus
):
    rep, region, opp = unique("Cy"), unique("East"), unique("OPP")
    events = [
        started(rep, region, opp=opp),
        completed(rep, region, "appointment", opp=opp),
        completed(rep, region, "onsite_diagnosis", opp=opp),
        overdue(rep, region, "objection_handling", opp=opp),
    ]
    for event in events:
        await event_bus.publish(event)

    # A short ack_wait so the unacknowledged batch comes back within the test.
    spec = replace(POINTS_CONSUMER, ack_wait=2.0)
    deps = ServiceDeps(settings=Settings(), sessions=db_sessions, bus=event_bus)
    dying = PointsLedger(db_sessions)
    committed = asyncio.Event()

    async def crash() -> None:
        committed.set()
        raise ConsumerCrash

    dying.after_commit = crash
    first = ledger_consumer(deps, dying, spec)
    await first.start()
    await asyncio.wait_for(committed.wait(), 20)
    await asyncio.sleep(0.2)
    # Its task died with the batch committed and never acknowledged.
    assert first._task.done() and first.processed == 0
    assert await counts(db_sessions, rep) == (3, 8, 3)
    assert await event_bus.pending(spec) == len(events)
    with pytest.raises(ConsumerCrash):
        await first.stop()
    await first._subscription.unsubscribe()

    # The restarted worker receives the same batch again after ack_wait.
    restarted = PointsLedger(db_sessions)
    second = ledger_consumer(deps, restarted, spec)
    await second.start()
    try:

        async def acknowledged():
            return second.processed >= len(events) and await event_bus.pending(spec) == 0

        await eventually(acknowledged, timeout=30)
    finally:
        await second.stop()
    assert await counts(db_sessions, rep) == (3, 8, 3)


async def test_a_nats_server_killed_mid_stream_loses_and_doubles_nothing(
    db_sessions, event_bus, nats_server
):
    rep, region, opp = unique("Dee"), unique("East"), unique("OPP")
    actions = [f"step_{n}" for n in range(40)]
    deps = ServiceDeps(settings=Settings(), sessions=db_sessions, bus=event_bus)
    consumer = ledger_consumer(deps, PointsLedger(db_sessions))
    consumer._batch = 5
    await event_bus.publish(started(rep, region, opp=opp))
    for action in actions[:20]:
        await event_bus.publish(completed(rep, region, action, opp=opp))
    await consumer.start()
    try:
        await eventually(lambda: _some_priced(db_sessions, rep), timeout=20)
        # The server dies while batches are in flight, and comes back with its store.
        await nats_server.kill()
        await asyncio.sleep(0.5)
        await nats_server.start()
        for action in actions[20:]:
            await event_bus.publish(completed(rep, region, action, opp=opp))

        async def all_priced():
            return (await counts(db_sessions, rep))[2] == len(actions)

        await eventually(all_priced, timeout=60)
    finally:
        await consumer.stop()
    # Each step is an action the default template does not list: the event's 5 counts.
    assert await counts(db_sessions, rep) == (40, 200, 40)


async def _some_priced(db_sessions, rep: str) -> bool:
    return (await counts(db_sessions, rep))[2] > 0

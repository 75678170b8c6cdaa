"""Rebuilding the analytics read model: from the stream's start, or from the stored events.

`from_stream` empties every analytics table and replays the JetStream stream from its first
retained event through a consumer of its own, applying batches exactly as the service's
durable consumer does. The running service may keep consuming meanwhile: both apply through
the same serialised, id-keyed step, so whichever sees an event second changes nothing.
Figures read during a rebuild are partial.

Limitation: the stream keeps events for a year (its max_age); a rebuild from the stream
loses what it no longer holds. `from_store` folds again from the events the read model
stored itself, which it keeps without limit.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import api as js_api
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from salesflow.core.events import ANALYTICS_CONSUMER, EventBus, subject_for
from salesflow.events.v1 import events_pb2
from services.analytics import projection
from services.analytics.config import AnalyticsConfig

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RebuildResult:
    events_read: int
    events_applied: int
    pipelines: int


async def from_stream(
    bus: EventBus,
    sessions: async_sessionmaker[AsyncSession],
    config: AnalyticsConfig,
    *,
    batch: int = 500,
) -> RebuildResult:
    """Empties the read model and applies every event the stream retains, oldest first."""
    await projection.clear(sessions, keep_events=False)

    name = f"analytics-rebuild-{uuid.uuid4().hex[:10]}"
    await bus.jetstream.add_consumer(
        bus.stream,
        js_api.ConsumerConfig(
            name=name,
            description="analytics rebuild from the start of the stream",
            deliver_policy=js_api.DeliverPolicy.ALL,
            ack_policy=js_api.AckPolicy.EXPLICIT,
            filter_subjects=[
                subject_for(bus.prefix, event_type) for event_type in ANALYTICS_CONSUMER.event_types
            ],
            ack_wait=60.0,
            max_ack_pending=batch * 2,
            # Removed by the server if this process dies before deleting it.
            inactive_threshold=300.0,
        ),
    )
    subscription = await bus.jetstream.pull_subscribe_bind(consumer=name, stream=bus.stream)
    read = applied = 0
    try:
        while True:
            try:
                messages = await subscription.fetch(batch, timeout=1.0)
            except (NatsTimeoutError, TimeoutError):
                messages = []
            events = [event for event in map(_parse, messages) if event is not None]
            if events:
                applied += await projection.apply_events(sessions, events, config)
            for message in messages:
                await message.ack()
            read += len(messages)

            info = await bus.jetstream.consumer_info(bus.stream, name)
            if not info.num_pending and not info.num_ack_pending:
                break
    finally:
        await subscription.unsubscribe()
        await bus.jetstream.delete_consumer(bus.stream, name)

    pipelines = await projection.count_pipelines(sessions)
    logger.info("analytics rebuilt from stream events=%d applied=%d", read, applied)
    return RebuildResult(events_read=read, events_applied=applied, pipelines=pipelines)


async def from_store(
    sessions: async_sessionmaker[AsyncSession], config: AnalyticsConfig
) -> RebuildResult:
    """Folds every pipeline again from the events the read model stored."""
    pipelines = await projection.refold_all(sessions, config)
    return RebuildResult(events_read=0, events_applied=0, pipelines=pipelines)


def _parse(message) -> events_pb2.Event | None:
    event = events_pb2.Event()
    try:
        event.ParseFromString(message.data)
    except Exception:
        logger.error("rebuild skips an unreadable message subject=%s", message.subject)
        return None
    return event if event.id else None

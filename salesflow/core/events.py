"""Events on NATS JetStream: the stream and consumers declared in one place, publishing with
de-duplication, and durable explicit-ack consumers that hand batches to a service.

Subjects are `<prefix>.events.<event type>`, e.g. `salesflow.events.action.completed`.
Every message carries the CloudEvents attributes as headers (ce-id, ce-source, ce-type,
ce-time, ce-specversion) and `Nats-Msg-Id` = the event id, so JetStream drops a retried
publish inside its duplicate window and consumers drop it by id after that.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import nats
import nats.errors
from nats.aio.client import Client as NatsClient
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js import api as js_api
from nats.js.errors import NotFoundError

from salesflow.events.v1 import events_pb2

logger = logging.getLogger(__name__)

# Errors that mean "the server is briefly unreachable", not "this request is wrong".
TRANSIENT_ERRORS = (
    nats.errors.ConnectionClosedError,
    nats.errors.ConnectionReconnectingError,
    nats.errors.NoRespondersError,
    nats.errors.TimeoutError,
    nats.errors.StaleConnectionError,
    TimeoutError,
    OSError,
)

EVENT_CONTENT_TYPE = "application/protobuf; messageType=salesflow.events.v1.Event"


@dataclass(frozen=True)
class ConsumerSpec:
    """A durable consumer: its name and the event types it receives."""

    durable: str
    event_types: tuple[str, ...]
    description: str
    # Seconds a delivered batch may stay unacknowledged before it is delivered again.
    ack_wait: float = 30.0


# Every consumer in the system, declared once; services refer to them by name.
POINTS_CONSUMER = ConsumerSpec(
    "points-ledger",
    # The pipeline's template version (started, changed) decides the rules that price it.
    ("pipeline.started", "pipeline.template_changed", "action.completed", "action.overdue"),
    "points ledger entries",
)
TICKETING_CONSUMER = ConsumerSpec(
    "ticketing-requests", ("ticket.requested",), "tickets for legal and logistics"
)
# A consumer of its own rather than more subjects on ticketing-requests: a durable consumer
# stored on a server keeps its subjects, and a changed declaration would be refused.
TICKETING_UPDATES_CONSUMER = ConsumerSpec(
    "ticketing-updates",
    ("ticket.resubmitted", "ticket.escalated", "pipeline.closed"),
    "resubmissions, escalations and withdrawals of tickets",
)
PIPELINE_PROJECTION_CONSUMER = ConsumerSpec(
    "pipeline-projection",
    (
        "pipeline.started",
        "action.started",
        "action.completed",
        "action.overdue",
        "escalation.raised",
        "reminder.raised",
        "customer.replied",
        "ticket.changed",
        "pipeline.template_changed",
        "pipeline.closed",
    ),
    "the pipeline list read model",
)
NOTIFICATIONS_CONSUMER = ConsumerSpec(
    "notifications-outbox",
    (
        "escalation.raised",
        "reminder.raised",
        "action.overdue",
        "action.completed",
        "ticket.requested",
        "ticket.changed",
        "ticket.escalated",
    ),
    "notices written to the notification outbox",
)

ANALYTICS_CONSUMER = ConsumerSpec(
    "analytics-projection",
    (
        "pipeline.started",
        "action.started",
        "action.completed",
        "action.overdue",
        "action.resumed",
        "escalation.raised",
        "ticket.requested",
        "ticket.changed",
        "pipeline.closed",
    ),
    "the analytics read model",
)

CONSUMERS = (
    POINTS_CONSUMER,
    TICKETING_CONSUMER,
    TICKETING_UPDATES_CONSUMER,
    PIPELINE_PROJECTION_CONSUMER,
    NOTIFICATIONS_CONSUMER,
    ANALYTICS_CONSUMER,
)


def stream_name(prefix: str) -> str:
    return prefix.upper().replace("-", "_") + "_EVENTS"


def subject_for(prefix: str, event_type: str) -> str:
    return f"{prefix}.events.{event_type}"


def stream_config(prefix: str) -> js_api.StreamConfig:
    return js_api.StreamConfig(
        name=stream_name(prefix),
        subjects=[f"{prefix}.events.>"],
        storage=js_api.StorageType.FILE,
        retention=js_api.RetentionPolicy.LIMITS,
        # Retries of a publish arrive within seconds; consumers dedupe by id beyond this.
        duplicate_window=120.0,
        max_age=365 * 24 * 3600.0,
    )


def consumer_config(prefix: str, spec: ConsumerSpec) -> js_api.ConsumerConfig:
    return js_api.ConsumerConfig(
        durable_name=spec.durable,
        description=spec.description,
        ack_policy=js_api.AckPolicy.EXPLICIT,
        deliver_policy=js_api.DeliverPolicy.ALL,
        filter_subjects=[subject_for(prefix, event_type) for event_type in spec.event_types],
        ack_wait=spec.ack_wait,
        max_deliver=-1,
        max_ack_pending=2048,
    )


def _subjects(config: js_api.ConsumerConfig) -> list[str]:
    return sorted(config.filter_subjects or [config.filter_subject or ""])


class ConsumerConfigConflict(RuntimeError):
    """The consumer stored on the server was declared differently from the code."""


def event_headers(event: events_pb2.Event) -> dict[str, str]:
    return {
        "Nats-Msg-Id": event.id,
        "ce-specversion": "1.0",
        "ce-id": event.id,
        "ce-source": event.source,
        "ce-type": f"salesflow.{event.type}",
        "ce-time": event.time.ToDatetime(tzinfo=UTC).isoformat(),
        "ce-subject": event.opportunity_id,
        "content-type": EVENT_CONTENT_TYPE,
        **({"traceparent": event.traceparent} if event.traceparent else {}),
    }


class EventBus:
    """One NATS connection with JetStream, the stream ensured on connect."""

    def __init__(self, nats_client: NatsClient, jetstream: JetStreamContext, prefix: str):
        self.nats = nats_client
        self.jetstream = jetstream
        self.prefix = prefix
        self.stream = stream_name(prefix)

    @classmethod
    async def connect(cls, url: str, prefix: str, *, name: str = "salesflow") -> EventBus:
        async def on_error(error: Exception) -> None:
            # One line, not a traceback: reconnecting is routine and handled.
            logger.warning("nats connection=%s: %s: %s", name, type(error).__name__, error)

        async def on_reconnected() -> None:
            logger.info("nats connection=%s reconnected", name)

        client = await nats.connect(
            url,
            name=name,
            max_reconnect_attempts=-1,
            reconnect_time_wait=0.5,
            connect_timeout=5,
            error_cb=on_error,
            reconnected_cb=on_reconnected,
        )
        bus = cls(client, client.jetstream(timeout=10), prefix)
        await bus.ensure_stream()
        return bus

    async def ensure_stream(self) -> None:
        config = stream_config(self.prefix)
        try:
            await self.jetstream.stream_info(config.name)
            await self.jetstream.update_stream(config)
        except NotFoundError:
            await self.jetstream.add_stream(config)

    async def ensure_consumer(self, spec: ConsumerSpec) -> None:
        """Creates the durable consumer, or brings the stored one in line with the code.

        A changed event-type list is a normal upgrade (a service learns a new event): the
        consumer's filter is updated in place and keeps its position, so it receives the new
        types from now on. A changed acknowledgement policy cannot be updated in place and
        would make a consumer silently wrong: that raises ConsumerConfigConflict.
        """
        wanted = consumer_config(self.prefix, spec)
        try:
            info = await self.jetstream.consumer_info(self.stream, spec.durable)
        except NotFoundError:
            await self.jetstream.add_consumer(self.stream, wanted)
            return
        stored = info.config
        if stored.ack_policy != wanted.ack_policy:
            raise ConsumerConfigConflict(
                f"consumer {spec.durable} on {self.stream} is stored with ack "
                f"{stored.ack_policy}; the code declares {wanted.ack_policy}"
            )
        stored_subjects = _subjects(stored)
        if stored_subjects != _subjects(wanted):
            logger.warning(
                "consumer %s filter updated from %s to %s",
                spec.durable,
                stored_subjects,
                _subjects(wanted),
            )
            try:
                # Creating a durable that exists updates it (NATS 2.10+), keeping its
                # delivered and acknowledged position.
                await self.jetstream.add_consumer(self.stream, wanted)
            except nats.js.errors.Error as error:
                raise ConsumerConfigConflict(
                    f"consumer {spec.durable} on {self.stream} is stored with subjects "
                    f"{stored_subjects} and could not take {wanted.filter_subjects}: {error}"
                ) from error

    async def publish(self, event: events_pb2.Event, *, give_up_after: float = 15.0) -> int:
        """Publishes one event; returns its stream sequence (the first one, if a duplicate).

        While the server is restarting or the connection is re-established, the publish is
        retried with backoff (JetStream drops the duplicate if an earlier try got through);
        after give_up_after seconds the last error is raised.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + give_up_after
        pause = 0.1
        while True:
            try:
                ack = await self.jetstream.publish(
                    subject_for(self.prefix, event.type),
                    event.SerializeToString(),
                    headers=event_headers(event),
                )
                break
            except TRANSIENT_ERRORS as error:
                if loop.time() + pause > deadline:
                    raise
                logger.warning("publish of event id=%s failed (%s); retrying", event.id, error)
                await asyncio.sleep(pause)
                pause = min(pause * 2, 2.0)
        if ack.duplicate:
            logger.debug("event id=%s type=%s was a duplicate publish", event.id, event.type)
        return ack.seq

    async def pending(self, spec: ConsumerSpec) -> int:
        """Messages the consumer has not yet acknowledged."""
        info = await self.jetstream.consumer_info(self.stream, spec.durable)
        return int(info.num_pending or 0) + int(info.num_ack_pending or 0)

    async def close(self) -> None:
        """Drains and closes the connection; a connection already broken is just closed."""
        if self.nats.is_closed:
            return
        try:
            await self.nats.drain()
        except Exception:
            logger.warning("event bus could not drain; closing it", exc_info=True)
            await self.nats.close()


BatchHandler = Callable[[Sequence[events_pb2.Event]], Awaitable[None]]


class EventConsumer:
    """Pulls batches for one durable consumer and hands them to a handler.

    A batch is acknowledged only after the handler returns, so a crash between the
    handler's commit and the ack redelivers the batch: handlers must be idempotent by
    event id (they are: every write is keyed on it).
    """

    def __init__(
        self, bus: EventBus, spec: ConsumerSpec, handler: BatchHandler, *, batch: int = 256
    ):
        self._bus = bus
        self._spec = spec
        self._handler = handler
        self._batch = batch
        self._task: asyncio.Task[None] | None = None
        self._subscription: JetStreamContext.PullSubscription | None = None
        self._stopping = asyncio.Event()
        self.healthy = False
        self.processed = 0

    async def start(self) -> None:
        await self._bus.ensure_consumer(self._spec)
        self._subscription = await self._bus.jetstream.pull_subscribe_bind(
            self._spec.durable, stream=self._bus.stream
        )
        self.healthy = True
        self._task = asyncio.create_task(self._run(), name=f"consumer-{self._spec.durable}")

    async def stop(self) -> None:
        self._stopping.set()
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        if self._subscription is not None:
            # The server answers the abandoned pull request when it expires; unread, that
            # answer makes draining the connection wait out its whole timeout (30 s).
            try:
                await self._subscription.unsubscribe()
            except Exception:
                logger.debug("consumer=%s unsubscribe failed", self._spec.durable, exc_info=True)
            self._subscription = None
        self.healthy = False

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                messages = await self._subscription.fetch(self._batch, timeout=1.0)
            except (NatsTimeoutError, TimeoutError):
                # Nothing arrived within the pull's expiry (or the loop was too busy to
                # read the answer in time): both mean "pull again".
                continue
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.warning(
                    "consumer=%s fetch failed; retrying", self._spec.durable, exc_info=True
                )
                await asyncio.sleep(0.5)
                continue
            await self._handle(messages)

    async def _handle(self, messages: list) -> None:
        events, good = [], []
        for message in messages:
            try:
                event = events_pb2.Event()
                event.ParseFromString(message.data)
                if not event.id:
                    raise ValueError("event without id")
            except Exception:
                # A message we cannot read will never become readable: drop it loudly.
                logger.error(
                    "consumer=%s dropping unreadable message subject=%s",
                    self._spec.durable,
                    message.subject,
                )
                await message.term()
                continue
            events.append(event)
            good.append(message)
        if not events:
            return

        try:
            await self._handler(events)
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception(
                "consumer=%s handler failed for %d events; redelivering",
                self._spec.durable,
                len(events),
            )
            for message in good:
                await message.nak(delay=1.0)
            return

        for message in good:
            await message.ack()
        self.processed += len(events)


def new_event(
    *,
    event_id: str,
    event_type: str,
    source: str,
    time: datetime,
    opportunity_id: str,
    rep_id: str = "",
    region: str = "",
) -> events_pb2.Event:
    """An envelope with its attributes set; the caller fills the payload."""
    event = events_pb2.Event(
        id=event_id,
        type=event_type,
        source=source,
        opportunity_id=opportunity_id,
        rep_id=rep_id,
        region=region,
    )
    event.time.FromDatetime(time.astimezone(UTC))
    return event

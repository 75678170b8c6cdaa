"""The dispatcher: delivers due outbox rows through their channels, and retries.

Each cycle claims due rows, groups them by channel and target (one robot, one mailbox),
and works through the groups side by side, each group one message at a time:

- a notice longer than the channel allows goes as parts "(1/n)" ... "(n/n)", the count of
  parts sent kept on the row so a retry sends only the rest;
- when a robot has more notices waiting than its rate limit lets through now, those that
  fit are merged into digests ("【汇总】N 条通知 / Digest: N notices"); whatever still does
  not fit waits, unsent and without an attempt counted, until the robot has room;
- a failed attempt is retried after an exponential backoff with jitter; after
  `max_attempts` failures, or at once on a permanent refusal, the row is `dead`: kept,
  listed, and sent again only when an admin asks. Nothing is dropped.

At-least-once boundary: a row is marked delivered right after its message went out, in its
own transaction. A dispatcher that dies between the two leaves the row `sending`; when its
lease ends another cycle sends it again. So a crash resends at most the one message each
target was being sent at that moment (a digest counts as one message). Robots offer no
de-duplication; e-mail carries a Message-ID derived from the outbox key, so mail clients
drop the copy. A graceful stop finishes the messages in flight and resends nothing.

Limitation: the rate limiter lives in the dispatcher's process. Two dispatchers sending to
the same robot can together exceed its limit; the robot then answers "too fast" (45009,
130101, 11232) and the rows wait, as above, without counting a failure.
"""

from __future__ import annotations

import asyncio
import logging
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from salesflow.core.db import utcnow
from services.notifications import outbox
from services.notifications.channels import (
    Channel,
    LogChannel,
    OutgoingMessage,
    PermanentError,
    RetryLater,
    TransientError,
)
from services.notifications.limits import Clock, pack, split_message
from services.notifications.models import Notification

logger = logging.getLogger(__name__)

DIGEST_SEPARATOR = "\n\n---\n\n"


@dataclass(frozen=True)
class DispatchPolicy:
    """How the dispatcher claims, paces and retries."""

    batch_size: int = 200
    # How long a claim holds; longer than the slowest group of sends in one cycle.
    lease: timedelta = timedelta(minutes=5)
    max_attempts: int = 12
    first_retry: timedelta = timedelta(seconds=15)
    max_retry: timedelta = timedelta(hours=1)
    # Pause between cycles when nothing was due (a new notice wakes the loop at once).
    idle_seconds: float = 1.0
    # Targets sent to at the same time.
    concurrency: int = 4


@dataclass
class DispatchReport:
    """What one cycle did."""

    claimed: int = 0
    delivered: int = 0
    failed: int = 0
    dead: int = 0
    # Rows put back unsent (a rate limit, a stop, a failure just before them).
    deferred: int = 0
    # Messages that went out (parts and digests each count one).
    messages: int = 0


def retry_delay(attempts: int, policy: DispatchPolicy, rng: random.Random) -> timedelta:
    """Exponential backoff with "equal jitter": half of the delay fixed, half random."""
    delay = min(policy.max_retry, policy.first_retry * 2 ** max(0, attempts - 1))
    return delay / 2 + delay / 2 * rng.random()


def digest_header(count: int) -> str:
    return f"**【汇总】{count} 条通知 / Digest: {count} notices**\n\n"


class Dispatcher:
    """Delivers the outbox; run it with start()/stop(), or call run_once() directly."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        channels: dict[str, Channel],
        *,
        policy: DispatchPolicy | None = None,
        clock: Clock = utcnow,
        rng: random.Random | None = None,
        name: str | None = None,
    ) -> None:
        self._sessions = sessions
        self._channels = channels
        self._policy = policy or DispatchPolicy()
        self._clock = clock
        self._rng = rng or random.Random()
        self.name = name or f"dispatcher-{uuid.uuid4().hex[:8]}"
        self._wakeup = asyncio.Event()
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    # ---- running -------------------------------------------------------------------------

    async def start(self) -> None:
        self._stopping.clear()
        self._task = asyncio.create_task(self._run(), name=self.name)
        logger.info("dispatcher=%s started channels=%s", self.name, sorted(self._channels))

    def wake(self) -> None:
        """New rows were written: look now instead of after the idle pause."""
        self._wakeup.set()

    async def stop(self) -> None:
        """Finishes the messages being sent, gives the other claimed rows back, and stops."""
        self._stopping.set()
        self._wakeup.set()
        if self._task is not None:
            await self._task
            self._task = None
        logger.info("dispatcher=%s stopped", self.name)

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                report = await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception:
                # The database may be restarting; claimed rows wait for their lease.
                logger.exception("dispatcher=%s cycle failed; trying again", self.name)
                report = DispatchReport()
            if report.claimed < self._policy.batch_size:
                await self._idle()

    async def _idle(self) -> None:
        try:
            await asyncio.wait_for(self._wakeup.wait(), timeout=self._policy.idle_seconds)
        except TimeoutError:
            pass
        self._wakeup.clear()

    # ---- one cycle -----------------------------------------------------------------------

    async def run_once(self) -> DispatchReport:
        """Claims the due rows and delivers what can go now."""
        report = DispatchReport()
        rows = await outbox.claim_due(
            self._sessions,
            owner=self.name,
            now=self._clock(),
            lease=self._policy.lease,
            limit=self._policy.batch_size,
        )
        report.claimed = len(rows)
        if not rows:
            return report

        groups: dict[tuple[str, str], list[Notification]] = {}
        for row in rows:
            groups.setdefault((row.channel, row.target), []).append(row)
        limit = asyncio.Semaphore(self._policy.concurrency)

        async def deliver(key: tuple[str, str], group: list[Notification]) -> None:
            async with limit:
                await self._deliver_group(key[0], key[1], group, report)

        await asyncio.gather(*(deliver(key, group) for key, group in groups.items()))
        logger.debug("dispatcher=%s cycle %s", self.name, report)
        return report

    async def _deliver_group(
        self, channel_name: str, target: str, rows: list[Notification], report: DispatchReport
    ) -> None:
        """Sends one target's rows in order; stops at the first rate limit or failure."""
        channel = self._channels.get(channel_name)
        if channel is None:
            error = PermanentError(f"channel {channel_name} is not configured on this service")
            for row in rows:
                await self._record_failure(row, error, report)
            return

        units = self._units(channel, target, rows)
        delivered_unmarked: list[Notification] = []
        for position, unit in enumerate(units):
            remaining = [row for later in units[position:] for row in later]
            if self._stopping.is_set():
                await self._release(remaining, self._clock(), "", report)
                break
            try:
                await self._send_unit(channel, unit, report)
            except RetryLater as wait:
                await self._release(remaining, wait.at, str(wait), report)
                break
            except PermanentError as error:
                for row in unit:
                    await self._record_failure(row, error, report)
                continue
            except Exception as error:
                if not isinstance(error, TransientError):
                    logger.exception("dispatcher=%s unexpected error from %s", self.name, channel)
                retry_at = await self._record_failure(unit[0], error, report, rest=unit[1:])
                # The target is failing: what follows waits for the same retry, uncounted.
                later = remaining[len(unit) :]
                await self._release(later, retry_at or self._clock(), "", report)
                break

            if isinstance(channel, LogChannel):
                # A log line written twice harms nobody: mark the log's rows in one go.
                delivered_unmarked += unit
            else:
                await outbox.mark_delivered(
                    self._sessions, unit, owner=self.name, now=self._clock()
                )
            report.delivered += len(unit)
        if delivered_unmarked:
            await outbox.mark_delivered(
                self._sessions, delivered_unmarked, owner=self.name, now=self._clock()
            )

    def _units(self, channel: Channel, target: str, rows: list[Notification]):
        """The messages to send: one per row, or digests when the target is short of room."""
        free = channel.free_slots(target)
        if free is None or free == 0 or len(rows) <= free or channel.content_limit is None:
            return [[row] for row in rows]

        # Room for the largest header a digest of this group can have.
        room = channel.content_limit - channel.cost(digest_header(len(rows)))
        fresh = [row for row in rows if row.parts_sent == 0]
        groups = pack(
            (row.body for row in fresh), room, separator=DIGEST_SEPARATOR, cost=channel.cost
        )
        units = [[fresh[index] for index in group] for group in groups]
        packed = {row.id for unit in units for row in unit}
        units += [[row] for row in rows if row.id not in packed]
        logger.info(
            "dispatcher=%s target=%s/%s has %d notices and room for %d: %d messages",
            self.name,
            channel.name,
            target,
            len(rows),
            free,
            len(units),
        )
        return units

    async def _send_unit(
        self, channel: Channel, unit: list[Notification], report: DispatchReport
    ) -> None:
        if len(unit) > 1:
            first = unit[0]
            body = digest_header(len(unit)) + DIGEST_SEPARATOR.join(row.body for row in unit)
            await channel.send(
                OutgoingMessage(
                    key=f"digest:{first.key}+{len(unit) - 1}",
                    target=first.target,
                    subject=f"【汇总】{len(unit)} 条通知 / Digest: {len(unit)} notices",
                    body=body,
                    created_at=first.created_at,
                )
            )
            report.messages += 1
            return

        [row] = unit
        parts = [row.body]
        if channel.content_limit is not None:
            parts = split_message(row.body, channel.content_limit, cost=channel.cost)
        for index in range(row.parts_sent, len(parts)):
            await channel.send(
                OutgoingMessage(
                    key=row.key if len(parts) == 1 else f"{row.key}#{index + 1}",
                    target=row.target,
                    subject=row.subject,
                    body=parts[index],
                    created_at=row.created_at,
                )
            )
            report.messages += 1
            if index + 1 < len(parts):
                await outbox.record_parts_sent(
                    self._sessions, row, owner=self.name, parts=index + 1
                )

    async def _record_failure(
        self,
        row: Notification,
        error: Exception,
        report: DispatchReport,
        *,
        rest: Sequence[Notification] = (),
    ) -> datetime | None:
        """Counts a failed attempt for the row (and the rest of its digest); returns when
        it is retried, or None when it is dead."""
        attempts = row.attempts + 1
        retry_at = None
        if not isinstance(error, PermanentError) and attempts < self._policy.max_attempts:
            retry_at = self._clock() + retry_delay(attempts, self._policy, self._rng)
        text = f"{type(error).__name__}: {error}"

        for each in (row, *rest):
            status = await outbox.mark_failed(
                self._sessions, each, owner=self.name, error=text, retry_at=retry_at
            )
            if retry_at is None:
                report.dead += 1
            else:
                report.failed += 1
            logger.warning(
                "notification id=%s channel=%s target=%s attempt=%d %s: %s",
                each.id,
                each.channel,
                each.target,
                each.attempts + 1,
                status,
                text,
            )
        return retry_at

    async def _release(
        self, rows: list[Notification], at: datetime, note: str, report: DispatchReport
    ) -> None:
        await outbox.release(self._sessions, rows, owner=self.name, at=at, note=note)
        report.deferred += len(rows)

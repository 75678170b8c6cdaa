"""The pipeline read model: the `pipelines` table kept up to date from pipeline events.

Each event is applied once (its id is recorded with the change in one transaction), so a
redelivered batch changes nothing, and the table can be rebuilt by replaying the stream.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from salesflow.core.errors import InvalidArgument
from salesflow.core.wire import bounded_limit
from salesflow.events.v1 import events_pb2
from services.pipeline.models import PipelineRecord, ProjectedEvent
from workflows.pipeline.types import workflow_id_for

logger = logging.getLogger(__name__)

OUTCOMES = ("open", "won", "lost")
MAX_PAGE_SIZE = 500


async def apply_events(
    sessions: async_sessionmaker[AsyncSession], events: Sequence[events_pb2.Event]
) -> int:
    """Applies a batch in one transaction; returns how many events were new."""
    async with sessions() as session, session.begin():
        ids = [event.id for event in events]
        seen = set(
            await session.scalars(
                select(ProjectedEvent.event_id).where(ProjectedEvent.event_id.in_(ids))
            )
        )
        opportunity_ids = {event.opportunity_id for event in events}
        records = {
            record.opportunity_id: record
            for record in await session.scalars(
                select(PipelineRecord).where(PipelineRecord.opportunity_id.in_(opportunity_ids))
            )
        }
        applied = 0
        for event in events:
            if event.id in seen:
                continue
            seen.add(event.id)
            record = records.get(event.opportunity_id)
            if record is None:
                record = records[event.opportunity_id] = _new_record(session, event)
            _apply(record, event)
            session.add(
                ProjectedEvent(
                    event_id=event.id,
                    opportunity_id=event.opportunity_id,
                    event_type=event.type,
                    occurred_at=event.time.ToDatetime(tzinfo=UTC),
                )
            )
            applied += 1
    return applied


def _new_record(session: AsyncSession, event: events_pb2.Event) -> PipelineRecord:
    # Events of one pipeline can reach us out of order; the first one creates the row.
    record = PipelineRecord(
        opportunity_id=event.opportunity_id,
        workflow_id=workflow_id_for(event.opportunity_id),
        rep_id=event.rep_id,
        manager_id="",
        region=event.region,
        account="",
        product="",
        template_id="",
        template_version=0,
        outcome="open",
        current_action="",
        current_position=-1,
        started_at=event.time.ToDatetime(tzinfo=UTC),
        actions_completed=0,
        overdue_actions=0,
        escalations=0,
        reminders=0,
    )
    session.add(record)
    return record


def _apply(record: PipelineRecord, event: events_pb2.Event) -> None:
    at = event.time.ToDatetime(tzinfo=UTC)
    kind = event.WhichOneof("payload")
    if kind == "pipeline_started":
        started = event.pipeline_started
        record.manager_id = started.manager_id
        record.account = started.account
        record.product = started.product
        record.template_id = started.template_id
        record.template_version = started.template_version
        record.started_at = at
    elif kind == "action_started":
        if record.outcome == "open" and event.action_started.position > record.current_position:
            record.current_action = event.action_started.action_key
            record.current_position = event.action_started.position
            record.current_since = at
    elif kind == "action_completed":
        record.actions_completed += 1
    elif kind == "action_overdue":
        record.overdue_actions += 1
    elif kind == "escalation_raised":
        record.escalations += 1
    elif kind == "reminder_raised":
        record.reminders += 1
    elif kind == "pipeline_template_changed":
        changed = event.pipeline_template_changed
        record.template_version = changed.to_version
        # Positions are the new version's from now on; the current action may have moved.
        if record.outcome == "open" and changed.current_action == record.current_action:
            record.current_position = changed.current_position
    elif kind == "pipeline_closed":
        record.outcome = event.pipeline_closed.outcome
        record.closed_at = at
        record.current_action = ""
        record.current_since = None


async def list_pipelines(
    sessions: async_sessionmaker[AsyncSession],
    *,
    rep_id: str = "",
    regions: Sequence[str] | None = None,
    current_action: str = "",
    outcome: str = "",
    page_size: int = 100,
    page_token: str = "",
) -> tuple[list[PipelineRecord], str]:
    """Pipelines matching the filters, ordered by opportunity id; returns the next token."""
    if outcome and outcome not in OUTCOMES:
        raise InvalidArgument("outcome", f"must be one of {', '.join(OUTCOMES)}")
    page_size = bounded_limit(page_size, default=100, maximum=MAX_PAGE_SIZE, field="page_size")

    query = select(PipelineRecord).order_by(PipelineRecord.opportunity_id).limit(page_size + 1)
    if rep_id:
        query = query.where(PipelineRecord.rep_id == rep_id)
    if regions is not None:
        query = query.where(PipelineRecord.region.in_(list(regions)))
    if current_action:
        query = query.where(PipelineRecord.current_action == current_action)
    if outcome:
        query = query.where(PipelineRecord.outcome == outcome)
    if page_token:
        query = query.where(PipelineRecord.opportunity_id > page_token)

    async with sessions() as session:
        rows = list(await session.scalars(query))
    next_token = rows[page_size - 1].opportunity_id if len(rows) > page_size else ""
    return rows[:page_size], next_token

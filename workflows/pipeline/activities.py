"""Activities of the pipeline workflow: the only place it reaches outside itself.

The workflow decides what happened; these publish it. Each fact carries an id fixed by the
workflow, so a retried publish is dropped by JetStream and by every consumer.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from google.protobuf import json_format
from temporalio import activity

from salesflow.core.events import EventBus, new_event

logger = logging.getLogger(__name__)

EVENT_SOURCE = "salesflow/workflows/pipeline"


@dataclass
class PipelineFact:
    """One thing that happened in a pipeline, as the workflow saw it."""

    event_id: str
    event_type: str
    time: datetime
    opportunity_id: str
    rep_id: str
    region: str
    payload: dict[str, Any] = field(default_factory=dict)


def fact_to_event(fact: PipelineFact):
    """The protobuf envelope for a fact; the payload field is named after the event type."""
    event = new_event(
        event_id=fact.event_id,
        event_type=fact.event_type,
        source=EVENT_SOURCE,
        time=fact.time,
        opportunity_id=fact.opportunity_id,
        rep_id=fact.rep_id,
        region=fact.region,
    )
    payload_field = fact.event_type.replace(".", "_")
    json_format.ParseDict(fact.payload, getattr(event, payload_field))
    return event


class PipelineActivities:
    def __init__(self, bus: EventBus) -> None:
        self._bus = bus

    @activity.defn(name="publish_pipeline_facts")
    async def publish_facts(self, facts: list[PipelineFact]) -> int:
        """Publishes facts on NATS in order; returns the last stream sequence.

        A retry publishes the same ids again, which JetStream and the consumers drop.
        """
        sequence = 0
        for fact in facts:
            sequence = await self._bus.publish(fact_to_event(fact))
            logger.debug(
                "published event id=%s type=%s seq=%s", fact.event_id, fact.event_type, sequence
            )
        return sequence

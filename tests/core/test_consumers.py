"""Durable consumers as declared in code: created, upgraded in place, or refused loudly."""

from __future__ import annotations

from dataclasses import replace

import pytest
from nats.js import api as js_api

from salesflow.core.events import (
    ConsumerConfigConflict,
    ConsumerSpec,
    consumer_config,
    subject_for,
)

OLD = ConsumerSpec("reader", ("action.completed",), "a reader of completions")
NEW = replace(OLD, event_types=("action.completed", "pipeline.template_changed"))


async def test_a_consumer_that_learns_an_event_type_keeps_its_position(event_bus):
    await event_bus.ensure_consumer(OLD)
    js = event_bus.jetstream
    for number in range(3):
        await js.publish(subject_for(event_bus.prefix, "action.completed"), b"%d" % number)
    subscription = await js.pull_subscribe_bind(OLD.durable, stream=event_bus.stream)
    first = await subscription.fetch(2, timeout=5)
    for message in first:
        await message.ack()

    await event_bus.ensure_consumer(NEW)

    info = await js.consumer_info(event_bus.stream, NEW.durable)
    assert sorted(info.config.filter_subjects) == sorted(
        subject_for(event_bus.prefix, kind) for kind in NEW.event_types
    )
    # Nothing acknowledged comes again; the one left and the new type still come.
    await js.publish(subject_for(event_bus.prefix, "pipeline.template_changed"), b"moved")
    rest = await subscription.fetch(5, timeout=5)
    assert [message.data for message in rest] == [b"2", b"moved"]
    await subscription.unsubscribe()


async def test_a_stored_consumer_with_another_ack_policy_is_refused_loudly(event_bus):
    wrong = replace(consumer_config(event_bus.prefix, OLD), ack_policy=js_api.AckPolicy.ALL)
    await event_bus.jetstream.add_consumer(event_bus.stream, wrong)

    with pytest.raises(ConsumerConfigConflict, match="ack"):
        await event_bus.ensure_consumer(OLD)

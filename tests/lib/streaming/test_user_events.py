"""User events in memory and on the wire: order, isolation, lag, encoding."""

import asyncio
import uuid
from datetime import UTC, datetime

import pytest

from src.core.enums import FinishReason, MessageStatus
from src.lib.streaming.broker import SubscriberLaggedError
from src.lib.streaming.memory import InMemoryUserEvents
from src.lib.streaming.user_events import (
    ChatCreated,
    ChatDeleted,
    ChatUpdated,
    GenerationEnded,
    GenerationStarted,
    UserEvent,
    decode_user_event,
    encode_user_event,
)
from tests.helpers import wait_until

CHAT, MESSAGE = uuid.uuid4(), uuid.uuid4()
EVERY_KIND: list[UserEvent] = [
    ChatCreated(CHAT),
    ChatUpdated(CHAT),
    GenerationStarted(CHAT, MESSAGE, "demo", datetime(2026, 12, 1, 19, 0, tzinfo=UTC)),
    GenerationEnded(CHAT, MESSAGE, MessageStatus.COMPLETE, FinishReason.STOP),
    GenerationEnded(CHAT, MESSAGE, MessageStatus.FAILED, None),
    ChatDeleted(CHAT),
]


@pytest.mark.parametrize("event", EVERY_KIND)
def test_every_event_survives_the_wire(event: UserEvent) -> None:
    assert decode_user_event(encode_user_event(event)) == event


def test_garbage_is_not_an_event() -> None:
    with pytest.raises(ValueError, match="not an encoded user event"):
        decode_user_event('{"t": "created"}')


async def test_each_subscriber_gets_its_users_events_in_order() -> None:
    events = InMemoryUserEvents()
    ada, bob = uuid.uuid4(), uuid.uuid4()
    ada_devices = [events.subscribe(ada) for _ in range(2)]
    bobs = events.subscribe(bob)
    reads = [asyncio.create_task(anext(device)) for device in [*ada_devices, bobs]]
    await wait_until(
        lambda: events.subscriber_count(ada) == 2 and events.subscriber_count(bob) == 1
    )

    for event in EVERY_KIND:
        await events.publish(ada, event)
    await events.publish(bob, ChatCreated(MESSAGE))

    for read, device in zip(reads[:2], ada_devices, strict=True):
        assert [await read] + [await anext(device) for _ in EVERY_KIND[1:]] == EVERY_KIND
    assert await reads[2] == ChatCreated(MESSAGE)
    for device in [*ada_devices, bobs]:
        await device.aclose()
    assert events.subscriber_count(ada) == events.subscriber_count(bob) == 0


async def test_a_subscriber_too_far_behind_is_told() -> None:
    events = InMemoryUserEvents(max_events=3)
    ada = uuid.uuid4()
    device = events.subscribe(ada)
    first = asyncio.create_task(anext(device))
    await wait_until(lambda: events.subscriber_count(ada) == 1)
    await events.publish(ada, ChatCreated(CHAT))
    assert await first == ChatCreated(CHAT)
    for _ in range(5):
        await events.publish(ada, ChatUpdated(CHAT))
    with pytest.raises(SubscriberLaggedError):
        await anext(device)

"""What only the in-memory broker does: its bookkeeping of subscribers and idle chats."""

import asyncio
from contextlib import aclosing
from uuid import uuid4

from src.lib.streaming.memory import InMemoryBroker
from tests.helpers import FakeClock, wait_until
from tests.lib.streaming.helpers import Generation, run_generation, start, take


async def test_cancelled_waiting_subscriber_leaves_nothing_behind() -> None:
    broker = InMemoryBroker(5.0)
    chat_id = uuid4()
    generation = Generation(chat_id)
    await start(broker, generation)
    await broker.publish(chat_id, generation.started())

    async def follow() -> None:
        async for _ in broker.subscribe(chat_id):
            pass

    readers = [asyncio.create_task(follow()) for _ in range(5)]
    await wait_until(lambda: broker.subscriber_count(chat_id) == 5)
    for reader in readers:
        reader.cancel()
    await asyncio.wait(readers)

    assert all(reader.cancelled() for reader in readers)
    assert broker.subscriber_count(chat_id) == 0


async def test_closed_subscription_is_forgotten() -> None:
    broker = InMemoryBroker(5.0)
    chat_id = uuid4()
    generation = Generation(chat_id)
    await start(broker, generation)
    await broker.publish(chat_id, generation.started())

    async with aclosing(broker.subscribe(chat_id)) as subscription:
        await take(subscription, 1)
        assert broker.subscriber_count(chat_id) == 1
    assert broker.subscriber_count(chat_id) == 0


async def test_idle_chats_are_forgotten_after_retention(clock: FakeClock) -> None:
    broker = InMemoryBroker(5.0, retention_seconds=0.05, clock=clock)
    idle, running, watched = uuid4(), uuid4(), uuid4()
    await run_generation(broker, Generation(idle))
    await start(broker, Generation(running))
    await run_generation(broker, Generation(watched))

    async with aclosing(broker.subscribe(watched, after_seq=0)) as subscription:
        await take(subscription, 1)
        clock.advance(0.1)
        await start(broker, Generation(uuid4()))

        assert idle not in broker._chats
        assert running in broker._chats
        assert watched in broker._chats

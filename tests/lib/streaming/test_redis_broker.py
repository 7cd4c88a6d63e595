"""What only the Redis broker does: several processes sharing one Redis, and its connections."""

import asyncio
import time
from collections.abc import Callable
from contextlib import AsyncExitStack, aclosing
from uuid import uuid4

from src.lib.streaming.factory import create_broker
from src.lib.streaming.memory import InMemoryBroker
from src.lib.streaming.redis_broker import RedisBroker
from tests.lib.streaming.conftest import REDIS_URL
from tests.lib.streaming.helpers import (
    Generation,
    publish_all,
    run_generation,
    start,
    take,
    take_until_terminal,
)

type MakeRedisBroker = Callable[..., RedisBroker]


async def test_two_processes_share_the_lock_the_log_and_stop_requests(
    make_redis_broker: MakeRedisBroker,
) -> None:
    owner, other = make_redis_broker(), make_redis_broker()
    chat_id = uuid4()
    generation = Generation(chat_id)
    await start(owner, generation)
    assert not await other.start_generation(chat_id, uuid4(), "demo")
    events = generation.whole()
    await publish_all(owner, chat_id, events[:2])

    info = await other.active_generation(chat_id)
    assert info is not None
    assert (info.message_id, info.last_seq) == (generation.message_id, 1)

    async with aclosing(other.subscribe(chat_id)) as subscription:
        assert await take(subscription, 2) == events[:2]
        async with owner.stop_requests(chat_id, generation.message_id) as stopped:
            requested_at = time.monotonic()
            assert await other.request_stop(chat_id)
            async with asyncio.timeout(0.2):
                await stopped.wait()
            assert time.monotonic() - requested_at < 0.2
        await publish_all(owner, chat_id, events[2:])
        assert await take_until_terminal(subscription) == events[2:]

    await owner.finish_generation(chat_id, generation.message_id)
    assert await other.start_generation(chat_id, uuid4(), "demo")


async def test_stop_request_for_another_generation_is_ignored(
    make_redis_broker: MakeRedisBroker,
) -> None:
    broker = make_redis_broker()
    chat_id = uuid4()
    old, new = Generation(chat_id), Generation(chat_id)
    await start(broker, old)
    assert await broker.request_stop(chat_id)
    await broker.finish_generation(chat_id, old.message_id)
    await start(broker, new)

    async with broker.stop_requests(chat_id, new.message_id) as stopped:
        await asyncio.sleep(0.1)
        assert not stopped.is_set()


async def test_cancelled_subscribers_return_their_connections(
    make_redis_broker: MakeRedisBroker,
) -> None:
    broker = make_redis_broker()
    chat_id = uuid4()
    await run_generation(broker, Generation(chat_id))
    baseline = broker.connections_in_use

    async def follow() -> None:
        async for _ in broker.subscribe(chat_id):
            pass

    for cycle in range(50):
        reader = asyncio.create_task(follow())
        try:
            # Cancel before it starts, while it takes its snapshot, or (mostly) in XREAD.
            if cycle % 5 == 1:
                await asyncio.sleep(0)
            elif cycle % 5 > 1:
                await asyncio.sleep(0.02)
                assert broker.connections_in_use == baseline + 1
        finally:
            reader.cancel()
            await asyncio.wait([reader])
        assert reader.cancelled()
    assert broker.connections_in_use == baseline


async def test_subscriptions_return_their_connections_and_stop_watches_share_one(
    make_redis_broker: MakeRedisBroker,
) -> None:
    broker = make_redis_broker()
    chat_id = uuid4()
    events = await run_generation(broker, Generation(chat_id))
    baseline = broker.connections_in_use

    for _ in range(20):
        async with aclosing(broker.subscribe(chat_id, after_seq=0)) as subscription:
            assert await take_until_terminal(subscription) == events[1:]
    assert broker.connections_in_use == baseline
    async with AsyncExitStack() as watches:
        for _ in range(10):
            await watches.enter_async_context(broker.stop_requests(uuid4(), uuid4()))
        # One pattern subscription serves every stop watch of the process.
        assert broker.connections_in_use == baseline + 1


async def test_factory_chooses_redis_only_when_a_url_is_set() -> None:
    assert isinstance(create_broker("", 15.0), InMemoryBroker)
    broker = create_broker(REDIS_URL, 15.0)
    try:
        assert isinstance(broker, RedisBroker)
        assert broker.lock_ttl == 15.0
    finally:
        await broker.close()

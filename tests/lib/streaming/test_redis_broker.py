"""What only the Redis broker does: processes sharing one Redis, its connections and batches."""

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, aclosing
from typing import Any
from uuid import UUID, uuid4

import pytest
from redis.asyncio import Redis

from src.lib.streaming.broker import SubscriberLaggedError
from src.lib.streaming.events import StreamEvent, is_terminal
from src.lib.streaming.factory import create_broker
from src.lib.streaming.memory import InMemoryBroker
from src.lib.streaming.redis_broker import DEFAULT_MAX_CONNECTIONS as DEFAULT_POOL
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
from tests.processes import redis_server

type MakeRedisBroker = Callable[..., RedisBroker]


CROWD_TIMEOUT = 30.0
"""Seconds for tests with hundreds of subscribers (the helpers' TIMEOUT is for one)."""


@pytest.fixture
async def own_redis() -> AsyncIterator[str]:
    """A Redis server of this test alone (exact command counts, script cache flushes)."""
    async with redis_server() as server:
        yield server.url


async def _connections(prefix: str) -> list[dict[str, Any]]:
    """The connections of the brokers using `prefix` to the test Redis (named after it)."""
    async with Redis.from_url(REDIS_URL, decode_responses=True) as client:
        return [c for c in await client.client_list() if c["name"] == f"{prefix}broker"]


async def _command_calls(url: str) -> Counter[str]:
    """How often each command ran on the server since it started."""
    async with Redis.from_url(url, decode_responses=True) as client:
        stats = await client.info("commandstats")
    return Counter({name.removeprefix("cmdstat_"): int(s["calls"]) for name, s in stats.items()})


async def _until(condition: Callable[[], bool]) -> None:
    """Wait until the broker's state meets the condition (the broker has no event for it)."""
    async with asyncio.timeout(CROWD_TIMEOUT):
        while not condition():  # noqa: ASYNC110
            await asyncio.sleep(0.01)


async def _until_terminal(subscription: AsyncIterator[StreamEvent]) -> list[StreamEvent]:
    events: list[StreamEvent] = []
    async with asyncio.timeout(CROWD_TIMEOUT):
        while not events or not is_terminal(events[-1]):
            events.append(await anext(subscription))
    return events


async def _replay(broker: RedisBroker, generation: Generation) -> list[StreamEvent]:
    """Every event of the running generation (tool calls: none merged)."""
    async with aclosing(broker.subscribe(generation.chat_id)) as subscription:
        return await take(subscription, generation.seq + 1)


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


async def test_connections_stay_bounded_however_many_subscribers(
    make_redis_broker: MakeRedisBroker, redis_prefix: str
) -> None:
    here, elsewhere = make_redis_broker(max_connections=4), make_redis_broker(max_connections=4)
    chats = [uuid4() for _ in range(300)]
    crowded = [chats[0]] * 20
    async with AsyncExitStack() as stack:
        subscriptions = [
            await stack.enter_async_context(aclosing(here.subscribe(chat)))
            for chat in chats + crowded
        ]
        readers = [asyncio.create_task(_until_terminal(s)) for s in subscriptions]
        await _until(lambda: here.streams_read == len(chats))
        # 320 subscribers waiting, on one blocking read.
        assert len(await _connections(redis_prefix)) <= 4 + 2

        # Generations run in this process (events reach the readers from memory) and in
        # another (through the blocking read), all at once.
        async def generate(index: int, chat: UUID) -> list[StreamEvent]:
            return await run_generation(here if index % 2 else elsewhere, Generation(chat))

        published = await asyncio.gather(*(generate(i, chat) for i, chat in enumerate(chats)))
        received = await asyncio.gather(*readers)

    expected = dict(zip(chats, published, strict=True))
    for chat, events in zip(chats + crowded, received, strict=True):
        assert events == expected[chat]
    assert len(await _connections(redis_prefix)) <= 2 * (4 + 2)


async def test_idle_subscriber_and_stop_watch_outlive_the_socket_timeout(
    make_redis_broker: MakeRedisBroker,
) -> None:
    owner, watcher = (make_redis_broker(socket_timeout=1.0) for _ in range(2))
    chat_id = uuid4()
    generation = Generation(chat_id)
    await start(owner, generation)

    async with (
        owner.stop_requests(chat_id, generation.message_id) as stopped,
        aclosing(watcher.subscribe(chat_id)) as subscription,
    ):
        reader = asyncio.create_task(take(subscription, 1))
        await asyncio.sleep(3.0)  # three socket timeouts of quiet
        assert not reader.done()
        started = generation.started()
        await owner.publish(chat_id, started)
        assert await reader == [started]

        assert await watcher.request_stop(chat_id)
        async with asyncio.timeout(0.5):
            await stopped.wait()


async def test_publishes_of_one_tick_share_one_round_trip_in_order(own_redis: str) -> None:
    broker = RedisBroker(own_redis, 5.0, prefix="tick:")
    try:
        generations = [Generation(uuid4()) for _ in range(10)]
        for generation in generations:
            await start(broker, generation)
        events: dict[UUID, list[StreamEvent]] = {
            g.chat_id: [g.started(), *(g.tool_call() for _ in range(4))] for g in generations
        }
        await broker.publish(uuid4(), Generation(uuid4()).started())  # loads the script
        before = await _command_calls(own_redis)

        await asyncio.gather(
            *(
                broker.publish(chat, chat_events[i])
                for i in range(5)
                for chat, chat_events in events.items()
            )
        )

        after = await _command_calls(own_redis)
        assert after["exec"] - before["exec"] == 1
        assert after["evalsha"] - before["evalsha"] == 50
        assert [await _replay(broker, g) for g in generations] == list(events.values())
    finally:
        await broker.close()


async def test_concurrent_token_loops_share_round_trips(own_redis: str) -> None:
    broker = RedisBroker(own_redis, 5.0, prefix="load:")
    try:
        await broker.publish(uuid4(), Generation(uuid4()).started())  # loads the script
        before = await _command_calls(own_redis)

        async def token_loop(generation: Generation) -> None:
            for i in range(10):
                await broker.publish(generation.chat_id, generation.delta(f"{i} "))
                await asyncio.sleep(0)

        await asyncio.gather(*(token_loop(Generation(uuid4())) for _ in range(20)))

        after = await _command_calls(own_redis)
        assert after["evalsha"] - before["evalsha"] == 200
        # 10 rounds of 20 publishes (in step): 10 round trips.
        assert after["exec"] - before["exec"] == 10
    finally:
        await broker.close()


async def test_publishes_survive_a_script_cache_flush_once_each(own_redis: str) -> None:
    broker = RedisBroker(own_redis, 5.0, prefix="flush:")
    generation = Generation(uuid4())
    events = generation.whole(tool_calls=4)
    try:
        await start(broker, generation)
        # A fresh server has no publish script: the first batch is refused whole, sent again.
        await asyncio.gather(*(broker.publish(generation.chat_id, e) for e in events[:3]))
        async with Redis.from_url(own_redis) as client:
            await client.script_flush()
        await asyncio.gather(*(broker.publish(generation.chat_id, e) for e in events[3:]))
        assert await _replay(broker, generation) == events
    finally:
        await broker.close()


async def test_a_batch_with_an_unknown_script_sends_again_only_what_was_refused(
    own_redis: str,
) -> None:
    broker = RedisBroker(own_redis, 5.0, prefix="mixed:")
    generation = Generation(uuid4())
    events = generation.whole(tool_calls=2)
    try:
        await start(broker, generation)
        await broker.publish(generation.chat_id, events[0])  # loads the publish script only
        renewed, *_ = await asyncio.gather(
            broker.heartbeat(generation.chat_id, generation.message_id),
            *(broker.publish(generation.chat_id, e) for e in events[1:]),
        )
        assert renewed
        assert await _replay(broker, generation) == events
        async with Redis.from_url(own_redis) as client:
            assert await client.xlen(f"mixed:chat:{{{generation.chat_id}}}:events") == len(events)
    finally:
        await broker.close()


async def test_subscriber_in_another_process_lags_when_the_log_is_trimmed(
    make_redis_broker: MakeRedisBroker,
) -> None:
    owner, watcher = make_redis_broker(max_events=50), make_redis_broker(max_events=50)
    chat_id = uuid4()
    generation = Generation(chat_id)
    await start(owner, generation)
    await owner.publish(chat_id, generation.started())

    async with aclosing(watcher.subscribe(chat_id)) as subscription:
        await anext(subscription)
        await publish_all(owner, chat_id, [generation.tool_call() for _ in range(1000)])
        with pytest.raises(SubscriberLaggedError):
            await take(subscription, 1)


async def test_cancelled_subscribers_leave_nothing_behind(
    make_redis_broker: MakeRedisBroker, redis_prefix: str
) -> None:
    broker, publisher = make_redis_broker(), make_redis_broker()
    chat_id = uuid4()
    await run_generation(publisher, Generation(chat_id))

    async def follow() -> None:
        async for _ in broker.subscribe(chat_id, after_seq=0):
            pass

    for cycle in range(50):
        reader = asyncio.create_task(follow())
        try:
            # Cancel before it starts, while it takes its snapshot or replays, or waiting.
            if cycle % 5 == 1:
                await asyncio.sleep(0)
            elif cycle % 5 > 1:
                await asyncio.sleep(0.02)
        finally:
            reader.cancel()
            await asyncio.wait([reader])
        assert reader.cancelled()
    assert broker.streams_read == 0

    async with aclosing(broker.subscribe(chat_id)) as subscription:
        taking = asyncio.create_task(take_until_terminal(subscription))
        await _until(lambda: broker.streams_read == 1)
        events = await run_generation(publisher, Generation(chat_id))
        assert await taking == events
    assert broker.streams_read == 0
    assert len(await _connections(redis_prefix)) <= 2 * (DEFAULT_POOL + 2)


async def test_stop_and_decision_watches_share_one_pattern_subscription(
    make_redis_broker: MakeRedisBroker, redis_prefix: str
) -> None:
    broker = make_redis_broker()
    async with AsyncExitStack() as watches:
        for _ in range(10):
            chat_id, message_id = uuid4(), uuid4()
            await watches.enter_async_context(broker.stop_requests(chat_id, message_id))
            await watches.enter_async_context(broker.decisions(chat_id, message_id, print))
        subscribed = [c for c in await _connections(redis_prefix) if c["psub"] != "0"]
        assert [c["psub"] for c in subscribed] == ["2"]  # one connection, two patterns


async def test_factory_chooses_redis_only_when_a_url_is_set() -> None:
    assert isinstance(create_broker("", 15.0), InMemoryBroker)
    broker = create_broker(REDIS_URL, 15.0)
    try:
        assert isinstance(broker, RedisBroker)
        assert broker.lock_ttl == 15.0
    finally:
        await broker.close()

"""The broker's metrics: events waiting per subscriber (read at scrape time), Redis round trips.

The registry is the process's: each test compares values before and after what it does.
"""

import asyncio
from contextlib import aclosing
from uuid import uuid4

from prometheus_client import REGISTRY
from redis.asyncio import Redis

from src.lib.streaming.broker import Broker
from src.lib.streaming.redis_batch import CommandBatcher
from tests.helpers import REDIS_URL, wait_until
from tests.lib.streaming.helpers import Generation, publish_all, start, take


def _sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def _waiting() -> float:
    return _sample("chat_broker_events_waiting")


async def test_events_waiting_for_a_subscriber_are_seen_until_it_reads_them(
    broker: Broker, store: str
) -> None:
    generation = Generation(uuid4())
    await start(broker, generation)
    await broker.publish(generation.chat_id, generation.started())
    subscribers, reads = _sample("chat_broker_subscribers"), _redis_reads()

    async with aclosing(broker.subscribe(generation.chat_id)) as subscription:
        await take(subscription, 1)
        assert _sample("chat_broker_subscribers") == subscribers + 1
        idle = _waiting()
        await publish_all(broker, generation.chat_id, [generation.tool_call() for _ in range(3)])
        await wait_until(lambda: _waiting() == idle + 3)
        await take(subscription, 3)
        assert _waiting() == idle

    assert _sample("chat_broker_subscribers") == subscribers
    if store == "redis":
        assert _redis_reads() > reads


def _redis_reads() -> float:
    return _sample("chat_redis_round_trips_total", part="reader")


async def test_commands_of_one_tick_count_as_one_round_trip(redis_prefix: str) -> None:
    async with Redis.from_url(REDIS_URL) as client:
        batcher = CommandBatcher(client)
        before = _sample("chat_redis_round_trips_total", part="batcher")

        await asyncio.gather(*(batcher.call("SET", f"{redis_prefix}{i}", i) for i in range(5)))
        assert _sample("chat_redis_round_trips_total", part="batcher") == before + 1

        assert await batcher.call("GET", f"{redis_prefix}4") == b"4"
        assert _sample("chat_redis_round_trips_total", part="batcher") == before + 2

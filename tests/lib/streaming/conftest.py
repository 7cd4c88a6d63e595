"""Broker fixtures: every contract test runs on the in-memory broker and on real Redis.

Redis tests use a random key prefix and delete their keys afterwards. They are skipped when
Redis does not answer, except under CI (`CI` set), where they fail.
"""

import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from redis.asyncio import Redis

from src.lib.streaming.broker import Broker
from src.lib.streaming.memory import InMemoryBroker
from src.lib.streaming.redis_broker import RedisBroker
from tests.helpers import REDIS_URL as REDIS_URL  # test_redis_broker.py imports it from here
from tests.helpers import FakeClock, require_redis

type BrokerFactory = Callable[..., Broker]


@pytest.fixture
async def redis_prefix() -> AsyncIterator[str]:
    """A fresh key prefix on the test Redis; its keys are deleted after the test."""
    await require_redis()
    client = Redis.from_url(REDIS_URL, decode_responses=True)
    prefix = f"test-{uuid.uuid4().hex[:12]}:"
    try:
        yield prefix
    finally:
        keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
        if keys:
            await client.delete(*keys)
        await client.aclose()


@pytest.fixture
async def make_redis_broker(redis_prefix: str) -> AsyncIterator[Callable[..., RedisBroker]]:
    """Create Redis brokers sharing one prefix (like processes sharing one Redis)."""
    brokers: list[RedisBroker] = []

    def make(lock_ttl: float = 5.0, **limits: Any) -> RedisBroker:
        broker = RedisBroker(REDIS_URL, lock_ttl, prefix=redis_prefix, **limits)
        brokers.append(broker)
        return broker

    yield make
    for broker in brokers:
        await broker.close()


@pytest.fixture
def make_broker(store: str, clock: FakeClock, request: pytest.FixtureRequest) -> BrokerFactory:
    """Create brokers of the parametrized `store`: `make(lock_ttl=5.0, **limits)`.

    In-memory brokers run on the test's fake `clock`.
    """
    if store == "redis":
        factory: BrokerFactory = request.getfixturevalue("make_redis_broker")
        return factory

    def make(lock_ttl: float = 5.0, **limits: Any) -> InMemoryBroker:
        return InMemoryBroker(lock_ttl, clock=clock, **limits)

    return make


@pytest.fixture
def broker(make_broker: BrokerFactory) -> Broker:
    """A broker of the parametrized kind with default limits."""
    return make_broker()

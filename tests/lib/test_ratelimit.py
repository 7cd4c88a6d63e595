"""Rate limiters: the same behaviour in memory and on a real Redis."""

import uuid
from collections.abc import AsyncIterator

import pytest

from src.lib.ratelimit import MemoryRateLimiter, RateLimiter, RedisRateLimiter
from tests.helpers import REDIS_URL, ExpiryClock, FakeClock, require_redis
from tests.processes import free_port


@pytest.fixture
async def limiter(store: str, clock: FakeClock) -> AsyncIterator[RateLimiter]:
    """Each limiter: the in-memory one on `clock`, the Redis one under a prefix of its own."""
    if store == "memory":
        yield MemoryRateLimiter(clock)
        return
    await require_redis()
    limiter = RedisRateLimiter(REDIS_URL, prefix=f"test:{uuid.uuid4().hex}:")
    yield limiter
    await limiter.close()


async def test_hits_within_the_limit_pass_and_then_wait(limiter: RateLimiter) -> None:
    results = [await limiter.hit("k", 3, 60) for _ in range(5)]
    assert results[:3] == [None, None, None]
    assert all(r is not None and 0 < r <= 60 for r in results[3:])


async def test_keys_are_counted_apart(limiter: RateLimiter) -> None:
    assert await limiter.hit("a", 1, 60) is None
    assert await limiter.hit("b", 1, 60) is None
    assert await limiter.hit("a", 1, 60) is not None


async def test_a_new_window_starts_after_the_old_one_ends(
    limiter: RateLimiter, expiry_clock: ExpiryClock
) -> None:
    assert await limiter.hit("w", 1, 0.2) is None
    assert await limiter.hit("w", 1, 0.2) is not None

    async def passes() -> bool:
        return await limiter.hit("w", 1, 0.2) is None

    await expiry_clock.elapse_until(passes, 0.3)


async def test_without_redis_the_limits_hold_in_this_process() -> None:
    limiter = RedisRateLimiter(f"redis://127.0.0.1:{free_port()}/0", timeout=0.5)
    try:
        results = [await limiter.hit("k", 2, 60) for _ in range(3)]
    finally:
        await limiter.close()

    assert results[:2] == [None, None]
    assert results[2] is not None and 0 < results[2] <= 60

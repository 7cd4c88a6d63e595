"""Fixed-window rate limits, shared by every server process when Redis is configured.

Offers `RateLimiter` (the interface), `MemoryRateLimiter` (one process), `RedisRateLimiter`
(many processes) and `create_rate_limiter(redis_url)`.
"""

import math
import time
from abc import ABC, abstractmethod
from collections.abc import Callable

from loguru import logger
from redis.asyncio import Redis
from redis.exceptions import RedisError

# KEYS: counter. ARGV: window ms. Returns the count in the window and the ms left in it.
_HIT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return {count, redis.call('PTTL', KEYS[1])}
"""
_PRUNE_EVERY = 1024
REDIS_TIMEOUT = 2.0
"""Seconds a Redis command may take before the limiter counts in memory instead."""


class RateLimiter(ABC):
    """Counts hits per key in fixed windows."""

    @abstractmethod
    async def hit(self, key: str, limit: int, window_seconds: float) -> int | None:
        """Count one hit on a key.

        Returns:
            None while the key's hits in the current window are at most `limit`, else the
            whole seconds until the window ends.
        """

    async def close(self) -> None:  # noqa: B027 - most limiters hold nothing to close
        """Release what the limiter holds."""


class MemoryRateLimiter(RateLimiter):
    """Counters in this process's memory; expired windows are pruned as keys come and go.

    Args:
        clock: The monotonic clock, in seconds, that windows are measured by (tests pass one
            they advance themselves).
    """

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._windows: dict[str, tuple[float, int]] = {}
        self._hits = 0

    async def hit(self, key: str, limit: int, window_seconds: float) -> int | None:
        """Count one hit on a key (see `RateLimiter.hit`)."""
        now = self._clock()
        self._hits += 1
        if self._hits % _PRUNE_EVERY == 0:
            self._windows = {k: w for k, w in self._windows.items() if w[0] > now}
        ends, count = self._windows.get(key, (0.0, 0))
        if ends <= now:
            ends, count = now + window_seconds, 0
        self._windows[key] = (ends, count + 1)
        return None if count + 1 <= limit else math.ceil(ends - now)


class RedisRateLimiter(RateLimiter):
    """Counters in Redis (INCR with an expiry), so every process shares them.

    While Redis does not answer, hits are counted in this process instead (each process then
    applies the limits on its own): sign-in keeps working through an outage, still limited.
    """

    def __init__(
        self, redis_url: str, prefix: str = "chatapi:rate:", timeout: float = REDIS_TIMEOUT
    ) -> None:
        self._redis: Redis = Redis.from_url(
            redis_url, socket_timeout=timeout, socket_connect_timeout=timeout
        )
        self._hit_script = self._redis.register_script(_HIT)
        self._prefix = prefix
        self._fallback = MemoryRateLimiter()

    async def hit(self, key: str, limit: int, window_seconds: float) -> int | None:
        """Count one hit on a key (see `RateLimiter.hit`)."""
        try:
            count, left_ms = await self._hit_script(
                keys=[self._prefix + key], args=[math.ceil(window_seconds * 1000)]
            )
        except (RedisError, OSError):
            logger.warning("Redis does not answer: rate limits counted in this process")
            return await self._fallback.hit(key, limit, window_seconds)
        return None if int(count) <= limit else max(1, math.ceil(int(left_ms) / 1000))

    async def close(self) -> None:
        """Close the connection pool."""
        await self._redis.aclose()


def create_rate_limiter(redis_url: str) -> RateLimiter:
    """Redis counters when a URL is set, else in-memory ones."""
    return RedisRateLimiter(redis_url) if redis_url else MemoryRateLimiter()

"""Chat signals for this process, over one Redis pub/sub connection.

Offers `StopWatch`: it pattern-subscribes once to every chat's signal channel and sets the
events of the local waiters named in the signals (a generation's stop requests, a chat's
access changes), so a process holds one pub/sub connection however many it watches.
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from loguru import logger
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError


class StopWatch:
    """Delivers signals (published as the key waiters watch) to local waiters."""

    def __init__(self, redis: Redis, channel_pattern: str) -> None:
        self._redis = redis
        self._pattern = channel_pattern
        self._waiting: dict[str, set[asyncio.Event]] = {}
        self._pubsub: PubSub | None = None
        self._listener: asyncio.Task[None] | None = None
        self._starting = asyncio.Lock()

    @asynccontextmanager
    async def watch(self, message_id: str) -> AsyncIterator[asyncio.Event]:
        """An event set when `message_id` (the key) is published or notified, while in the block.

        The subscription is active before the block starts, so a caller can then check for
        a request made earlier without a gap.
        """
        try:
            await self._listen_if_needed()
        except RedisError as error:  # the next watch tries again; this one hears no requests
            logger.warning("stop requests are not watched for now: {}", error)
        stopped = asyncio.Event()
        self._waiting.setdefault(message_id, set()).add(stopped)
        try:
            yield stopped
        finally:
            waiting = self._waiting.get(message_id, set())
            waiting.discard(stopped)
            if not waiting:
                self._waiting.pop(message_id, None)

    def notify(self, key: str) -> None:
        """Set this process's events watching `key` at once (before its publish comes back)."""
        for waiting in self._waiting.get(key, ()):
            waiting.set()

    async def close(self) -> None:
        """Stop listening and give the connection back."""
        if self._listener is not None:
            self._listener.cancel()
            await asyncio.wait([self._listener])
        if self._pubsub is not None:
            await self._pubsub.aclose()  # type: ignore[no-untyped-call]  # unannotated in redis-py

    async def _listen_if_needed(self) -> None:
        async with self._starting:
            if self._listener is not None and not self._listener.done():
                return
            if self._pubsub is not None:  # the last listener died with its connection
                await self._pubsub.aclose()  # type: ignore[no-untyped-call]
            self._pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            await self._pubsub.psubscribe(self._pattern)
            self._listener = asyncio.create_task(self._listen(self._pubsub))

    async def _listen(self, pubsub: PubSub) -> None:
        try:
            async for message in pubsub.listen():
                self.notify(message["data"])
        except RedisError as error:
            logger.warning("stop requests are not watched until the next generation: {}", error)

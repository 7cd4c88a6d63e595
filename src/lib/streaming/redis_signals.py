"""Signals for this process's running generations, over one Redis pub/sub connection.

Offers `SignalWatch`: it pattern-subscribes once to every chat's signal channels (one pattern
per kind of signal: stop requests and access changes, decisions on tool calls) and hands each
signal to the local waiter it names (a generation, or a chat's watchers), so a process holds
one pub/sub connection however many generations it runs. A signal's data is the waiter's key
(a generation's message id), then, after a space, its payload.
"""

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager

from loguru import logger
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

Deliver = Callable[[str], object]
"""Takes a signal's payload (empty when it has none)."""


def signal_data(message_id: str, payload: str = "") -> str:
    """The data to publish for a signal to the generation `message_id`."""
    return f"{message_id} {payload}" if payload else message_id


class SignalWatch:
    """Delivers signals published on channels matching its patterns to local waiters."""

    def __init__(self, redis: Redis, patterns: Sequence[str]) -> None:
        self._redis = redis
        self._patterns = list(patterns)
        self._waiting: dict[tuple[str, str], list[Deliver]] = {}
        self._pubsub: PubSub | None = None
        self._listener: asyncio.Task[None] | None = None
        self._starting = asyncio.Lock()

    @asynccontextmanager
    async def watch(self, pattern: str, message_id: str, deliver: Deliver) -> AsyncIterator[None]:
        """Call `deliver` with each signal for `message_id` on `pattern`, while in the block.

        The subscription is active before the block starts, so a caller can then check for
        a signal's trace left earlier without a gap.
        """
        try:
            await self._listen_if_needed()
        except RedisError as error:  # the next watch tries again; this one hears no signals
            logger.warning("signals are not watched for now: {}", error)
        key = (pattern, message_id)
        self._waiting.setdefault(key, []).append(deliver)
        try:
            yield
        finally:
            waiting = self._waiting.get(key, [])
            waiting.remove(deliver)
            if not waiting:
                self._waiting.pop(key, None)

    def notify(self, pattern: str, message_id: str, payload: str = "") -> None:
        """Deliver a signal to this process's waiters at once (before its publish comes back)."""
        for deliver in list(self._waiting.get((pattern, message_id), ())):
            try:
                deliver(payload)
            except Exception:  # one bad signal must not end the watch
                logger.exception("signal for {} not delivered", message_id)

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
            await self._pubsub.psubscribe(*self._patterns)
            self._listener = asyncio.create_task(self._listen(self._pubsub))

    async def _listen(self, pubsub: PubSub) -> None:
        try:
            async for message in pubsub.listen():
                message_id, _, payload = message["data"].partition(" ")
                self.notify(message["pattern"], message_id, payload)
        except RedisError as error:
            logger.warning("signals are not watched until the next generation: {}", error)

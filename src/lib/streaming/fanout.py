"""Where a generation's events go: this process's subscribers first, then every other process.

Operations (`Fanout`):
- reserve / release / finish: the chat's generation lock, in the shared broker and locally.
- publish: an event to the local broker, then to the shared one.
- heartbeat: renew the shared lock, taking it again if it was lost (Redis restarted empty).
- broker_for: the broker a follower of a reply should read.

The reply's own subscriber (the chatStream that started it runs in this process) reads the
local, in-memory broker: it gets each event without a round trip to Redis, and keeps getting
them when Redis does not answer. The generation does not wait for Redis either, but for its
terminal event: a slow Redis no longer slows every token. The shared broker carries the
events to other processes and keeps them for replay. While it does not answer, the generation
goes on: its publishes to the shared broker are skipped for `retry_after` seconds at a time,
and its terminal event is always tried, so that watchers who come back after the outage see
the reply end.

With the in-memory broker (one process) local and shared are the same broker, used once.
"""

import asyncio
import uuid

from loguru import logger

from src.lib.streaming.broker import Broker, BrokerUnavailableError
from src.lib.streaming.events import StreamEvent
from src.lib.streaming.memory import InMemoryBroker

RETRY_AFTER_SECONDS = 1.0


class Fanout:
    """Publishes the events of this process's generations (see the module docstring)."""

    def __init__(self, shared: Broker, retry_after: float = RETRY_AFTER_SECONDS) -> None:
        self.shared = shared
        self.local: Broker = (
            shared
            if isinstance(shared, InMemoryBroker)
            else InMemoryBroker(
                shared.lock_ttl,
                max_events=shared.max_events,
                retention_seconds=shared.retention_seconds,
            )
        )
        self.retry_after = retry_after
        self._shared_down_until: dict[uuid.UUID, float] = {}
        self._sending: set[asyncio.Task[None]] = set()

    @property
    def _mirrored(self) -> bool:
        return self.local is not self.shared

    async def reserve(self, chat_id: uuid.UUID, message_id: uuid.UUID, model: str) -> bool:
        """Take the chat's lock; False when another generation holds it.

        Raises:
            BrokerUnavailableError: The shared broker does not answer (nothing was taken).
        """
        if not await self.shared.start_generation(chat_id, message_id, model):
            return False
        if self._mirrored and not await self.local.start_generation(chat_id, message_id, model):
            # the shared lock expired while this process still writes the chat's last reply
            await self.shared.finish_generation(chat_id, message_id)
            return False
        return True

    async def release(self, chat_id: uuid.UUID, message_id: uuid.UUID) -> None:
        """Give the lock back without generating."""
        await self.finish(chat_id, message_id)

    async def publish(self, chat_id: uuid.UUID, event: StreamEvent, *, last: bool = False) -> None:
        """Publish to local subscribers, then hand the event to the shared broker.

        The generation waits only for its local subscribers: the shared publishes of one chat
        go out in order behind it (each starts in a task, in call order, and the shared
        broker keeps call order), except the terminal event, which is awaited so that the
        reply has ended everywhere when this returns.

        Args:
            chat_id: The chat.
            event: The event.
            last: The generation's terminal event: awaited, and tried even while the shared
                broker rests.
        """
        await self.local.publish(chat_id, event)
        if not self._mirrored:
            return
        resting_until = self._shared_down_until.get(chat_id, 0.0)
        if not last and asyncio.get_running_loop().time() < resting_until:
            return
        sending = asyncio.create_task(self._to_shared(chat_id, event))
        if last:
            await sending
        else:
            self._sending.add(sending)
            sending.add_done_callback(self._sending.discard)

    async def _to_shared(self, chat_id: uuid.UUID, event: StreamEvent) -> None:
        try:
            await self.shared.publish(chat_id, event)
        except BrokerUnavailableError:
            logger.warning("chat {}: events reach this process only, for now", chat_id)
            resume_at = asyncio.get_running_loop().time() + self.retry_after
            self._shared_down_until[chat_id] = resume_at
        else:
            self._shared_down_until.pop(chat_id, None)

    async def heartbeat(self, chat_id: uuid.UUID, message_id: uuid.UUID, model: str) -> bool:
        """Renew the shared lock, or take it again when it expired; False when another has it.

        Raises:
            BrokerUnavailableError: The shared broker does not answer.
        """
        if await self.shared.heartbeat(chat_id, message_id):
            return True
        return await self.shared.start_generation(chat_id, message_id, model)

    async def finish(self, chat_id: uuid.UUID, message_id: uuid.UUID) -> None:
        """Give the chat's lock back (a shared lock that cannot be reached expires by itself)."""
        self._shared_down_until.pop(chat_id, None)
        if self._mirrored:
            await self.local.finish_generation(chat_id, message_id)
        try:
            await self.shared.finish_generation(chat_id, message_id)
        except BrokerUnavailableError:
            logger.warning("chat {}: its lock will expire by itself", chat_id)

    def broker_for(self, running_here: bool) -> Broker:
        """The broker a reply's follower reads: the local one while it runs in this process."""
        return self.local if running_here else self.shared

"""Closing the replies whose generation died with its process (crash, SIGKILL, lost host).

A reply is an orphan when it is still STREAMING, no generation of this process writes it, it
has not been saved for a lock TTL (a live generation saves it every flush interval), and its
chat's generation lock is gone or held by another reply. Any process may close it: the save
marks it INTERRUPTED (finish reason CANCELLED, text kept) only while it is still STREAMING,
so of several processes closing one reply exactly one does. That one then takes the chat's
lock for a moment to publish the reply's terminal event after its last one, so that every
watcher sees the reply end; when another reply already holds the lock, its StreamStarted has
already told the watchers that ours is over. The chat's owner hears of it on the user
events too (GenerationEnded, INTERRUPTED), as of a reply that ended in its own process.

Operations:
- OrphanCloser.close: close the orphans of every process; returns how many it closed.
"""

import uuid
from collections.abc import Collection

from loguru import logger

from src.core.enums import FinishReason, MessageStatus
from src.lib.streaming.broker import Broker
from src.lib.streaming.events import StreamFinished
from src.lib.streaming.store import ReplyStore, StaleReply
from src.lib.streaming.user_events import GenerationEnded


class OrphanCloser:
    """Finds and closes orphaned replies through the store and the broker."""

    def __init__(self, broker: Broker, store: ReplyStore) -> None:
        self.broker = broker
        self.store = store

    async def close(self, local: Collection[uuid.UUID]) -> int:
        """Close every orphaned reply; `local` are the replies this process is writing."""
        stale = [
            reply
            for reply in await self.store.stale_streaming(self.broker.lock_ttl)
            if reply.message_id not in local
        ]
        if not stale:
            return 0
        active = await self.broker.active_generations(list({r.chat_id for r in stale}))
        orphans = [
            reply
            for reply in stale
            if (generation := active.get(reply.chat_id)) is None
            or generation.message_id != reply.message_id
        ]
        closed = set(await self.store.interrupt([reply.message_id for reply in orphans]))
        for reply in orphans:
            if reply.message_id in closed:
                await self._announce_end(reply)
                await self._announce_to_owner(reply)
        if closed:
            logger.warning("closed {} replies whose generation had died", len(closed))
        return len(closed)

    async def _announce_end(self, reply: StaleReply) -> None:
        chat_id, message_id = reply.chat_id, reply.message_id
        if not await self.broker.start_generation(chat_id, message_id, reply.model):
            return  # a newer reply runs in the chat: its StreamStarted ended ours
        try:
            generation = await self.broker.active_generation(chat_id)
            seq = generation.last_seq + 1 if generation else 0
            finished = StreamFinished(seq, message_id, FinishReason.CANCELLED.value, None)
            await self.broker.publish(chat_id, finished)
        finally:
            await self.broker.finish_generation(chat_id, message_id)

    async def _announce_to_owner(self, reply: StaleReply) -> None:
        status, reason = MessageStatus.INTERRUPTED, FinishReason.CANCELLED
        ended = GenerationEnded(reply.chat_id, reply.message_id, status, reason)
        await self.broker.user_events.announce(reply.user_id, ended)

"""Watching and stopping a chat's replies.

Operations:
- WatchService.events: the chat's events (owner, or anyone signed in for a PUBLIC chat).
- WatchService.stop: stop the chat's running reply (owner only).
"""

import uuid
from collections.abc import AsyncIterator

from src.api.runtime import Runtime
from src.core.exceptions import NotFoundError, RateLimitedError
from src.lib.db.models import User
from src.lib.db.repositories.chat import ChatRepository
from src.lib.streaming.broker import SubscriberLaggedError, failing_on_outage
from src.lib.streaming.events import StreamEvent

LAGGED = "You fell too far behind this chat's events; resume with chatEvents(afterSeq)."


class WatchService:
    """Reads of the broker on behalf of a user, after the visibility checks."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def events(
        self, user: User, chat_id: uuid.UUID, after_seq: int | None
    ) -> AsyncIterator[StreamEvent]:
        """The chat's events: replayed after `after_seq`, then live.

        Raises:
            NotFoundError: The user may not read the chat.
            RateLimitedError: The watcher fell further behind than the broker keeps.
        """
        async with self.runtime.session_factory() as db:
            if await ChatRepository.get_readable(db, chat_id, user.id) is None:
                raise NotFoundError()
        try:
            async for event in failing_on_outage(self.runtime.broker.subscribe(chat_id, after_seq)):
                yield event
        except SubscriberLaggedError as error:
            raise RateLimitedError(LAGGED, retry_after=0) from error

    async def stop(self, user: User, chat_id: uuid.UUID) -> bool:
        """Stop the chat's running reply; True when one was running.

        Raises:
            NotFoundError: The user does not own the chat.
        """
        async with self.runtime.session_factory() as db:
            if await ChatRepository.get_owned(db, chat_id, user.id) is None:
                raise NotFoundError()
        return await self.runtime.generations.stop(chat_id)

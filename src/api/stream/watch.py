"""Watching and stopping a chat's replies.

Operations:
- WatchService.events: the chat's events (owner, or anyone signed in for a PUBLIC chat). A
  watcher who is not the owner stops, with NOT_FOUND and nothing more, when the chat turns
  PRIVATE or is deleted: the broker announces the change (`ChatService`), and the watcher
  checks its access again before it takes another event.
- WatchService.stop: stop the chat's running reply (owner only).
"""

import asyncio
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from functools import partial

from src.api.runtime import Runtime
from src.core.exceptions import NotFoundError, RateLimitedError
from src.lib.db.models import Chat, User
from src.lib.db.repositories.chat import ChatRepository
from src.lib.own_task import in_own_task
from src.lib.streaming.broker import SubscriberLaggedError, failing_on_outage
from src.lib.streaming.events import StreamEvent

LAGGED = "You fell too far behind this chat's events; resume with chatEvents(afterSeq)."


async def _next(events: AsyncGenerator[StreamEvent, None]) -> StreamEvent | None:
    try:
        return await anext(events)
    except StopAsyncIteration:
        return None


async def _while_readable(
    events: AsyncGenerator[StreamEvent, None],
    changed: asyncio.Event,
    readable: Callable[[], Awaitable[bool]],
) -> AsyncIterator[StreamEvent]:
    """The events, until an access change leaves the watcher unable to read the chat.

    Each event is raced against `changed`; once it is set, no event is given before access
    was checked again.

    Raises:
        NotFoundError: The watcher may no longer read the chat.
    """
    next_event = asyncio.ensure_future(_next(events))
    change = asyncio.ensure_future(changed.wait())
    try:
        while True:
            await asyncio.wait((next_event, change), return_when=asyncio.FIRST_COMPLETED)
            if changed.is_set():
                changed.clear()
                if not await readable():
                    raise NotFoundError()
                change.cancel()
                change = asyncio.ensure_future(changed.wait())
            if next_event.done():
                event = next_event.result()
                if event is None:
                    return
                yield event
                next_event = asyncio.ensure_future(_next(events))
    finally:
        next_event.cancel()
        change.cancel()
        await asyncio.wait((next_event, change))
        await events.aclose()


class WatchService:
    """Reads of the broker on behalf of a user, after the visibility checks."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def events(
        self, user: User, chat_id: uuid.UUID, after_seq: int | None
    ) -> AsyncIterator[StreamEvent]:
        """The chat's events: replayed after `after_seq`, then live.

        Only a watcher who is not the owner keeps watching access changes: the owner can
        always read the chat, so an owner's watch lets go of its access-change event (and of
        the chat row) once the check is done.

        Raises:
            NotFoundError: The user may not read the chat, or no longer may.
            RateLimitedError: The watcher fell further behind than the broker keeps.
        """
        broker = self.runtime.broker
        try:
            async with broker.access_changes(chat_id) as changed:  # before the check: no gap
                if not await self._owns_readable(user, chat_id):
                    readable = partial(self._still_readable, user, chat_id)
                    live = failing_on_outage(broker.subscribe(chat_id, after_seq))
                    async for event in _while_readable(live, changed, readable):
                        yield event
                    return
            del changed  # the owner's frame keeps no access-change event for its whole watch
            async for event in failing_on_outage(broker.subscribe(chat_id, after_seq)):
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

    async def _owns_readable(self, user: User, chat_id: uuid.UUID) -> bool:
        """Whether the user owns the chat (True) or only may read it (False).

        Raises:
            NotFoundError: The user may not read the chat.
        """
        chat = await self._readable(user, chat_id)
        if chat is None:
            raise NotFoundError()
        return chat.user_id == user.id

    async def _readable(self, user: User, chat_id: uuid.UUID) -> Chat | None:
        return await in_own_task(self._read_readable(user, chat_id))  # off the watcher's stack

    async def _read_readable(self, user: User, chat_id: uuid.UUID) -> Chat | None:
        async with self.runtime.session_factory() as db:
            return await ChatRepository.get_readable(db, chat_id, user.id)

    async def _still_readable(self, user: User, chat_id: uuid.UUID) -> bool:
        return await self._readable(user, chat_id) is not None

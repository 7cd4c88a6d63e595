"""DataLoaders of the chat and message fields, built per context (see `Context.loaders`).

Each batch reads in a short session of its own: Strawberry resolves sibling fields
concurrently, and one AsyncSession must never serve two coroutines at once.

Caching is off: a WebSocket context lives as long as its socket, and a mutation may change
what an earlier field loaded; loads made in the same tick are still batched into one query.
"""

import uuid
from collections import defaultdict

from strawberry.dataloader import DataLoader

from src.api.common.pagination import PageRequest
from src.core.enums import Rating
from src.lib.db.models import Message
from src.lib.db.repositories.feedback import FeedbackRepository
from src.lib.db.repositories.message import MessageRepository, ThreadPage
from src.lib.db.session import SessionFactory
from src.lib.streaming.broker import Broker, GenerationInfo

ThreadKey = tuple[tuple[uuid.UUID, uuid.UUID], tuple[int, uuid.UUID | None]]
"""((chat id, leaf id), (limit, before)): a page of a thread (see `Loaders.thread`)."""


def _grouped[RowT, GroupT](keys: list[tuple[RowT, GroupT]]) -> dict[GroupT, list[RowT]]:
    """The rows of (row, group) keys, per group, each row once."""
    groups: dict[GroupT, list[RowT]] = defaultdict(list)
    for row, group in dict.fromkeys(keys):
        groups[group].append(row)
    return groups


class Loaders:
    """The request's DataLoaders.

    Attributes:
        message: message id -> that message, or None (no access check: for ids the caller
            was given, such as a stream's events).
        messages: (chat id, page request) -> the rows of that page (`request.fetch` at most).
        last_message: chat id -> its newest message, or None.
        child_ids: message id -> the ids of its direct replies, oldest first.
        rating: (message id, user id) -> that user's rating, or None.
        thread: ((chat id, leaf id), (limit, before)) -> the page of the path root..leaf that
            ends at the leaf (or just above `before`) and holds at most `limit` messages, or
            None when the leaf is not in the chat; one statement per (limit, before).
        active_generation: chat id -> its running generation, or None (from the broker).
    """

    def __init__(self, session_factory: SessionFactory, broker: Broker) -> None:
        self._session_factory = session_factory
        self._broker = broker
        self.message = DataLoader(self._messages, cache=False)
        self.messages = DataLoader(self._pages, cache=False)
        self.last_message = DataLoader(self._last_messages, cache=False)
        self.child_ids = DataLoader(self._child_ids, cache=False)
        self.rating = DataLoader(self._ratings, cache=False)
        self.thread = DataLoader(self._threads, cache=False)
        self.active_generation = DataLoader(self._active_generations, cache=False)

    async def _messages(self, message_ids: list[uuid.UUID]) -> list[Message | None]:
        async with self._session_factory() as db:
            found = await MessageRepository.get_many(db, message_ids)
        return [found.get(message_id) for message_id in message_ids]

    async def _pages(self, keys: list[tuple[uuid.UUID, PageRequest]]) -> list[list[Message]]:
        found: dict[tuple[uuid.UUID, PageRequest], list[Message]] = {}
        async with self._session_factory() as db:
            for request, chat_ids in _grouped(keys).items():
                pages = await MessageRepository.pages_by_chat(
                    db, chat_ids, request.after, request.before, request.fetch, request.backwards
                )
                found |= {(chat_id, request): pages.get(chat_id, []) for chat_id in chat_ids}
        return [found[key] for key in keys]

    async def _last_messages(self, chat_ids: list[uuid.UUID]) -> list[Message | None]:
        async with self._session_factory() as db:
            pages = await MessageRepository.pages_by_chat(
                db, chat_ids, after=None, before=None, limit=1, backwards=True
            )
        return [pages[chat_id][0] if chat_id in pages else None for chat_id in chat_ids]

    async def _child_ids(self, message_ids: list[uuid.UUID]) -> list[list[uuid.UUID]]:
        async with self._session_factory() as db:
            children = await MessageRepository.child_ids(db, message_ids)
        return [children.get(message_id, []) for message_id in message_ids]

    async def _ratings(self, keys: list[tuple[uuid.UUID, uuid.UUID]]) -> list[Rating | None]:
        found: dict[tuple[uuid.UUID, uuid.UUID], Rating] = {}
        async with self._session_factory() as db:
            for user_id, message_ids in _grouped(keys).items():
                ratings = await FeedbackRepository.ratings(db, user_id, message_ids)
                found |= {(message_id, user_id): r for message_id, r in ratings.items()}
        return [found.get(key) for key in keys]

    async def _threads(self, keys: list[ThreadKey]) -> list[ThreadPage | None]:
        pages: dict[ThreadKey, ThreadPage] = {}
        async with self._session_factory() as db:
            for (limit, before), leaves in _grouped(keys).items():
                found = await MessageRepository.thread_pages(db, leaves, limit, before)
                pages |= {(leaf, (limit, before)): found[leaf] for leaf in leaves if leaf in found}
        return [pages.get(key) for key in keys]

    async def _active_generations(self, chat_ids: list[uuid.UUID]) -> list[GenerationInfo | None]:
        found = await self._broker.active_generations(chat_ids)
        return [found.get(chat_id) for chat_id in chat_ids]

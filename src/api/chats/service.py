"""Chat rules: ownership, visibility, titles, idempotent creation, branches.

Titles: a title the owner gives (createChat, updateChat) is kept. A chat created without one
is "New chat", or, when chatStream creates it, provisionally its first message (at most 80
characters); such a chat is `title_pending` until the model writes a short title after its
first reply (`src.lib.streaming.titles`) or the owner renames it, whichever comes first.

Every change is announced on the owner's user events (ChatCreated, ChatUpdated, ChatDeleted)
once it is committed.

A PRIVATE chat is visible to its owner only; a PUBLIC chat is readable by anyone signed in,
and writable by its owner only. Anything the caller may not read, or may not write when
writing, is NOT_FOUND exactly like an id that does not exist. When a PUBLIC chat turns
PRIVATE or is deleted, the broker announces it, and other users' watchers of the chat stop.

Operations (ChatService, one transaction each):
- create: a new chat, or the caller's existing chat with the same client id (announced only
  when new).
- find_readable: one chat the caller may read.
- find_owned: one chat of the caller.
- list_chats / count_chats: the caller's chats, newest first, optionally searched.
- update: title and visibility (announced when the chat stops being PUBLIC).
- delete: the chat with its messages and their feedback (announced).
- switch_branch: make a message of the chat its current leaf.

Steps for another service's transaction:
- create_chat: what `ChatService.create` does, in the caller's session.
- create_reply_chat: `create_chat` for a reply start, in its Core connection.
"""

import uuid
from datetime import datetime

from loguru import logger
from sqlalchemy.ext.asyncio import AsyncSession

from src.api.runtime import Runtime
from src.core.enums import Visibility
from src.core.exceptions import ConflictError, NotFoundError, ValidationError
from src.core.text import check_no_nul
from src.lib.db.models import Chat
from src.lib.db.models.chat import TITLE_MAX_LENGTH
from src.lib.db.repositories.chat import ChatHead, ChatPage, ChatRepository
from src.lib.db.repositories.message import MessageRepository
from src.lib.db.session import Database
from src.lib.db.types import generate_uuid7
from src.lib.streaming.broker import BrokerUnavailableError
from src.lib.streaming.user_events import (
    ChatCreated,
    ChatDeleted,
    ChatUpdated,
)

DEFAULT_TITLE = "New chat"
SEARCH_MAX_LENGTH = 200
TAKEN_ID = "This id cannot be used; create the chat with another id."


def normalize_title(title: str) -> str:
    """Trim a title and check its length.

    Raises:
        ValidationError: Empty once trimmed, longer than 200 characters, or holding a NUL.
    """
    title = title.strip()
    check_no_nul(title, "title")
    if not 1 <= len(title) <= TITLE_MAX_LENGTH:
        raise ValidationError(f"Title must be 1 to {TITLE_MAX_LENGTH} characters.", field="title")
    return title


def normalize_search(search: str | None, field: str = "search") -> str | None:
    """Trim a search string; None when nothing is left.

    Args:
        search: The text as the client sent it.
        field: The argument it came in, named by the error.

    Raises:
        ValidationError: Longer than 200 characters, or holding a NUL.
    """
    search = (search or "").strip()
    check_no_nul(search, field)
    if len(search) > SEARCH_MAX_LENGTH:
        raise ValidationError(
            f"{field.capitalize()} must be at most {SEARCH_MAX_LENGTH} characters.", field=field
        )
    return search or None


async def create_chat(
    db: AsyncSession,
    user_id: uuid.UUID,
    title: str | None = None,
    visibility: Visibility | None = None,
    chat_id: uuid.UUID | None = None,
    current_leaf_id: uuid.UUID | None = None,
    *,
    title_pending: bool | None = None,
) -> Chat:
    """Create a chat, or return the user's chat that already has this client id.

    Args:
        db: The caller's session (not committed here).
        user_id: The owner.
        title: Trimmed, 1 to 200 characters; default "New chat".
        visibility: PRIVATE (the default) or PUBLIC.
        chat_id: Client-generated id; a new UUIDv7 when None.
        current_leaf_id: The message to show, when the caller inserts the chat's first
            messages in this transaction.
        title_pending: Whether the model may write the title; by default when none is given
            (True also for a provisional title).

    Raises:
        ValidationError: Bad title.
        ConflictError: Another user's chat has this id (nothing else is revealed).
    """
    pending = title is None if title_pending is None else title_pending
    title = DEFAULT_TITLE if title is None else normalize_title(title)
    chat = await ChatRepository.insert_or_get(
        db,
        chat_id or generate_uuid7(),
        user_id,
        title,
        visibility or Visibility.PRIVATE,
        current_leaf_id=current_leaf_id,
        title_pending=pending,
    )
    _check_owner(chat.user_id, user_id)
    return chat


async def create_reply_chat(
    db: Database, user_id: uuid.UUID, title: str, chat_id: uuid.UUID, current_leaf_id: uuid.UUID
) -> ChatHead:
    """`create_chat` of a PRIVATE chat with a provisional title, without ORM objects.

    Args:
        db: The reply start's connection (not committed here).
        user_id: The owner.
        title: The provisional title (the model's to write: `title_pending`).
        chat_id: Client-generated id.
        current_leaf_id: The reply, inserted later in this transaction.

    Raises:
        ValidationError: Bad title.
        ConflictError: Another user's chat has this id (nothing else is revealed).
    """
    title = normalize_title(title)
    chat = await ChatRepository.insert_or_get_head(
        db, chat_id, user_id, title, current_leaf_id, title_pending=True
    )
    _check_owner(chat.user_id, user_id)
    return chat


def _check_owner(owner_id: uuid.UUID, user_id: uuid.UUID) -> None:
    if owner_id != user_id:
        raise ConflictError(TAKEN_ID)


async def _owned(db: AsyncSession, user_id: uuid.UUID, chat_id: uuid.UUID) -> Chat:
    chat = await ChatRepository.get_owned(db, chat_id, user_id)
    if chat is None:
        raise NotFoundError()
    return chat


class ChatService:
    """Chat operations, each one unit of work; changes are announced on `events`."""

    def __init__(self, runtime: Runtime) -> None:
        self.session_factory = runtime.session_factory
        self.broker = runtime.broker
        self.events = runtime.broker.user_events

    async def create(
        self,
        user_id: uuid.UUID,
        title: str | None = None,
        visibility: Visibility | None = None,
        chat_id: uuid.UUID | None = None,
    ) -> Chat:
        """Create a chat, or return the user's chat with this client id (see `create_chat`).

        Raises:
            ValidationError: Bad title.
            ConflictError: Another user's chat has this id.
        """
        async with self.session_factory.begin() as db:
            existed = chat_id is not None and await ChatRepository.get(db, chat_id) is not None
            chat = await create_chat(db, user_id, title, visibility, chat_id)
        if not existed:
            await self.events.announce(user_id, ChatCreated(chat.id))
        return chat

    async def find_readable(self, user_id: uuid.UUID, chat_id: uuid.UUID) -> Chat | None:
        """The chat when the user may read it (owner, or PUBLIC); else None."""
        async with self.session_factory() as db:
            return await ChatRepository.get_readable(db, chat_id, user_id)

    async def find_owned(self, user_id: uuid.UUID, chat_id: uuid.UUID) -> Chat | None:
        """The chat when the user owns it; else None."""
        async with self.session_factory() as db:
            return await ChatRepository.get_owned(db, chat_id, user_id)

    async def list_chats(
        self,
        user_id: uuid.UUID,
        search: str | None,
        after: tuple[datetime, uuid.UUID] | None,
        limit: int,
    ) -> ChatPage:
        """The user's own chats, most recently updated first.

        A search finds a chat whose title contains the text, or one of whose messages holds
        every word of it; the page then carries how many chats match (`ChatPage.total`).

        Args:
            user_id: The owner.
            search: Text to find, case-insensitively, in titles and message text.
            after: Sort key (updated_at, id) of the previous page's last chat.
            limit: At most this many chats.

        Raises:
            ValidationError: Search longer than 200 characters.
        """
        search = normalize_search(search)
        async with self.session_factory() as db:
            return await ChatRepository.page(db, user_id, search, after, limit)

    async def count_chats(self, user_id: uuid.UUID, search: str | None) -> int:
        """How many chats `list_chats` lists over all its pages."""
        search = normalize_search(search)
        async with self.session_factory() as db:
            return await ChatRepository.count(db, user_id, search)

    async def update(
        self,
        user_id: uuid.UUID,
        chat_id: uuid.UUID,
        title: str | None,
        visibility: Visibility | None,
    ) -> Chat:
        """Change the title and/or the visibility of the user's chat (None: unchanged).

        A title given here is the owner's: the model no longer writes one.

        Raises:
            ValidationError: Bad title.
            NotFoundError: No such chat, or another user's.
        """
        new_title = None if title is None else normalize_title(title)
        async with self.session_factory.begin() as db:
            chat = await _owned(db, user_id, chat_id)
            hidden = chat.visibility == Visibility.PUBLIC and visibility == Visibility.PRIVATE
            if new_title is not None:
                chat.title, chat.title_pending = new_title, False
            chat.visibility = visibility or chat.visibility
        if hidden:
            await self._announce_access_change(chat_id)
        await self.events.announce(user_id, ChatUpdated(chat.id))
        return chat

    async def delete(self, user_id: uuid.UUID, chat_id: uuid.UUID) -> None:
        """Delete the user's chat with all its messages and their feedback.

        Raises:
            NotFoundError: No such chat, or another user's.
        """
        async with self.session_factory.begin() as db:
            if not await ChatRepository.delete_owned(db, chat_id, user_id):
                raise NotFoundError()
        await self._announce_access_change(chat_id)
        await self.events.announce(user_id, ChatDeleted(chat_id))

    async def _announce_access_change(self, chat_id: uuid.UUID) -> None:
        try:
            await self.broker.announce_access_change(chat_id)
        except BrokerUnavailableError:  # its watchers' event stream fails with the broker too
            logger.warning("chat {}: its access change is not announced", chat_id)

    async def switch_branch(
        self, user_id: uuid.UUID, chat_id: uuid.UUID, leaf_id: uuid.UUID
    ) -> Chat:
        """Make a message of the user's chat its current leaf, for every device.

        Raises:
            NotFoundError: No such chat, another user's, or a message of another chat.
        """
        async with self.session_factory.begin() as db:
            chat = await _owned(db, user_id, chat_id)
            if await MessageRepository.get_in_chat(db, chat.id, leaf_id) is None:
                raise NotFoundError()
            chat.current_leaf_id = leaf_id
        await self.events.announce(user_id, ChatUpdated(chat.id))
        return chat

"""Message rules: adding to a chat's tree, reading threads, per-user feedback.

Messages are as visible as their chat (see `src.api.chats.service`). Any user who may read a
message may rate it: feedback is stored per user, and rating writes nothing else.

Operations (MessageService, one transaction each):
- find_readable: one message, when its chat is readable.
- rate: set or clear the caller's rating of a message.

Steps for another service's transaction:
- add_message: add a message under a parent of the same chat; it becomes the current leaf.
- history_thread: the end of the path to a message that a reply's history budget needs.
"""

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from src.core.enums import MessageRole, MessageStatus, Rating
from src.core.exceptions import NotFoundError
from src.lib.db.models import Chat, Message
from src.lib.db.repositories.feedback import FeedbackRepository
from src.lib.db.repositories.message import MessageRepository
from src.lib.db.session import SessionFactory


async def add_message(
    db: AsyncSession,
    chat: Chat,
    role: MessageRole,
    parts: list[dict[str, Any]],
    parent_id: uuid.UUID | None = None,
    status: MessageStatus = MessageStatus.COMPLETE,
    model: str | None = None,
    message_id: uuid.UUID | None = None,
) -> Message:
    """Add a message to a chat, make it the current leaf, and mark the chat updated.

    The caller has checked that the user may write to the chat (owns it).

    Args:
        db: The caller's session, in which `chat` was loaded (not committed here).
        chat: The chat.
        role: USER or ASSISTANT.
        parts: Parts in the format of `src.lib.parts`; `text` is made from them.
        parent_id: The message this one follows; None for a root.
        status: COMPLETE, or STREAMING for a reply being generated.
        model: The model writing an assistant message.
        message_id: Client-generated id; a new UUIDv7 when None.

    Raises:
        NotFoundError: The parent is not a message of this chat.
    """
    if parent_id is not None and not await MessageRepository.get_in_chat(db, chat.id, parent_id):
        raise NotFoundError()
    message = await MessageRepository.add(
        db, chat.id, parent_id, role, parts, status, model, message_id
    )
    chat.current_leaf_id = message.id
    chat.updated_at = message.created_at
    await db.flush()
    return message


async def history_thread(
    db: AsyncSession, chat_id: uuid.UUID, leaf_id: uuid.UUID, budget_chars: int
) -> list[Message]:
    """The end of the path from the root to a message of the chat that a reply's history needs.

    The walk up stops once the messages' text is over `budget_chars` (see
    `src.lib.llm.history`: no message beyond that point can be sent), so a reply in a long
    chat reads what its history holds, not the whole thread.

    Returns:
        Those messages, oldest first (the message last).

    Raises:
        NotFoundError: The message is not in this chat.
    """
    path = await MessageRepository.path_tail(db, chat_id, leaf_id, budget_chars)
    if not path:
        raise NotFoundError()
    return path


class MessageService:
    """Message operations, each one unit of work."""

    def __init__(self, session_factory: SessionFactory) -> None:
        self.session_factory = session_factory

    async def find_readable(self, user_id: uuid.UUID, message_id: uuid.UUID) -> Message | None:
        """The message when the user may read its chat (owner, or PUBLIC); else None."""
        async with self.session_factory() as db:
            return await MessageRepository.get_readable(db, message_id, user_id)

    async def rate(
        self, user_id: uuid.UUID, message_id: uuid.UUID, rating: Rating | None
    ) -> Message:
        """Set the user's rating of a message they may read; None clears it.

        Raises:
            NotFoundError: No such message, or the user may not read its chat.
        """
        async with self.session_factory.begin() as db:
            message = await MessageRepository.get_readable(db, message_id, user_id)
            if message is None:
                raise NotFoundError()
            if rating is None:
                await FeedbackRepository.remove(db, user_id, message_id)
            else:
                await FeedbackRepository.put(db, user_id, message_id, rating)
        return message

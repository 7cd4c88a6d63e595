"""Message rules: adding to a chat's tree, reading threads, per-user feedback.

Messages are as visible as their chat (see `src.api.chats.service`). Any user who may read a
message may rate it: feedback is stored per user, and rating writes nothing else.

Operations:
- find_readable: one message, when its chat is readable.
- add_message: add a message under a parent of the same chat; it becomes the current leaf.
- thread: the path from the root to a message of a chat.
- rate: set or clear the caller's rating of a message.
"""

import uuid
from typing import Any, TypeGuard

from sqlalchemy.ext.asyncio import AsyncSession

from src.core.enums import MessageRole, MessageStatus, Rating
from src.core.exceptions import NotFoundError
from src.lib.db.models import Chat, Message
from src.lib.db.repositories.feedback import FeedbackRepository
from src.lib.db.repositories.message import MessageRepository


def in_chat(path: list[Message] | None, chat_id: uuid.UUID) -> TypeGuard[list[Message]]:
    """Whether a path from `MessageRepository.paths` exists and ends in that chat."""
    return bool(path and path[-1].chat_id == chat_id)


class MessageService:
    """Message operations within one unit of work (the caller commits)."""

    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    async def find_readable(self, user_id: uuid.UUID, message_id: uuid.UUID) -> Message | None:
        """The message when the user may read its chat (owner, or PUBLIC); else None."""
        return await MessageRepository.get_readable(self.db, message_id, user_id)

    async def add_message(
        self,
        chat: Chat,
        role: MessageRole,
        parts: list[dict[str, Any]],
        parent_id: uuid.UUID | None = None,
        status: MessageStatus = MessageStatus.COMPLETE,
        model: str | None = None,
        message_id: uuid.UUID | None = None,
    ) -> Message:
        """Add a message to a chat, make it the current leaf, and mark the chat updated.

        The caller has checked that the user may write to the chat (`ChatService.get_owned`).

        Args:
            chat: The chat, loaded in this session.
            role: USER or ASSISTANT.
            parts: Parts in the format of `src.lib.parts`; `text` is made from them.
            parent_id: The message this one follows; None for a root.
            status: COMPLETE, or STREAMING for a reply being generated.
            model: The model writing an assistant message.
            message_id: Client-generated id; a new UUIDv7 when None.

        Raises:
            NotFoundError: The parent is not a message of this chat.
        """
        if parent_id is not None and not await MessageRepository.get_in_chat(
            self.db, chat.id, parent_id
        ):
            raise NotFoundError()
        message = await MessageRepository.add(
            self.db, chat.id, parent_id, role, parts, status, model, message_id
        )
        chat.current_leaf_id = message.id
        chat.updated_at = message.created_at
        await self.db.flush()
        return message

    async def thread(self, chat_id: uuid.UUID, leaf_id: uuid.UUID) -> list[Message]:
        """The path from the root to a message of the chat, oldest first (the message last).

        Raises:
            NotFoundError: The message is not in this chat.
        """
        path = (await MessageRepository.paths(self.db, [leaf_id])).get(leaf_id)
        if not in_chat(path, chat_id):
            raise NotFoundError()
        return path

    async def rate(
        self, user_id: uuid.UUID, message_id: uuid.UUID, rating: Rating | None
    ) -> Message:
        """Set the user's rating of a message they may read; None clears it.

        Raises:
            NotFoundError: No such message, or the user may not read its chat.
        """
        message = await self.find_readable(user_id, message_id)
        if message is None:
            raise NotFoundError()
        if rating is None:
            await FeedbackRepository.remove(self.db, user_id, message_id)
        else:
            await FeedbackRepository.put(self.db, user_id, message_id, rating)
        return message

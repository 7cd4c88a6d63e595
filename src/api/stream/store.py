"""The database behind the generation manager: partial and final saves, the search tool."""

import uuid
from typing import Any

from src.core.enums import FinishReason, MessageStatus
from src.lib.db.repositories.message import MessageRepository
from src.lib.db.repositories.reply import ReplyRepository
from src.lib.db.session import SessionFactory


class DatabaseReplyStore:
    """Saves replies, each write in a short transaction of its own."""

    def __init__(self, session_factory: SessionFactory) -> None:
        self.session_factory = session_factory

    async def save_progress(self, message_id: uuid.UUID, parts: list[dict[str, Any]]) -> None:
        """Save the partial reply of a STREAMING message."""
        async with self.session_factory.begin() as db:
            await ReplyRepository.save(db, message_id, parts)

    async def save_final(
        self,
        message_id: uuid.UUID,
        parts: list[dict[str, Any]],
        status: MessageStatus,
        finish_reason: FinishReason,
        usage: dict[str, int] | None,
    ) -> None:
        """Save the reply as it ended."""
        async with self.session_factory.begin() as db:
            await ReplyRepository.save(db, message_id, parts, status, finish_reason, usage)

    async def search_messages(
        self, user_id: uuid.UUID, query: str, limit: int
    ) -> list[dict[str, Any]]:
        """The user's own messages whose text contains the query, newest first."""
        async with self.session_factory() as db:
            messages = await MessageRepository.search_own(db, user_id, query, limit)
        return [
            {
                "chatId": str(m.chat_id),
                "messageId": str(m.id),
                "role": m.role.value,
                "text": m.text[:500],
                "createdAt": m.created_at.isoformat(),
            }
            for m in messages
        ]

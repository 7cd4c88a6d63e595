"""What the generation manager needs of the database: the `ReplyStore` protocol.

The application's implementation is `src.lib.db.reply_store.DatabaseReplyStore`.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from src.core.enums import FinishReason, MessageStatus
from src.lib.llm.tools.registry import SearchHit


@dataclass(frozen=True, slots=True)
class StaleReply:
    """A reply still marked STREAMING that has not been saved for a while."""

    message_id: uuid.UUID
    chat_id: uuid.UUID
    model: str
    user_id: uuid.UUID


type PartialSave = tuple[uuid.UUID, list[dict[str, Any]]]
"""A reply being generated: (message id, its parts so far)."""


@dataclass(frozen=True, slots=True)
class FinalSave:
    """A reply as it ended."""

    message_id: uuid.UUID
    parts: list[dict[str, Any]]
    status: MessageStatus
    finish_reason: FinishReason
    usage: dict[str, int] | None


class ReplyStore(Protocol):
    """Where replies are saved; each call is a short transaction of its own."""

    async def save_progress(self, replies: Sequence[PartialSave]) -> None:
        """Save the partial replies of messages still STREAMING (others are left as they are)."""

    async def save_final(self, final: FinalSave) -> None:
        """Save the reply as it ended."""

    async def stale_streaming(self, unsaved_for: float) -> list[StaleReply]:
        """The replies still STREAMING whose last save is older than `unsaved_for` seconds."""

    async def interrupt(self, message_ids: list[uuid.UUID]) -> list[uuid.UUID]:
        """Mark those of the replies still STREAMING INTERRUPTED; returns the ones it marked."""

    async def search_messages(
        self, user_id: uuid.UUID, query: str, limit: int
    ) -> Sequence[SearchHit]:
        """The user's own messages matching a query (for the search_chats tool)."""

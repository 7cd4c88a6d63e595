"""The database behind the generation manager: each write a short transaction of its own.

Writes run in Core connections (`engine_of`), not ORM sessions: their statements are the
repositories' prebuilt ones, and every reply is saved several times.

Operations:
- save_progress / save_final: the partial and the final saves of a reply (final saves are
  written in batches: see `GroupWriter`).
- stale_streaming / interrupt: replies STREAMING but unsaved for a while; closing them.
- search_messages: a user's own messages containing a text (for the search_chats tool).
"""

import uuid
from collections.abc import Sequence
from datetime import timedelta

from src.lib.db.group_writer import GroupWriter
from src.lib.db.models import Message
from src.lib.db.repositories.message import MessageRepository
from src.lib.db.repositories.reply import ReplyRepository
from src.lib.db.session import SessionFactory, engine_of
from src.lib.db.types import utcnow
from src.lib.streaming.store import FinalSave, PartialSave, StaleReply


class DatabaseReplyStore:
    """Saves replies through the repositories (the generation manager's `ReplyStore`).

    Final saves are group commits (`GroupWriter`): the replies that end while one batch is
    being written are saved together in the next, one statement and one commit.
    """

    def __init__(self, session_factory: SessionFactory) -> None:
        self.session_factory = session_factory
        self._engine = engine_of(session_factory)
        self._finals = GroupWriter(self._save_finals)

    async def save_progress(self, replies: Sequence[PartialSave]) -> None:
        """Save the partial replies of messages still STREAMING, in one statement."""
        async with self._engine.begin() as db:
            await ReplyRepository.save_partial(db, replies)

    async def save_final(self, final: FinalSave) -> None:
        """Save the reply as it ended (with the others ending at the same time)."""
        await self._finals.submit(final)

    async def _save_finals(self, finals: Sequence[FinalSave]) -> list[None]:
        async with self._engine.begin() as db:
            await ReplyRepository.save_many(
                db, [(f.message_id, f.parts, f.status, f.finish_reason, f.usage) for f in finals]
            )
        return [None] * len(finals)

    async def stale_streaming(self, unsaved_for: float) -> list[StaleReply]:
        """The replies still STREAMING whose last save is older than `unsaved_for` seconds."""
        async with self._engine.connect() as db:
            rows = await ReplyRepository.stale(db, utcnow() - timedelta(seconds=unsaved_for))
        return [StaleReply(*row) for row in rows]

    async def interrupt(self, message_ids: list[uuid.UUID]) -> list[uuid.UUID]:
        """Mark those of the replies still STREAMING INTERRUPTED; returns the ones it marked."""
        async with self._engine.begin() as db:
            return await ReplyRepository.interrupt(db, message_ids)

    async def search_messages(
        self, user_id: uuid.UUID, query: str, limit: int
    ) -> Sequence[Message]:
        """The user's own messages whose text contains the query, newest first."""
        async with self.session_factory() as db:
            return await MessageRepository.search_own(db, user_id, query, limit)

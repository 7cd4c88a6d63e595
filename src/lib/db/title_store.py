"""The database behind the title writer (`src.lib.streaming.titles.TitleStore`).

Operations: save_title (the conditional update that an owner's rename wins), a group commit:
the titles written at about the same moment are saved in one statement (`GroupWriter`).
"""

import uuid
from collections.abc import Sequence

from src.lib.db.group_writer import GroupWriter
from src.lib.db.repositories.chat import ChatRepository
from src.lib.db.session import SessionFactory, engine_of

type NewTitle = tuple[uuid.UUID, str]
"""A chat and the title the model wrote for it."""


class DatabaseTitleStore:
    """Writes chat titles through the chat repository, in batches."""

    def __init__(self, session_factory: SessionFactory) -> None:
        self._engine = engine_of(session_factory)
        self._titles = GroupWriter(self._save_titles)

    async def save_title(self, chat_id: uuid.UUID, title: str) -> bool:
        """Save the title if the chat still waits for one; True when saved."""
        return await self._titles.submit((chat_id, title))

    async def _save_titles(self, titles: Sequence[NewTitle]) -> list[bool]:
        async with self._engine.begin() as db:  # Core: one statement, no ORM object
            saved = await ChatRepository.set_titles_if_pending(db, dict(titles))
        return [chat_id in saved for chat_id, _ in titles]

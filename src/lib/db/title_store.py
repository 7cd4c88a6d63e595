"""The database behind the title writer (`src.lib.streaming.titles.TitleStore`).

Operations: title_pending (does the chat still wait for the model's title), save_title (the
conditional update that an owner's rename wins).
"""

import uuid

from src.lib.db.repositories.chat import ChatRepository
from src.lib.db.session import SessionFactory


class DatabaseTitleStore:
    """Reads and writes chat titles through the chat repository, a short session each."""

    def __init__(self, session_factory: SessionFactory) -> None:
        self.session_factory = session_factory

    async def title_pending(self, chat_id: uuid.UUID) -> bool:
        """Whether the chat exists and the model may still write its title."""
        async with self.session_factory() as db:
            return await ChatRepository.title_pending(db, chat_id)

    async def save_title(self, chat_id: uuid.UUID, title: str) -> bool:
        """Save the title if the chat still waits for one; True when saved."""
        async with self.session_factory.begin() as db:
            return await ChatRepository.set_title_if_pending(db, chat_id, title)

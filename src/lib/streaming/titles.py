"""Titles written by the model after a chat's first reply, off the reply's path.

Offers:
- `TitleWriter`: `schedule` starts a task that asks the title model (`title_model`, else
  the reply's model) for a title (`src.lib.llm.titles.write_title`), saves it only if the
  chat still waits (`TitleStore.save_title`, a conditional update: an owner's rename
  meanwhile wins) and announces `ChatUpdated` to the owner. A failure leaves the title as
  it was and is logged; a later reply of a chat that still waits tries again. The writer
  holds its tasks, so they are neither garbage collected nor left running: `close` cancels
  and awaits them.
- `TitleStore`: what the writer needs of the database.
"""

import asyncio
import uuid
from dataclasses import dataclass
from typing import Protocol

from loguru import logger

from src.lib.llm.catalog import ModelCatalog
from src.lib.llm.provider import ProviderError
from src.lib.llm.titles import write_title
from src.lib.streaming.user_events import ChatUpdated, UserEventBroker


class TitleStore(Protocol):
    """Where chat titles are written."""

    async def save_title(self, chat_id: uuid.UUID, title: str) -> bool:
        """Save the title if the chat still waits for one; True when saved."""


@dataclass(frozen=True, slots=True)
class TitleRequest:
    """A finished reply whose chat may need a title.

    Attributes:
        chat_id: The chat.
        user_id: Its owner (told of the new title).
        model: The model that wrote the reply.
        question: The user message answered.
        answer: The reply's text.
    """

    chat_id: uuid.UUID
    user_id: uuid.UUID
    model: str
    question: str
    answer: str


class TitleWriter:
    """Writes the titles of chats in tasks of its own (see the module docstring)."""

    def __init__(
        self,
        store: TitleStore,
        catalog: ModelCatalog,
        events: UserEventBroker,
        title_model: str | None = None,
    ) -> None:
        """Prepare the writer.

        Args:
            store: The titles' store.
            catalog: The models.
            events: Where the new titles are announced.
            title_model: The model that writes titles; None: the reply's model.
        """
        self.store = store
        self.catalog = catalog
        self.events = events
        self.title_model = title_model
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def pending(self) -> int:
        """How many titles are being written (for metrics and tests)."""
        return len(self._tasks)

    def schedule(self, request: TitleRequest) -> None:
        """Write the chat's title in a task (the caller knows the chat waited for one)."""
        task = asyncio.create_task(self._write(request), name=f"title-{request.chat_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        """Cancel the titles being written and wait until their tasks have ended."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _write(self, request: TitleRequest) -> None:
        chat_id = request.chat_id
        try:
            provider, model = self.catalog.resolve(self.title_model or request.model)
            title = await write_title(provider, model.id, request.question, request.answer)
            if title is None:
                logger.warning("the title model wrote no usable title for chat {}", chat_id)
                return
            if await self.store.save_title(chat_id, title):
                await self.events.announce(request.user_id, ChatUpdated(chat_id))
        except ProviderError as error:
            logger.warning("title of chat {} not written: {}", chat_id, error)
        except Exception:  # a title is a nicety: any fault is logged, never shown
            logger.exception("title of chat {} not written", chat_id)

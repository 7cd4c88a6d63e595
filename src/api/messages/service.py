"""Message rules: adding to a chat's tree, reading threads by pages, per-user feedback.

Messages are as visible as their chat (see `src.api.chats.service`). Any user who may read a
message may rate it: feedback is stored per user, and rating writes nothing else.

Operations (MessageService, one transaction each):
- find_readable: one message, when its chat is readable.
- rate: set or clear the caller's rating of a message.

Steps for another service's transaction:
- history_thread: the end of the path to a message that a reply's history budget needs.

Thread pages (read by a DataLoader, checked here):
- thread_fetch_size: how many messages to read for `last` (the whole thread is refused past
  `MAX_THREAD_MESSAGES`).
- thread_page: the page read (or `empty_thread`), or the error it calls for.
"""

import uuid

from src.core.enums import Rating
from src.core.exceptions import NotFoundError, ValidationError
from src.lib.db.models import Message
from src.lib.db.repositories.feedback import FeedbackRepository
from src.lib.db.repositories.message import MessageRepository, ThreadPage, Turn
from src.lib.db.session import Database, SessionFactory


async def history_thread(
    db: Database, chat_id: uuid.UUID, leaf_id: uuid.UUID, budget_chars: int
) -> list[Turn]:
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


def thread_fetch_size(last: int | None, max_messages: int) -> int:
    """How many messages to read for a thread page: `last`, else one over the limit.

    Raises:
        ValidationError: `last` below 0 or above the limit (`MAX_THREAD_MESSAGES`).
    """
    if last is None:
        return max_messages + 1
    if not 0 <= last <= max_messages:
        raise ValidationError(f"last must be between 0 and {max_messages}.", field="last")
    return last


def empty_thread() -> ThreadPage:
    """The thread of an empty chat: no message, so none that a page could end above."""
    return ThreadPage()


def thread_page(
    page: ThreadPage | None, last: int | None, before: uuid.UUID | None, max_messages: int
) -> list[Message]:
    """The messages of a thread page read with `thread_fetch_size`, checked.

    Raises:
        NotFoundError: The leaf is not in the chat.
        ValidationError: `before` is not on the path to the leaf (field "before"), or, without
            `last`, the page is longer than the limit (field "last").
    """
    if page is None:
        raise NotFoundError()
    if before is not None and not page.found_before:
        raise ValidationError("before is not a message of this thread.", field="before")
    if last is None and len(page.messages) > max_messages:
        raise ValidationError(
            f"This thread is longer than {max_messages} messages: page it with last and before.",
            field="last",
        )
    return page.messages


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

"""Following one reply: live from the broker while it runs, else replayed from the database.

Operations:
- follow_reply: the events of one generation, ending with its terminal event.
- replay_saved: StreamStarted and the terminal event of a reply that is no longer running.
"""

import uuid
from collections.abc import AsyncIterator

from src.core.enums import MessageStatus
from src.lib.db.models import Message
from src.lib.db.session import SessionFactory
from src.lib.streaming.broker import Broker
from src.lib.streaming.events import (
    StreamEvent,
    StreamFailed,
    StreamFinished,
    StreamStarted,
    is_terminal,
)

SAVED_FAILURE = ("PROVIDER_ERROR", "The reply could not be completed.")


def _message_of(event: StreamEvent) -> uuid.UUID:
    return event.assistant_message_id if isinstance(event, StreamStarted) else event.message_id


async def follow_reply(
    broker: Broker,
    session_factory: SessionFactory,
    chat_id: uuid.UUID,
    message_id: uuid.UUID,
    user_message_id: uuid.UUID | None,
) -> AsyncIterator[StreamEvent]:
    """Every event of the generation writing `message_id`, from seq 0 to its terminal event.

    `user_message_id` is the user message the reply answers (None for a regeneration); it is
    used only when the reply has already ended and is replayed from the database.
    """
    active = await broker.active_generation(chat_id)
    if active is not None and active.message_id == message_id:
        async for event in broker.subscribe(chat_id, after_seq=-1):
            if _message_of(event) != message_id:
                break  # a later generation: ours has ended and is saved
            yield event
            if is_terminal(event):
                return
    async for event in replay_saved(session_factory, message_id, user_message_id):
        yield event


async def replay_saved(
    session_factory: SessionFactory, message_id: uuid.UUID, user_message_id: uuid.UUID | None
) -> AsyncIterator[StreamEvent]:
    """StreamStarted and StreamFinished (or StreamFailed) of a reply already saved."""
    async with session_factory() as db:
        message = await db.get(Message, message_id)
    if message is None:
        return
    yield StreamStarted(0, message.chat_id, message.id, user_message_id, message.model or "")
    if message.status == MessageStatus.FAILED:
        yield StreamFailed(1, message.id, *SAVED_FAILURE)
    else:
        finish = message.finish_reason.value if message.finish_reason else "CANCELLED"
        yield StreamFinished(1, message.id, finish, message.usage)

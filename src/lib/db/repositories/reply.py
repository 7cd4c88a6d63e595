"""SQL for replies being generated: partial and final saves, live counts, orphaned replies."""

import uuid
from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any, cast

from sqlalchemy import Select, Table, Update, bindparam, func, select, update

from src.core.enums import FinishReason, MessageStatus
from src.lib.db.models import Chat, Message
from src.lib.db.models.message import STREAMING
from src.lib.db.session import Database
from src.lib.db.types import utcnow
from src.lib.parts import text_of

type SavedReply = tuple[
    uuid.UUID, list[dict[str, Any]], MessageStatus, FinishReason | None, dict[str, int] | None
]
"""A reply to store: (message id, parts, status, finish reason, usage)."""


NO_REPLY = uuid.UUID(int=0)
"""The id `live_count` leaves out when it is to leave none out."""


@cache
def live_count_query() -> Select[int]:
    """The statement of `ReplyRepository.live_count`, with parameters `live_count_parameters`.

    Built once, to be read along with others (see `UsageRepository.record_reply_within`).
    It reads the replies being generated (a partial index holds only those) and looks up each
    one's chat, rather than reading each chat of the user: a user's chats only grow in number.
    """
    owner = select(Chat.user_id).where(Chat.id == Message.chat_id).scalar_subquery()
    return select(func.count(Message.id)).where(
        STREAMING,
        Message.updated_at > bindparam("live_since"),
        Message.id != bindparam("live_excluding"),
        owner == bindparam("live_user_id"),
    )


def live_count_parameters(
    user_id: uuid.UUID, since: datetime, excluding: uuid.UUID | None
) -> dict[str, Any]:
    """The parameters of `live_count_query`."""
    return {"live_user_id": user_id, "live_since": since, "live_excluding": excluding or NO_REPLY}


@cache
def _reply_update(final: bool) -> Update:
    """UPDATE of replies by id from parameters (`_saved_row`), built once for each kind.

    Both store the parts, text and save time; a final save also the status, finish reason and
    usage, a partial one only while the reply is STREAMING.
    """
    messages = cast(Table, Message.__table__)
    values: dict[str, Any] = {
        "parts": bindparam("reply_parts"),
        "text": bindparam("reply_text"),
        "updated_at": bindparam("saved_at"),
    }
    if final:
        values |= {
            "status": bindparam("reply_status"),
            "finish_reason": bindparam("reply_finish"),
            "usage": bindparam("reply_usage"),
        }
        return update(messages).where(messages.c.id == bindparam("reply_id")).values(values)
    return update(messages).where(messages.c.id == bindparam("reply_id"), STREAMING).values(values)


def _saved_row(
    message_id: uuid.UUID, parts: list[dict[str, Any]], saved_at: datetime
) -> dict[str, Any]:
    """The parameters of `_reply_update` that both kinds of save share."""
    return {
        "reply_id": message_id,
        "reply_parts": parts,
        "reply_text": text_of(parts),
        "saved_at": saved_at,
    }


class ReplyRepository:
    """Writes of assistant messages while and after they stream."""

    @staticmethod
    async def save(
        db: Database,
        message_id: uuid.UUID,
        parts: list[dict[str, Any]],
        status: MessageStatus = MessageStatus.STREAMING,
        finish_reason: FinishReason | None = None,
        usage: dict[str, int] | None = None,
    ) -> None:
        """Store a reply's parts (and text), status, finish reason and usage."""
        await ReplyRepository.save_many(db, [(message_id, parts, status, finish_reason, usage)])

    @staticmethod
    async def save_many(db: Database, replies: Sequence[SavedReply]) -> None:
        """Store replies as `save` does, all in one statement."""
        if not replies:
            return
        saved_at = utcnow()
        rows = [
            _saved_row(message_id, parts, saved_at)
            | {"reply_status": status, "reply_finish": finish_reason, "reply_usage": usage}
            for message_id, parts, status, finish_reason, usage in replies
        ]
        await db.execute(_reply_update(final=True), rows)

    @staticmethod
    async def save_partial(
        db: Database, replies: Sequence[tuple[uuid.UUID, list[dict[str, Any]]]]
    ) -> None:
        """Store the parts (and text) of replies still STREAMING, in one statement.

        A reply that has ended meanwhile keeps its final save: the condition on the status
        makes a late partial save a no-op.
        """
        if not replies:
            return
        saved_at = utcnow()
        rows = [_saved_row(message_id, parts, saved_at) for message_id, parts in replies]
        await db.execute(_reply_update(final=False), rows)

    @staticmethod
    async def live_count(
        db: Database, user_id: uuid.UUID, since: datetime, excluding: uuid.UUID | None = None
    ) -> int:
        """How many of the user's replies are STREAMING and were saved since `since`.

        Read on the partial index of STREAMING replies, then their chats by primary key.
        `excluding` leaves one reply out of the count (one being started).
        """
        parameters = live_count_parameters(user_id, since, excluding)
        return int((await db.execute(live_count_query(), parameters)).scalar_one())

    @staticmethod
    async def stale(
        db: Database, saved_before: datetime
    ) -> list[tuple[uuid.UUID, uuid.UUID, str, uuid.UUID]]:
        """(message id, chat id, model, owner) of the STREAMING replies last saved before a time."""
        result = await db.execute(
            select(Message.id, Message.chat_id, Message.model, Chat.user_id)
            .join(Chat, Chat.id == Message.chat_id)
            .where(STREAMING, Message.updated_at < saved_before)
        )
        return [(row.id, row.chat_id, row.model or "", row.user_id) for row in result]

    @staticmethod
    async def interrupt(db: Database, message_ids: list[uuid.UUID]) -> list[uuid.UUID]:
        """Mark those messages still STREAMING INTERRUPTED (text kept); returns their ids."""
        if not message_ids:
            return []
        result = await db.execute(
            update(Message)
            .where(Message.id.in_(message_ids), Message.status == MessageStatus.STREAMING)
            .values(
                status=MessageStatus.INTERRUPTED,
                finish_reason=FinishReason.CANCELLED,
                updated_at=utcnow(),
            )
            .returning(Message.id)
        )
        return list(result.scalars())

"""SQL for message feedback: one rating per user and message."""

import uuid

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from src.core.enums import Rating
from src.lib.db.models import MessageFeedback
from src.lib.db.repositories.chat import dialect_insert
from src.lib.db.types import utcnow


class FeedbackRepository:
    """Reads and writes of the message_feedback table."""

    @staticmethod
    async def ratings(
        db: AsyncSession, user_id: uuid.UUID, message_ids: list[uuid.UUID]
    ) -> dict[uuid.UUID, Rating]:
        """The user's rating of each message; unrated messages are left out."""
        result = await db.execute(
            select(MessageFeedback.message_id, MessageFeedback.rating).where(
                MessageFeedback.user_id == user_id, MessageFeedback.message_id.in_(message_ids)
            )
        )
        return dict(result.all())

    @staticmethod
    async def put(
        db: AsyncSession, user_id: uuid.UUID, message_id: uuid.UUID, rating: Rating
    ) -> None:
        """Set the user's rating of a message (one statement: INSERT ... ON CONFLICT UPDATE)."""
        insert = dialect_insert(db, MessageFeedback).values(
            user_id=user_id, message_id=message_id, rating=rating
        )
        await db.execute(
            insert.on_conflict_do_update(
                index_elements=[MessageFeedback.message_id, MessageFeedback.user_id],
                set_={"rating": insert.excluded.rating, "updated_at": utcnow()},
            )
        )

    @staticmethod
    async def remove(db: AsyncSession, user_id: uuid.UUID, message_id: uuid.UUID) -> None:
        """Clear the user's rating of a message, if any."""
        await db.execute(
            delete(MessageFeedback).where(
                MessageFeedback.user_id == user_id, MessageFeedback.message_id == message_id
            )
        )

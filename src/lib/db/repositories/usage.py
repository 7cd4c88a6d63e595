"""SQL for usage counts (entitlements)."""

import uuid
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from src.lib.db.enums import MessageRole
from src.lib.db.models import Chat, Message


class UsageRepository:
    """Counts of what a user has done."""

    @staticmethod
    async def user_messages_since(
        db: AsyncSession, user_id: uuid.UUID, since: datetime
    ) -> tuple[int, datetime | None]:
        """How many messages the user sent since a time, and when the oldest of them was sent."""
        result = await db.execute(
            select(func.count(Message.id), func.min(Message.created_at))
            .join(Chat, Chat.id == Message.chat_id)
            .where(
                Chat.user_id == user_id,
                Message.role == MessageRole.USER,
                Message.created_at > since,
            )
        )
        count, oldest = result.one()
        return int(count), oldest

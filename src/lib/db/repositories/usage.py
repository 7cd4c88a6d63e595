"""SQL for usage records (daily allowances)."""

import uuid
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from src.lib.db.models import UsageRecord


class UsageRepository:
    """Records of what users sent, and counts of them."""

    @staticmethod
    async def record_message(db: AsyncSession, user_id: uuid.UUID) -> None:
        """Count one message sent by the user now."""
        db.add(UsageRecord(user_id=user_id))
        await db.flush()

    @staticmethod
    async def user_messages_since(
        db: AsyncSession, user_id: uuid.UUID, since: datetime
    ) -> tuple[int, datetime | None]:
        """How many messages the user sent since a time, and when the oldest of them was sent."""
        result = await db.execute(
            select(func.count(UsageRecord.id), func.min(UsageRecord.created_at)).where(
                UsageRecord.user_id == user_id, UsageRecord.created_at > since
            )
        )
        count, oldest = result.one()
        return int(count), oldest

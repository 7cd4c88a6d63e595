"""SQL for usage records (daily allowances)."""

import uuid
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from src.lib.db.models import UsageRecord


class UsageRepository:
    """Records of the replies users asked for, and counts of them."""

    @staticmethod
    async def record_reply(db: AsyncSession, user_id: uuid.UUID) -> None:
        """Count one reply started for the user now."""
        db.add(UsageRecord(user_id=user_id))
        await db.flush()

    @staticmethod
    async def user_messages_since(
        db: AsyncSession, user_id: uuid.UUID, since: datetime
    ) -> tuple[int, datetime | None]:
        """How many replies the user asked for since a time, and when the oldest was started."""
        result = await db.execute(
            select(func.count(UsageRecord.id), func.min(UsageRecord.created_at)).where(
                UsageRecord.user_id == user_id, UsageRecord.created_at > since
            )
        )
        count, oldest = result.one()
        return int(count), oldest

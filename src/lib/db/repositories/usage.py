"""SQL for usage records (daily allowances)."""

import uuid
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Select, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from src.lib.db.models import UsageRecord
from src.lib.db.types import generate_uuid7, utcnow


class UsageRepository:
    """Records of the replies users asked for, and counts of them."""

    @staticmethod
    async def record_reply(db: AsyncSession, user_id: uuid.UUID) -> None:
        """Count one reply started for the user now."""
        await db.execute(
            insert(UsageRecord).values(id=generate_uuid7(), user_id=user_id, created_at=utcnow())
        )

    @staticmethod
    async def user_messages_since(
        db: AsyncSession, user_id: uuid.UUID, since: datetime
    ) -> tuple[int, datetime | None]:
        """How many replies the user asked for since a time, and when the oldest was started."""
        count, oldest, *_ = await UsageRepository.user_messages_with(db, user_id, since)
        return count, oldest

    @staticmethod
    async def user_messages_with(
        db: AsyncSession, user_id: uuid.UUID, since: datetime, *counts: Select[int]
    ) -> tuple[Any, ...]:
        """`user_messages_since`, then the results of other counts, in one statement."""
        used = select(
            func.count(UsageRecord.id).label("used"),
            func.min(UsageRecord.created_at).label("oldest"),
        ).where(UsageRecord.user_id == user_id, UsageRecord.created_at > since)
        if counts:
            used = used.add_columns(*(count.scalar_subquery() for count in counts))
        count, oldest, *others = cast(tuple[Any, ...], (await db.execute(used)).one())
        return (int(count), oldest, *(int(other) for other in others))

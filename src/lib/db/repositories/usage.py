"""SQL for usage records (daily allowances)."""

import uuid
from datetime import datetime
from functools import cache
from typing import cast

from sqlalchemy import Insert, Select, Table, bindparam, func, insert, select

from src.lib.db.models import UsageRecord
from src.lib.db.repositories.reply import live_count_parameters, live_count_query
from src.lib.db.session import Database
from src.lib.db.types import generate_uuid7, utcnow


class UsageRepository:
    """Records of the replies users asked for, and counts of them."""

    @staticmethod
    async def record_reply(db: Database, user_id: uuid.UUID) -> None:
        """Count one reply started for the user now."""
        row = {"id": generate_uuid7(), "user_id": user_id, "created_at": utcnow()}
        await db.execute(_record_insert(), row)

    @staticmethod
    async def user_messages_since(
        db: Database, user_id: uuid.UUID, since: datetime
    ) -> tuple[int, datetime | None]:
        """How many replies the user asked for since a time, and when the oldest was started."""
        result = await db.execute(_used_since(), {"user_id": user_id, "since": since})
        count, oldest = result.one()
        return int(count), oldest

    @staticmethod
    async def use_and_live(
        db: Database,
        user_id: uuid.UUID,
        since: datetime,
        live_since: datetime,
        excluding: uuid.UUID | None,
    ) -> tuple[int, datetime | None, int]:
        """`user_messages_since`, and `ReplyRepository.live_count`, in one statement."""
        parameters = {"user_id": user_id, "since": since}
        parameters |= live_count_parameters(user_id, live_since, excluding)
        count, oldest, live = (await db.execute(_use_and_live(), parameters)).one()
        return int(count), oldest, int(live)


@cache
def _record_insert() -> Insert:
    """INSERT of a usage record from parameters (built once)."""
    return insert(cast(Table, UsageRecord.__table__))


@cache
def _used_since() -> Select[int, datetime]:
    """Count and oldest of a user's usage records since a time (built once)."""
    return select(func.count(UsageRecord.id), func.min(UsageRecord.created_at)).where(
        UsageRecord.user_id == bindparam("user_id"), UsageRecord.created_at > bindparam("since")
    )


@cache
def _use_and_live() -> Select[int, datetime, int]:
    """`_used_since` with the live count as a third column (built once)."""
    return _used_since().add_columns(live_count_query().scalar_subquery())

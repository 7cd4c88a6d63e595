"""SQL for usage records (daily allowances)."""

import uuid
from datetime import datetime
from functools import cache
from typing import cast

from sqlalchemy import Select, Table, bindparam, func, insert, select
from sqlalchemy.sql.dml import ReturningInsert

from src.lib.db.models import UsageRecord
from src.lib.db.repositories.reply import live_count_parameters, live_count_query
from src.lib.db.session import Database
from src.lib.db.types import generate_uuid7, utcnow


class UsageRepository:
    """Records of the replies users asked for, and counts of them."""

    @staticmethod
    async def record_reply_within(
        db: Database,
        user_id: uuid.UUID,
        since: datetime,
        max_used: int,
        live_since: datetime,
        max_live: int,
        excluding: uuid.UUID | None,
    ) -> bool:
        """Count one reply started for the user now, within limits; whether it was counted.

        The limits: fewer than `max_used` replies since `since` (`user_messages_since`), and
        fewer than `max_live` live since `live_since` (`ReplyRepository.live_count`, leaving out
        `excluding`).
        """
        parameters = {
            "record_id": generate_uuid7(),
            "user_id": user_id,
            "recorded_at": utcnow(),
            "since": since,
            "max_used": max_used,
            "max_live": max_live,
        }
        parameters |= live_count_parameters(user_id, live_since, excluding)
        return (await db.execute(_record_within(), parameters)).first() is not None

    @staticmethod
    async def user_messages_since(
        db: Database, user_id: uuid.UUID, since: datetime
    ) -> tuple[int, datetime | None]:
        """How many replies the user asked for since a time, and when the oldest was started."""
        result = await db.execute(_used_since(), {"user_id": user_id, "since": since})
        count, oldest = result.one()
        return int(count), oldest


@cache
def _record_within() -> ReturningInsert[uuid.UUID]:
    """INSERT ... SELECT of `record_reply_within`, RETURNING the id when inserted (built once)."""
    records = cast(Table, UsageRecord.__table__)
    used = select(func.count()).where(
        records.c.user_id == bindparam("user_id"), records.c.created_at > bindparam("since")
    )
    row = select(
        bindparam("record_id", type_=records.c.id.type),
        bindparam("user_id", type_=records.c.user_id.type),
        bindparam("recorded_at", type_=records.c.created_at.type),
    ).where(
        used.scalar_subquery() < bindparam("max_used"),
        live_count_query().scalar_subquery() < bindparam("max_live"),
    )
    columns = ["id", "user_id", "created_at"]
    return insert(records).from_select(columns, row).returning(records.c.id)


@cache
def _used_since() -> Select[int, datetime]:
    """Count and oldest of a user's usage records since a time (built once)."""
    return select(func.count(), func.min(UsageRecord.created_at)).where(
        UsageRecord.user_id == bindparam("user_id"), UsageRecord.created_at > bindparam("since")
    )

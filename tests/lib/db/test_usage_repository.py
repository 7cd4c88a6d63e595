"""UsageRepository: one record per message sent, counted over a window."""

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from src.lib.db.models import UsageRecord, User
from src.lib.db.repositories.usage import UsageRepository
from src.lib.db.types import utcnow
from tests.lib.db.factories import at, count_rows, make_user


async def _sent_at(db: AsyncSession, user: User, *times: datetime) -> None:
    """Usage records of messages the user sent at those times."""
    db.add_all(UsageRecord(user_id=user.id, created_at=time) for time in times)
    await db.flush()


async def test_record_reply_counts_a_reply_started_now(db: AsyncSession) -> None:
    ada = await make_user(db)
    before = utcnow()

    await UsageRepository.record_reply(db, ada.id)
    await UsageRepository.record_reply(db, ada.id)

    count, oldest = await UsageRepository.user_messages_since(
        db, ada.id, before - timedelta(days=1)
    )
    assert count == 2
    assert oldest is not None and before <= oldest <= utcnow()
    assert await count_rows(db, UsageRecord) == 2


async def test_user_messages_since_counts_only_the_window(db: AsyncSession) -> None:
    ada = await make_user(db)
    await _sent_at(db, ada, at(30), at(10), at(0), at(-100), at(20))

    assert await UsageRepository.user_messages_since(db, ada.id, at(5)) == (3, at(10))
    assert await UsageRepository.user_messages_since(db, ada.id, at(-1)) == (4, at(0))
    assert await UsageRepository.user_messages_since(db, ada.id, at(-1000)) == (5, at(-100))


async def test_user_messages_since_counts_only_that_user(db: AsyncSession) -> None:
    ada, bob = await make_user(db), await make_user(db)
    await _sent_at(db, ada, at(10))
    await _sent_at(db, bob, at(1), at(2))

    assert await UsageRepository.user_messages_since(db, ada.id, at(0)) == (1, at(10))
    assert await UsageRepository.user_messages_since(db, bob.id, at(0)) == (2, at(1))


async def test_user_messages_since_is_zero_and_none_without_records(db: AsyncSession) -> None:
    ada, bob = await make_user(db), await make_user(db)
    await _sent_at(db, bob, at(10))
    await _sent_at(db, ada, at(-10))

    assert await UsageRepository.user_messages_since(db, ada.id, at(0)) == (0, None)

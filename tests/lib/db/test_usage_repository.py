"""UsageRepository: one record per message sent, counted over a window."""

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from src.core.enums import MessageRole, MessageStatus
from src.lib.db.models import UsageRecord, User
from src.lib.db.repositories.usage import UsageRepository
from src.lib.db.types import utcnow
from tests.lib.db.factories import at, count_rows, make_chat, make_message, make_user


async def _sent_at(db: AsyncSession, user: User, *times: datetime) -> None:
    """Usage records of messages the user sent at those times."""
    db.add_all(UsageRecord(user_id=user.id, created_at=time) for time in times)
    await db.flush()


async def _record(db: AsyncSession, user: User, max_used: int = 10, max_live: int = 10) -> bool:
    """`record_reply_within` over the last day, with replies live over the last minute."""
    now = utcnow()
    return await UsageRepository.record_reply_within(
        db, user.id, now - timedelta(days=1), max_used, now - timedelta(minutes=1), max_live, None
    )


async def test_record_reply_within_counts_a_reply_started_now(db: AsyncSession) -> None:
    ada = await make_user(db)
    before = utcnow()

    assert await _record(db, ada)
    assert await _record(db, ada)

    count, oldest = await UsageRepository.user_messages_since(
        db, ada.id, before - timedelta(days=1)
    )
    assert count == 2
    assert oldest is not None and before <= oldest <= utcnow()
    assert await count_rows(db, UsageRecord) == 2


async def test_record_reply_within_stops_at_the_allowance(db: AsyncSession) -> None:
    ada, bob = await make_user(db), await make_user(db)
    await _sent_at(db, ada, utcnow() - timedelta(days=2))  # out of the window
    await _sent_at(db, bob, utcnow())

    assert await _record(db, ada, max_used=2)
    assert await _record(db, ada, max_used=2)
    assert not await _record(db, ada, max_used=2)
    used, _ = await UsageRepository.user_messages_since(db, ada.id, utcnow() - timedelta(days=1))
    assert used == 2


async def test_record_reply_within_stops_at_the_cap_of_live_replies(db: AsyncSession) -> None:
    ada = await make_user(db)
    chat = await make_chat(db, ada)
    question = await make_message(db, chat)
    live = await make_message(
        db, chat, "", question, MessageRole.ASSISTANT, MessageStatus.STREAMING, utcnow()
    )
    now = utcnow()
    since, live_since = now - timedelta(days=1), now - timedelta(minutes=1)

    assert not await _record(db, ada, max_live=1)
    assert await UsageRepository.record_reply_within(db, ada.id, since, 10, live_since, 1, live.id)
    assert await _record(db, ada, max_live=2)
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

"""FeedbackRepository: one rating per user and message, set, replaced, read and removed."""

from sqlalchemy.ext.asyncio import AsyncSession

from src.core.enums import Rating
from src.lib.db.models import Message, MessageFeedback
from src.lib.db.repositories.feedback import FeedbackRepository
from tests.lib.db.factories import count_rows, make_chat, make_message, make_user, new_id


async def _messages(db: AsyncSession, count: int) -> list[Message]:
    chat = await make_chat(db, await make_user(db))
    return [await make_message(db, chat, f"message {n}") for n in range(count)]


async def test_put_stores_the_users_rating(db: AsyncSession) -> None:
    ada = await make_user(db)
    [message] = await _messages(db, 1)

    await FeedbackRepository.put(db, ada.id, message.id, Rating.UP)

    assert await FeedbackRepository.ratings(db, ada.id, [message.id]) == {message.id: Rating.UP}


async def test_put_again_replaces_the_rating(db: AsyncSession) -> None:
    ada = await make_user(db)
    [message] = await _messages(db, 1)
    await FeedbackRepository.put(db, ada.id, message.id, Rating.UP)

    await FeedbackRepository.put(db, ada.id, message.id, Rating.DOWN)
    await FeedbackRepository.put(db, ada.id, message.id, Rating.DOWN)

    assert await FeedbackRepository.ratings(db, ada.id, [message.id]) == {message.id: Rating.DOWN}
    assert await count_rows(db, MessageFeedback) == 1


async def test_ratings_are_each_users_own(db: AsyncSession) -> None:
    ada, bob = await make_user(db), await make_user(db)
    first, second, unrated = await _messages(db, 3)
    await FeedbackRepository.put(db, ada.id, first.id, Rating.UP)
    await FeedbackRepository.put(db, ada.id, second.id, Rating.DOWN)
    await FeedbackRepository.put(db, bob.id, first.id, Rating.DOWN)

    asked = [first.id, second.id, unrated.id, new_id()]
    assert await FeedbackRepository.ratings(db, ada.id, asked) == {
        first.id: Rating.UP,
        second.id: Rating.DOWN,
    }
    assert await FeedbackRepository.ratings(db, bob.id, asked) == {first.id: Rating.DOWN}
    assert await FeedbackRepository.ratings(db, ada.id, [first.id]) == {first.id: Rating.UP}
    assert await FeedbackRepository.ratings(db, ada.id, []) == {}


async def test_remove_clears_only_the_users_rating(db: AsyncSession) -> None:
    ada, bob = await make_user(db), await make_user(db)
    first, second = await _messages(db, 2)
    await FeedbackRepository.put(db, ada.id, first.id, Rating.UP)
    await FeedbackRepository.put(db, ada.id, second.id, Rating.UP)
    await FeedbackRepository.put(db, bob.id, first.id, Rating.DOWN)

    await FeedbackRepository.remove(db, ada.id, first.id)

    assert await FeedbackRepository.ratings(db, ada.id, [first.id, second.id]) == {
        second.id: Rating.UP
    }
    assert await FeedbackRepository.ratings(db, bob.id, [first.id]) == {first.id: Rating.DOWN}


async def test_remove_without_a_rating_does_nothing(db: AsyncSession) -> None:
    ada, bob = await make_user(db), await make_user(db)
    [message] = await _messages(db, 1)
    await FeedbackRepository.put(db, bob.id, message.id, Rating.UP)

    await FeedbackRepository.remove(db, ada.id, message.id)

    assert await count_rows(db, MessageFeedback) == 1


async def test_a_rating_can_be_set_again_after_removal(db: AsyncSession) -> None:
    ada = await make_user(db)
    [message] = await _messages(db, 1)
    await FeedbackRepository.put(db, ada.id, message.id, Rating.UP)
    await FeedbackRepository.remove(db, ada.id, message.id)

    await FeedbackRepository.put(db, ada.id, message.id, Rating.DOWN)

    assert await FeedbackRepository.ratings(db, ada.id, [message.id]) == {message.id: Rating.DOWN}

"""ChatRepository: idempotent creation, access rules, keyset pages, search, count, deletion."""

import asyncio
import uuid
from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from src.core.enums import Rating, Visibility
from src.lib.db.models import Chat, Message, MessageFeedback, UsageRecord, User
from src.lib.db.repositories.chat import ChatHead, ChatRepository
from src.lib.db.repositories.message import MessageRepository
from src.lib.db.session import SessionFactory
from src.lib.db.types import generate_uuid7
from tests.lib.db.factories import (
    at,
    count_rows,
    make_chat,
    make_message,
    make_thread,
    make_user,
    new_id,
)


def _ids(chats: list[Chat]) -> list[uuid.UUID]:
    return [chat.id for chat in chats]


async def _all_pages(
    db: AsyncSession, user: User, search: str | None, limit: int
) -> list[list[uuid.UUID]]:
    """Walk `page` from the start, each page after the last chat of the one before."""
    pages: list[list[uuid.UUID]] = []
    after: tuple[datetime, uuid.UUID] | None = None
    while True:
        page = await ChatRepository.page(db, user.id, search, after, limit)
        if not page:
            return pages
        assert len(pages) < 20, "the cursor does not advance"
        pages.append(_ids(page))
        after = (page[-1].updated_at, page[-1].id)


async def test_insert_or_get_creates_the_chat(db: AsyncSession) -> None:
    ada = await make_user(db)
    chat_id = generate_uuid7()

    chat = await ChatRepository.insert_or_get(db, chat_id, ada.id, "Plans", Visibility.PUBLIC)

    assert (chat.id, chat.user_id, chat.title, chat.visibility) == (
        chat_id,
        ada.id,
        "Plans",
        Visibility.PUBLIC,
    )
    assert chat.current_leaf_id is None
    assert chat.created_at is not None and chat.updated_at is not None
    assert await count_rows(db, Chat) == 1


async def test_insert_or_get_returns_the_existing_chat_whoever_owns_it(db: AsyncSession) -> None:
    ada, bob = await make_user(db), await make_user(db)
    chat_id = generate_uuid7()
    first = await ChatRepository.insert_or_get(db, chat_id, ada.id, "Ada's", Visibility.PRIVATE)

    again = await ChatRepository.insert_or_get(db, chat_id, ada.id, "Other", Visibility.PUBLIC)
    taken = await ChatRepository.insert_or_get(db, chat_id, bob.id, "Bob's", Visibility.PUBLIC)

    assert again.id == taken.id == first.id
    assert (taken.user_id, taken.title, taken.visibility) == (ada.id, "Ada's", Visibility.PRIVATE)
    assert await count_rows(db, Chat) == 1


async def test_insert_or_get_leaves_the_stored_row_unchanged(
    session_factory: SessionFactory,
) -> None:
    chat_id = generate_uuid7()
    async with session_factory.begin() as db:
        ada, bob = await make_user(db), await make_user(db)
        await ChatRepository.insert_or_get(db, chat_id, ada.id, "First", Visibility.PRIVATE)

    async with session_factory.begin() as db:
        chat = await ChatRepository.insert_or_get(db, chat_id, bob.id, "Second", Visibility.PUBLIC)
        assert (chat.user_id, chat.title, chat.visibility) == (ada.id, "First", Visibility.PRIVATE)

    async with session_factory() as db:
        stored = await db.get(Chat, chat_id)
        assert stored is not None
        assert (stored.user_id, stored.title, stored.visibility) == (
            ada.id,
            "First",
            Visibility.PRIVATE,
        )
        assert await count_rows(db, Chat) == 1


async def test_insert_or_get_head_and_head_run_in_a_core_connection(
    session_factory: SessionFactory, engine: AsyncEngine
) -> None:
    async with session_factory.begin() as db:
        ada, bob = await make_user(db), await make_user(db)
    chat_id, leaf_id = generate_uuid7(), generate_uuid7()

    async with engine.begin() as connection:
        created = await ChatRepository.insert_or_get_head(
            connection, chat_id, ada.id, "Plans", leaf_id, title_pending=True
        )
        taken = await ChatRepository.insert_or_get_head(
            connection, chat_id, bob.id, "Bob's", None, title_pending=False
        )
        read = await ChatRepository.head(connection, chat_id)
        assert await ChatRepository.head(connection, new_id()) is None

    assert created == taken == read == ChatHead(chat_id, ada.id, leaf_id, True)
    async with session_factory() as db:
        stored = await db.get(Chat, chat_id)
        assert stored is not None and (stored.title, stored.visibility) == (
            "Plans",
            Visibility.PRIVATE,
        )


async def test_concurrent_insert_or_get_of_one_id_both_succeed_with_one_row(
    session_factory: SessionFactory,
) -> None:
    async with session_factory.begin() as db:
        ada, bob = await make_user(db), await make_user(db)
    chat_id = generate_uuid7()

    async def create(owner: User, title: str) -> Chat:
        async with session_factory.begin() as db:
            return await ChatRepository.insert_or_get(
                db, chat_id, owner.id, title, Visibility.PRIVATE
            )

    first, second = await asyncio.gather(create(ada, "Ada's"), create(bob, "Bob's"))

    assert (first.user_id, first.title) == (second.user_id, second.title)
    async with session_factory() as db:
        assert await count_rows(db, Chat) == 1
        stored = await db.get(Chat, chat_id)
        assert stored is not None and stored.user_id == first.user_id


async def test_get_readable_lets_the_owner_read_a_private_chat(db: AsyncSession) -> None:
    ada = await make_user(db)
    chat = await make_chat(db, ada, visibility=Visibility.PRIVATE)

    assert await ChatRepository.get_readable(db, chat.id, ada.id) is chat


async def test_get_readable_hides_a_private_chat_from_others(db: AsyncSession) -> None:
    ada, bob = await make_user(db), await make_user(db)
    chat = await make_chat(db, ada, visibility=Visibility.PRIVATE)

    assert await ChatRepository.get_readable(db, chat.id, bob.id) is None


async def test_get_readable_shows_a_public_chat_to_others(db: AsyncSession) -> None:
    ada, bob = await make_user(db), await make_user(db)
    chat = await make_chat(db, ada, visibility=Visibility.PUBLIC)

    assert await ChatRepository.get_readable(db, chat.id, bob.id) is chat


async def test_get_readable_returns_none_for_an_unknown_chat(db: AsyncSession) -> None:
    ada = await make_user(db)
    await make_chat(db, ada, visibility=Visibility.PUBLIC)

    assert await ChatRepository.get_readable(db, new_id(), ada.id) is None


async def test_get_owned_returns_only_the_owners_chat(db: AsyncSession) -> None:
    ada, bob = await make_user(db), await make_user(db)
    private = await make_chat(db, ada, visibility=Visibility.PRIVATE)
    public = await make_chat(db, ada, visibility=Visibility.PUBLIC)

    assert await ChatRepository.get_owned(db, private.id, ada.id) is private
    assert await ChatRepository.get_owned(db, public.id, ada.id) is public
    assert await ChatRepository.get_owned(db, private.id, bob.id) is None
    assert await ChatRepository.get_owned(db, public.id, bob.id) is None
    assert await ChatRepository.get_owned(db, new_id(), ada.id) is None


async def test_page_lists_the_users_chats_most_recently_updated_first(db: AsyncSession) -> None:
    ada, bob = await make_user(db), await make_user(db)
    middle = await make_chat(db, ada, "middle", updated_at=at(2))
    oldest = await make_chat(db, ada, "oldest", updated_at=at(1))
    newest = await make_chat(db, ada, "newest", updated_at=at(3))
    await make_chat(db, bob, "bob's", Visibility.PUBLIC, updated_at=at(4))

    page = await ChatRepository.page(db, ada.id, None, None, 10)

    assert _ids(page) == [newest.id, middle.id, oldest.id]


async def test_page_stops_at_the_limit(db: AsyncSession) -> None:
    ada = await make_user(db)
    chats = [await make_chat(db, ada, updated_at=at(second)) for second in range(5)]

    page = await ChatRepository.page(db, ada.id, None, None, 2)

    assert _ids(page) == [chats[4].id, chats[3].id]


async def test_page_after_a_cursor_continues_where_the_last_page_ended(db: AsyncSession) -> None:
    ada = await make_user(db)
    chats = [await make_chat(db, ada, updated_at=at(second)) for second in range(5)]
    newest_first = [chat.id for chat in reversed(chats)]

    assert await _all_pages(db, ada, None, 2) == [
        newest_first[0:2],
        newest_first[2:4],
        newest_first[4:5],
    ]


async def test_page_breaks_ties_of_updated_at_by_id_descending(db: AsyncSession) -> None:
    ada = await make_user(db)
    chats = [await make_chat(db, ada, updated_at=at(0)) for _ in range(5)]
    by_id_descending = sorted((chat.id for chat in chats), reverse=True)

    assert _ids(await ChatRepository.page(db, ada.id, None, None, 10)) == by_id_descending
    pages = await _all_pages(db, ada, None, 2)
    assert [chat_id for page in pages for chat_id in page] == by_id_descending


async def test_page_search_matches_titles_and_message_text_in_any_case(db: AsyncSession) -> None:
    ada = await make_user(db)
    by_title = await make_chat(db, ada, "Trip to LISBON", updated_at=at(1))
    by_message = await make_chat(db, ada, "Holidays", updated_at=at(2))
    await make_message(db, by_message, "flights to Lisbon in May")
    await make_message(db, by_message, "and back from lisbon")
    elsewhere = await make_chat(db, ada, "Porto", updated_at=at(3))
    await make_message(db, elsewhere, "nothing about it")

    page = await ChatRepository.page(db, ada.id, "lisbon", None, 10)

    assert _ids(page) == [by_message.id, by_title.id]


async def test_page_search_ignores_the_case_of_non_ascii_letters(db: AsyncSession) -> None:
    ada = await make_user(db)
    by_title = await make_chat(db, ada, "Trip to ÉVORA", updated_at=at(1))
    by_message = await make_chat(db, ada, "Holidays", updated_at=at(2))
    await make_message(db, by_message, "Ärger in Évora")

    assert _ids(await ChatRepository.page(db, ada.id, "évora", None, 10)) == [
        by_message.id,
        by_title.id,
    ]
    assert await ChatRepository.count(db, ada.id, "ärger") == 1


async def test_page_search_leaves_out_other_users_chats(db: AsyncSession) -> None:
    ada, bob = await make_user(db), await make_user(db)
    own = await make_chat(db, ada, "lisbon")
    public = await make_chat(db, bob, "lisbon", Visibility.PUBLIC)
    await make_message(db, public, "lisbon")

    assert _ids(await ChatRepository.page(db, ada.id, "lisbon", None, 10)) == [own.id]


async def test_page_search_takes_wildcards_and_the_escape_character_literally(
    db: AsyncSession,
) -> None:
    ada = await make_user(db)
    percent = await make_chat(db, ada, "100% sure")
    underscore = await make_chat(db, ada, "snake_case")
    slash = await make_chat(db, ada, "and/or")
    await make_chat(db, ada, "1000 sure")
    await make_chat(db, ada, "snakeXcase")
    await make_chat(db, ada, "andor")

    assert _ids(await ChatRepository.page(db, ada.id, "0%", None, 10)) == [percent.id]
    assert _ids(await ChatRepository.page(db, ada.id, "e_c", None, 10)) == [underscore.id]
    assert _ids(await ChatRepository.page(db, ada.id, "d/o", None, 10)) == [slash.id]
    assert await ChatRepository.page(db, ada.id, "%", None, 10) == [percent]
    assert await ChatRepository.page(db, ada.id, "'; --", None, 10) == []


async def test_page_search_pages_with_the_cursor(db: AsyncSession) -> None:
    ada = await make_user(db)
    matching = [await make_chat(db, ada, f"lisbon {n}", updated_at=at(n)) for n in range(3)]
    await make_chat(db, ada, "porto", updated_at=at(10))

    assert await _all_pages(db, ada, "lisbon", 2) == [
        [matching[2].id, matching[1].id],
        [matching[0].id],
    ]


async def test_count_counts_what_page_would_list(db: AsyncSession) -> None:
    ada, bob = await make_user(db), await make_user(db)
    for title in ("lisbon", "porto", "Lisbon again", "madrid"):
        await make_chat(db, ada, title)
    with_messages = await make_chat(db, ada, "trip")
    await make_message(db, with_messages, "lisbon")
    await make_message(db, with_messages, "LISBON")
    await make_chat(db, bob, "lisbon", Visibility.PUBLIC)

    assert await ChatRepository.count(db, ada.id, None) == 5
    assert await ChatRepository.count(db, ada.id, "lisbon") == 3
    assert await ChatRepository.count(db, ada.id, "berlin") == 0
    assert await ChatRepository.count(db, bob.id, None) == 1
    assert await ChatRepository.count(db, new_id(), None) == 0


async def test_delete_owned_deletes_the_chat_its_messages_and_their_feedback(
    db: AsyncSession,
) -> None:
    ada, bob = await make_user(db), await make_user(db)
    chat = await make_chat(db, ada)
    question = await make_message(db, chat, "question")
    answer = await make_message(db, chat, "answer", question)
    await make_message(db, chat, "follow-up", answer)
    db.add(MessageFeedback(user_id=bob.id, message_id=answer.id, rating=Rating.UP))
    db.add(UsageRecord(user_id=ada.id))
    kept = await make_chat(db, ada)
    kept_message = await make_message(db, kept, "kept")
    db.add(MessageFeedback(user_id=ada.id, message_id=kept_message.id, rating=Rating.DOWN))
    await db.flush()

    assert await ChatRepository.delete_owned(db, chat.id, ada.id) is True

    assert await ChatRepository.get_owned(db, chat.id, ada.id) is None
    assert await ChatRepository.get_owned(db, kept.id, ada.id) is not None
    assert await count_rows(db, Message) == 1
    assert await count_rows(db, MessageFeedback) == 1
    assert await count_rows(db, UsageRecord) == 1


async def test_a_chat_as_deep_as_sqlites_trigger_limit_is_deleted_with_its_feedback(
    db: AsyncSession,
) -> None:
    ada = await make_user(db)
    chat = await make_chat(db, ada)
    thread = await make_thread(db, chat, 1_200)
    db.add(MessageFeedback(user_id=ada.id, message_id=thread[700].id, rating=Rating.UP))
    kept = await make_message(db, await make_chat(db, ada))

    assert await ChatRepository.delete_owned(db, chat.id, ada.id) is True

    assert await count_rows(db, Message) == 1
    assert await count_rows(db, MessageFeedback) == 0
    assert await MessageRepository.get(db, kept.id) is kept


async def test_deleting_a_user_deletes_their_deep_chats(db: AsyncSession) -> None:
    ada, bob = await make_user(db), await make_user(db)
    for _ in range(2):
        await make_thread(db, await make_chat(db, ada), 1_200)
    await make_thread(db, await make_chat(db, bob), 3)

    await db.execute(delete(User).where(User.id == ada.id))

    assert await count_rows(db, Chat) == 1
    assert await count_rows(db, Message) == 3


async def test_delete_owned_does_not_delete_another_users_chat(db: AsyncSession) -> None:
    ada, bob = await make_user(db), await make_user(db)
    chat = await make_chat(db, ada, visibility=Visibility.PUBLIC)
    await make_message(db, chat)

    assert await ChatRepository.delete_owned(db, chat.id, bob.id) is False

    assert await ChatRepository.get_owned(db, chat.id, ada.id) is not None
    assert await count_rows(db, Message) == 1


async def test_delete_owned_returns_false_for_an_unknown_or_deleted_chat(db: AsyncSession) -> None:
    ada = await make_user(db)
    chat = await make_chat(db, ada)

    assert await ChatRepository.delete_owned(db, new_id(), ada.id) is False
    assert await ChatRepository.delete_owned(db, chat.id, ada.id) is True
    assert await ChatRepository.delete_owned(db, chat.id, ada.id) is False

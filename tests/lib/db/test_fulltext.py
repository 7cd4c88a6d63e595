"""The full-text index: kept in step by the database on every write, searched by repositories."""

import uuid

from sqlalchemy import delete, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from src.core.enums import MessageStatus, Visibility
from src.lib.db.models import Message, User
from src.lib.db.repositories.chat import ChatRepository
from src.lib.db.repositories.message import MessageRepository
from src.lib.db.repositories.reply import ReplyRepository
from tests.lib.db.factories import at, make_chat, make_message, make_user, text_parts


async def _found(db: AsyncSession, user: User, *terms: str) -> list[uuid.UUID]:
    hits = await MessageRepository.search(db, user.id, terms, None, 100)
    return [message.id for message, _, _ in hits]


async def _index_is_sound(db: AsyncSession) -> None:
    """On SQLite, FTS5 checks its index against the messages (raises when they differ)."""
    if db.get_bind().dialect.name == "sqlite":
        await db.execute(
            text("INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)")
        )


async def test_the_index_follows_inserts_updates_and_deletes(db: AsyncSession) -> None:
    ada = await make_user(db)
    chat = await make_chat(db, ada)
    kept = await make_message(db, chat, "a red fox")
    changed = await make_message(db, chat, "a red hen")
    gone = await make_message(db, chat, "a red cat")

    await ReplyRepository.save(db, changed.id, text_parts("a blue hen"))
    await db.execute(
        update(Message).where(Message.id == kept.id).values(status=MessageStatus.INTERRUPTED)
    )
    await db.execute(delete(Message).where(Message.id == gone.id))

    assert await _found(db, ada, "red") == [kept.id]
    assert await _found(db, ada, "blue", "hen") == [changed.id]
    assert await _found(db, ada, "cat") == []
    await _index_is_sound(db)


async def test_deleting_a_chat_or_its_owner_takes_the_messages_out_of_the_index(
    db: AsyncSession,
) -> None:
    ada, bob = await make_user(db), await make_user(db)
    adas, bobs = await make_chat(db, ada), await make_chat(db, bob)
    root = await make_message(db, adas, "lonely words")
    await make_message(db, adas, "lonely reply", parent=root)
    await make_message(db, bobs, "lonely too")

    await ChatRepository.delete_owned(db, adas.id, ada.id)
    await db.execute(delete(User).where(User.id == bob.id))

    assert await _found(db, ada, "lonely") == []
    await _index_is_sound(db)


async def test_search_ranks_more_occurrences_first_then_newer(db: AsyncSession) -> None:
    ada = await make_user(db)
    chat = await make_chat(db, ada)
    once = await make_message(db, chat, "owl and a cat", created_at=at(1))
    twice = await make_message(db, chat, "owl and an owl", created_at=at(2))
    once_again = await make_message(db, chat, "owl and a cat", created_at=at(3))

    hits = await MessageRepository.search(db, ada.id, ["owl"], None, 10)

    assert [message.id for message, _, _ in hits] == [twice.id, once_again.id, once.id]
    assert {hit_chat.id for _, hit_chat, _ in hits} == {chat.id}
    scores = [score for _, _, score in hits]
    assert scores[0] > scores[1] == scores[2]
    rest = await MessageRepository.search(db, ada.id, ["owl"], (scores[1], once_again.id), 10)
    assert [message.id for message, _, _ in rest] == [once.id]


async def test_search_sees_only_the_users_own_chats(db: AsyncSession) -> None:
    ada, bob = await make_user(db), await make_user(db)
    own = await make_message(db, await make_chat(db, ada), "shared word")
    await make_message(db, await make_chat(db, bob, visibility=Visibility.PUBLIC), "shared word")

    assert await _found(db, ada, "shared", "word") == [own.id]


async def test_words_split_at_anything_but_letters_and_digits(db: AsyncSession) -> None:
    ada = await make_user(db)
    chat = await make_chat(db, ada)
    message = await make_message(db, chat, "see main.py, ada@example.com and e-mail v2.0")

    for terms in (["main"], ["py"], ["ada", "example", "com"], ["e", "mail"], ["v2", "0"]):
        assert await _found(db, ada, *terms) == [message.id], terms
    for terms in (["mai"], ["exampl"], ["v"]):
        assert await _found(db, ada, *terms) == [], terms


async def test_a_search_page_counts_the_matching_chats_in_the_same_statement(
    db: AsyncSession,
) -> None:
    ada = await make_user(db)
    chats = [await make_chat(db, ada, f"trip {n}", updated_at=at(n)) for n in range(3)]
    by_message = await make_chat(db, ada, "plans", updated_at=at(5))
    await make_message(db, by_message, "the trip to Lisbon")
    await make_chat(db, ada, "other", updated_at=at(6))

    first = await ChatRepository.page(db, ada.id, "trip", None, 2)
    last = await ChatRepository.page(db, ada.id, "trip", (first[-1].updated_at, first[-1].id), 5)
    past_the_end = await ChatRepository.page(db, ada.id, "trip", (at(-1), chats[0].id), 5)

    assert [chat.id for chat in first] == [by_message.id, chats[2].id]
    assert [chat.id for chat in last] == [chats[1].id, chats[0].id]
    assert (first.total, last.total, past_the_end.total) == (4, 4, None)
    assert (await ChatRepository.page(db, ada.id, None, None, 2)).total is None
    assert (await ChatRepository.page(db, ada.id, "nowhere", None, 2)).total == 0


async def test_the_tool_search_needs_every_word(db: AsyncSession) -> None:
    ada = await make_user(db)
    chat = await make_chat(db, ada)
    both = await make_message(db, chat, "Lisbon in May")
    await make_message(db, chat, "Lisbon in June")

    assert [m.id for m in await MessageRepository.search_own(db, ada.id, "may lisbon", 10)] == [
        both.id
    ]
    assert await MessageRepository.search_own(db, ada.id, "?!", 10) == []

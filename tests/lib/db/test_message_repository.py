"""MessageRepository: adding, reads under the chat's access rule, search, and batched reads."""

import uuid
from collections.abc import Sequence
from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from src.core.enums import MessageRole, MessageStatus, Visibility
from src.lib.db.models import Chat, Message
from src.lib.db.repositories.message import MessageHead, MessageRepository, NewMessage, Turn
from src.lib.db.session import SessionFactory
from src.lib.db.types import generate_uuid7
from src.lib.llm.history import build_history
from tests.lib.db.factories import (
    at,
    make_chat,
    make_message,
    make_thread,
    make_user,
    new_id,
    text_parts,
)
from tests.lib.db.plans import plan_of

ASSISTANT = MessageRole.ASSISTANT


def _ids(messages: Sequence[Message | Turn]) -> list[uuid.UUID]:
    return [message.id for message in messages]


def _key(message: Message) -> tuple[datetime, uuid.UUID]:
    return (message.created_at, message.id)


def _turns(messages: Sequence[Message | Turn]) -> list[tuple[str, list[dict[str, Any]]]]:
    return [(message.role.value, message.parts) for message in messages]


async def _timeline(db: AsyncSession, chat: Chat, length: int) -> list[Message]:
    """`length` root messages of a chat, one second apart, oldest first."""
    return [await make_message(db, chat, f"message {n}", created_at=at(n)) for n in range(length)]


async def _add(
    db: AsyncSession,
    chat_id: uuid.UUID,
    parent_id: uuid.UUID | None,
    role: MessageRole,
    parts: list[dict[str, Any]],
    status: MessageStatus = MessageStatus.COMPLETE,
    model: str | None = None,
) -> Message:
    """One message inserted with insert_many, read back."""
    new = NewMessage(generate_uuid7(), chat_id, parent_id, role, parts, status, model)
    await MessageRepository.insert_many(db, [new])
    message = await MessageRepository.get(db, new.id)
    assert message is not None
    return message


async def test_insert_many_writes_each_message_with_its_text_made_from_the_text_parts(
    db: AsyncSession,
) -> None:
    chat = await make_chat(db, await make_user(db))
    parent = await make_message(db, chat)
    parts: list[dict[str, Any]] = [
        {"type": "text", "text": "Look "},
        {"type": "file", "url": "https://example.com/a.png", "media_type": "image/png"},
        {"type": "tool_call", "tool_call_id": "c1", "tool_name": "search", "arguments": {}},
        {"type": "text", "text": "at this."},
    ]
    question = NewMessage(generate_uuid7(), chat.id, parent.id, MessageRole.USER, text_parts("hi"))
    reply = NewMessage(
        generate_uuid7(), chat.id, question.id, ASSISTANT, parts, MessageStatus.STREAMING, "demo"
    )

    await MessageRepository.insert_many(db, [question, reply])

    stored = await MessageRepository.get_many(db, [question.id, reply.id])
    asked, answer = stored[question.id], stored[reply.id]
    assert (asked.parent_msg_id, asked.text, asked.role) == (parent.id, "hi", MessageRole.USER)
    assert (answer.text, answer.parts, answer.role, answer.status) == (
        "Look at this.",
        parts,
        ASSISTANT,
        MessageStatus.STREAMING,
    )
    assert (answer.model, answer.parent_msg_id, answer.chat_id) == ("demo", question.id, chat.id)
    assert _key(asked) < _key(answer)  # one timestamp, ordered by their time-ordered ids


async def test_get_in_chat_finds_a_message_only_in_its_own_chat(db: AsyncSession) -> None:
    ada = await make_user(db)
    chat, other = await make_chat(db, ada), await make_chat(db, ada)
    message = await make_message(db, chat)

    assert await MessageRepository.get_in_chat(db, chat.id, message.id) is message
    assert await MessageRepository.get_in_chat(db, other.id, message.id) is None
    assert await MessageRepository.get_in_chat(db, chat.id, new_id()) is None


async def test_head_reads_a_message_in_a_core_connection(
    session_factory: SessionFactory, engine: AsyncEngine
) -> None:
    async with session_factory.begin() as db:
        ada = await make_user(db)
        chat, other = await make_chat(db, ada), await make_chat(db, ada)
        message = await make_message(db, chat)

    async with engine.connect() as connection:
        head = MessageHead(message.id, chat.id, MessageRole.USER)
        assert await MessageRepository.head(connection, message.id) == head
        assert await MessageRepository.head(connection, message.id, chat.id) == head
        assert await MessageRepository.head(connection, message.id, other.id) is None
        assert await MessageRepository.head(connection, new_id()) is None


async def test_get_readable_follows_the_chats_owner_and_visibility(db: AsyncSession) -> None:
    ada, bob = await make_user(db), await make_user(db)
    private = await make_message(db, await make_chat(db, ada, visibility=Visibility.PRIVATE))
    public = await make_message(db, await make_chat(db, ada, visibility=Visibility.PUBLIC))

    assert await MessageRepository.get_readable(db, private.id, ada.id) is private
    assert await MessageRepository.get_readable(db, public.id, ada.id) is public
    assert await MessageRepository.get_readable(db, private.id, bob.id) is None
    assert await MessageRepository.get_readable(db, public.id, bob.id) is public
    assert await MessageRepository.get_readable(db, new_id(), ada.id) is None


async def test_latest_reply_is_the_newest_assistant_message_directly_under(
    db: AsyncSession,
) -> None:
    chat = await make_chat(db, await make_user(db))
    question = await make_message(db, chat, created_at=at(0))
    await make_message(db, chat, "first", question, ASSISTANT, created_at=at(1))
    newest = await make_message(db, chat, "second", question, ASSISTANT, created_at=at(3))
    await make_message(db, chat, "older", question, ASSISTANT, created_at=at(2))
    edit = await make_message(db, chat, "a user branch", question, created_at=at(4))
    await make_message(db, chat, "under the edit", edit, ASSISTANT, created_at=at(5))

    assert await MessageRepository.latest_reply_id(db, question.id) == newest.id


async def test_latest_reply_breaks_ties_of_created_at_by_id(db: AsyncSession) -> None:
    chat = await make_chat(db, await make_user(db))
    question = await make_message(db, chat, created_at=at(0))
    replies = [
        await make_message(db, chat, "reply", question, ASSISTANT, created_at=at(1))
        for _ in range(3)
    ]

    assert await MessageRepository.latest_reply_id(db, question.id) == max(_ids(replies))


async def test_latest_reply_is_none_without_an_assistant_child(db: AsyncSession) -> None:
    chat = await make_chat(db, await make_user(db))
    question = await make_message(db, chat)
    answer = await make_message(db, chat, "answer", question, ASSISTANT)
    follow_up = await make_message(db, chat, "follow-up", answer)

    assert await MessageRepository.latest_reply_id(db, follow_up.id) is None
    assert await MessageRepository.latest_reply_id(db, answer.id) is None
    assert await MessageRepository.latest_reply_id(db, new_id()) is None


async def test_search_own_finds_text_in_the_users_chats_newest_first(db: AsyncSession) -> None:
    ada, bob = await make_user(db), await make_user(db)
    private = await make_chat(db, ada, visibility=Visibility.PRIVATE)
    public = await make_chat(db, ada, visibility=Visibility.PUBLIC)
    old = await make_message(db, private, "Lisbon in May", created_at=at(1))
    new = await make_message(db, public, "back from LISBON", created_at=at(3))
    await make_message(db, private, "Porto", created_at=at(2))
    bobs = await make_chat(db, bob, visibility=Visibility.PUBLIC)
    await make_message(db, bobs, "lisbon too", created_at=at(4))

    assert _ids(await MessageRepository.search_own(db, ada.id, "lisbon", 10)) == [new.id, old.id]
    assert len(await MessageRepository.search_own(db, bob.id, "lisbon", 10)) == 1


async def test_search_own_ignores_the_case_of_non_ascii_letters(db: AsyncSession) -> None:
    ada = await make_user(db)
    chat = await make_chat(db, ada)
    message = await make_message(db, chat, "Ärger in ÉVORA")

    assert _ids(await MessageRepository.search_own(db, ada.id, "ärger in évora", 10)) == [
        message.id
    ]


async def test_search_own_stops_at_the_limit(db: AsyncSession) -> None:
    ada = await make_user(db)
    chat = await make_chat(db, ada)
    messages = await _timeline(db, chat, 4)

    found = await MessageRepository.search_own(db, ada.id, "message", 2)

    assert _ids(found) == [messages[3].id, messages[2].id]


async def test_search_own_takes_wildcards_literally(db: AsyncSession) -> None:
    ada = await make_user(db)
    chat = await make_chat(db, ada)
    percent = await make_message(db, chat, "100% sure")
    underscore = await make_message(db, chat, "snake_case")
    slash = await make_message(db, chat, "and/or")
    for text in ("1000 sure", "snakeXcase", "andor"):
        await make_message(db, chat, text)

    assert _ids(await MessageRepository.search_own(db, ada.id, "100%", 10)) == [percent.id]
    assert _ids(await MessageRepository.search_own(db, ada.id, "snake_case", 10)) == [underscore.id]
    assert _ids(await MessageRepository.search_own(db, ada.id, "and/or", 10)) == [slash.id]
    assert await MessageRepository.search_own(db, ada.id, "%", 10) == []


async def test_pages_by_chat_takes_the_oldest_messages_of_each_chat(db: AsyncSession) -> None:
    ada = await make_user(db)
    first, second, empty = [await make_chat(db, ada) for _ in range(3)]
    first_messages = await _timeline(db, first, 4)
    second_messages = await _timeline(db, second, 2)

    pages = await MessageRepository.pages_by_chat(
        db, [first.id, second.id, empty.id], None, None, 3, backwards=False
    )

    assert {chat_id: _ids(page) for chat_id, page in pages.items()} == {
        first.id: _ids(first_messages[:3]),
        second.id: _ids(second_messages),
    }


async def test_pages_by_chat_backwards_takes_the_newest_first(db: AsyncSession) -> None:
    ada = await make_user(db)
    first, second = await make_chat(db, ada), await make_chat(db, ada)
    first_messages = await _timeline(db, first, 4)
    second_messages = await _timeline(db, second, 1)

    pages = await MessageRepository.pages_by_chat(
        db, [first.id, second.id], None, None, 2, backwards=True
    )

    assert _ids(pages[first.id]) == [first_messages[3].id, first_messages[2].id]
    assert _ids(pages[second.id]) == [second_messages[0].id]


async def test_pages_by_chat_continues_after_a_cursor(db: AsyncSession) -> None:
    chat = await make_chat(db, await make_user(db))
    messages = await _timeline(db, chat, 5)

    pages = await MessageRepository.pages_by_chat(
        db, [chat.id], _key(messages[1]), None, 2, backwards=False
    )

    assert _ids(pages[chat.id]) == _ids(messages[2:4])


async def test_pages_by_chat_backwards_continues_before_a_cursor(db: AsyncSession) -> None:
    chat = await make_chat(db, await make_user(db))
    messages = await _timeline(db, chat, 5)

    pages = await MessageRepository.pages_by_chat(
        db, [chat.id], None, _key(messages[3]), 2, backwards=True
    )

    assert _ids(pages[chat.id]) == [messages[2].id, messages[1].id]


async def test_pages_by_chat_between_two_cursors(db: AsyncSession) -> None:
    chat = await make_chat(db, await make_user(db))
    messages = await _timeline(db, chat, 6)
    after, before = _key(messages[0]), _key(messages[4])

    forwards = await MessageRepository.pages_by_chat(db, [chat.id], after, before, 10, False)
    backwards = await MessageRepository.pages_by_chat(db, [chat.id], after, before, 10, True)

    assert _ids(forwards[chat.id]) == _ids(messages[1:4])
    assert _ids(backwards[chat.id]) == _ids(messages[3:0:-1])


async def test_pages_by_chat_orders_equal_timestamps_by_id(db: AsyncSession) -> None:
    chat = await make_chat(db, await make_user(db))
    messages = [await make_message(db, chat, created_at=at(0)) for _ in range(4)]
    by_id = sorted(_ids(messages))

    first = await MessageRepository.pages_by_chat(db, [chat.id], None, None, 2, False)
    rest = await MessageRepository.pages_by_chat(
        db, [chat.id], _key(first[chat.id][-1]), None, 10, False
    )

    assert _ids(first[chat.id]) + _ids(rest[chat.id]) == by_id


async def test_pages_by_chat_leaves_out_chats_with_nothing_past_the_cursor(
    db: AsyncSession,
) -> None:
    chat = await make_chat(db, await make_user(db))
    messages = await _timeline(db, chat, 2)

    pages = await MessageRepository.pages_by_chat(
        db, [chat.id], _key(messages[-1]), None, 10, backwards=False
    )

    assert dict(pages) == {}


async def test_every_insert_counts_in_its_chat(db: AsyncSession) -> None:
    ada = await make_user(db)
    first, second, empty = [await make_chat(db, ada) for _ in range(3)]
    await make_thread(db, first, 3)
    await make_message(db, first, "another root")
    await make_thread(db, second, 1)
    await _add(db, second.id, None, MessageRole.USER, text_parts("hi"))
    # one statement for rows of two chats
    await db.execute(
        insert(Message),
        [
            {"chat_id": chat.id, "role": MessageRole.USER, "parts": [], "text": ""}
            for chat in (first, second, second)
        ],
    )

    counts = await db.execute(select(Chat.id, Chat.message_count).where(Chat.user_id == ada.id))

    assert {chat_id: count for chat_id, count in counts} == {first.id: 5, second.id: 4, empty.id: 0}


async def test_child_ids_lists_direct_replies_oldest_first(db: AsyncSession) -> None:
    chat = await make_chat(db, await make_user(db))
    root = await make_message(db, chat, created_at=at(0))
    late = await make_message(db, chat, "late", root, ASSISTANT, created_at=at(3))
    early = await make_message(db, chat, "early", root, ASSISTANT, created_at=at(1))
    edit = await make_message(db, chat, "edit", root, created_at=at(2))
    grandchild = await make_message(db, chat, "grandchild", early, created_at=at(4))

    children = await MessageRepository.child_ids(db, [root.id, early.id, late.id, new_id()])

    assert children == {root.id: [early.id, edit.id, late.id], early.id: [grandchild.id]}


async def test_child_ids_take_any_number_of_ids_in_one_statement(db: AsyncSession) -> None:
    chat = await make_chat(db, await make_user(db))
    root = await make_message(db, chat)
    reply = await make_message(db, chat, "reply", root, ASSISTANT)
    asked = [new_id() for _ in range(40_000)] + [root.id]  # past any driver's parameter limit

    plan = await plan_of(db, lambda: MessageRepository.child_ids(db, asked))

    assert await MessageRepository.child_ids(db, asked) == {root.id: [reply.id]}
    assert "ix_messages_parent_msg_id" in plan.text


async def test_pages_by_chat_read_only_the_page_of_each_chat_on_its_index(
    db: AsyncSession,
) -> None:
    ada = await make_user(db)
    chats = [await make_chat(db, ada) for _ in range(3)]
    for chat in chats:
        await make_thread(db, chat, 200)
    ids = [chat.id for chat in chats]

    for backwards in (False, True):
        read = partial(MessageRepository.pages_by_chat, db, ids, None, None, 10, backwards)
        plan = await plan_of(db, read)
        if not plan.nodes:  # SQLite: a LIMIT per chat on the index, in a correlated subquery
            assert "CORRELATED LIST SUBQUERY" in plan.text
            assert "COVERING INDEX ix_messages_chat_id_created_at_id (chat_id=?)" in plan.text
        else:
            assert "ix_messages_chat_id_created_at_id" in plan.text
            assert plan.rows(relation="messages") <= 3 * 10, plan


async def test_pages_by_chat_after_a_cursor_start_there_on_the_index(db: AsyncSession) -> None:
    chat = await make_chat(db, await make_user(db))
    thread = await make_thread(db, chat, 300)

    plan = await plan_of(
        db,
        lambda: MessageRepository.pages_by_chat(db, [chat.id], _key(thread[-20]), None, 100, False),
    )

    if not plan.nodes:
        assert "ix_messages_chat_id_created_at_id (chat_id=? AND (created_at,id)>(?,?))" in (
            plan.text
        )
    else:
        assert plan.rows(relation="messages") <= 19, plan


async def test_thread_pages_run_from_the_root_to_each_leaf(db: AsyncSession) -> None:
    chat = await make_chat(db, await make_user(db))
    thread = await make_thread(db, chat, 4)
    branch = await make_message(db, chat, "edit", thread[1])
    other_root = await make_message(db, chat, "another root")
    elsewhere = await make_message(db, await make_chat(db, await make_user(db)))
    leaves = [thread[3], branch, other_root, elsewhere]

    pages = await MessageRepository.thread_pages(
        db, [(chat.id, leaf.id) for leaf in leaves] + [(chat.id, new_id())], limit=100
    )

    assert {leaf_id: _ids(page.messages) for (_, leaf_id), page in pages.items()} == {
        thread[3].id: _ids(thread),
        branch.id: [thread[0].id, thread[1].id, branch.id],
        other_root.id: [other_root.id],
    }
    assert all(page.found_before for page in pages.values())


async def test_thread_pages_hold_the_messages_nearest_the_leaf(db: AsyncSession) -> None:
    chat = await make_chat(db, await make_user(db))
    thread = await make_thread(db, chat, 10)

    async def page(limit: int, leaf: Message = thread[-1]) -> list[uuid.UUID]:
        pages = await MessageRepository.thread_pages(db, [(chat.id, leaf.id)], limit)
        return _ids(pages[chat.id, leaf.id].messages)

    assert await page(3) == _ids(thread[7:])
    assert await page(1) == [thread[-1].id]
    assert await page(0) == []
    assert await page(10) == await page(11) == _ids(thread)
    assert await page(3, thread[4]) == _ids(thread[2:5])


async def test_thread_pages_end_just_above_before(db: AsyncSession) -> None:
    chat = await make_chat(db, await make_user(db))
    thread = await make_thread(db, chat, 10)
    leaf = (chat.id, thread[-1].id)

    async def page(limit: int, before: Message) -> list[uuid.UUID]:
        found = (await MessageRepository.thread_pages(db, [leaf], limit, before.id))[leaf]
        assert found.found_before
        return _ids(found.messages)

    assert await page(3, thread[6]) == _ids(thread[3:6])
    assert await page(5, thread[2]) == _ids(thread[:2])
    assert await page(3, thread[0]) == []
    assert await page(3, thread[-1]) == _ids(thread[6:9])
    assert await page(0, thread[5]) == []


async def test_thread_pages_tell_a_before_that_is_not_on_the_path(db: AsyncSession) -> None:
    ada = await make_user(db)
    chat = await make_chat(db, ada)
    thread = await make_thread(db, chat, 4)
    branch = await make_message(db, chat, "edit", thread[1])
    elsewhere = await make_message(db, await make_chat(db, ada))
    leaf = (chat.id, thread[-1].id)

    for before in (branch.id, elsewhere.id, new_id()):
        page = (await MessageRepository.thread_pages(db, [leaf], 10, before))[leaf]
        assert (page.messages, page.found_before) == ([], False)
    below = await MessageRepository.thread_pages(db, [(chat.id, thread[1].id)], 10, thread[3].id)
    assert not below[chat.id, thread[1].id].found_before


async def test_a_thread_page_is_read_walking_up_no_further_than_the_page(db: AsyncSession) -> None:
    chat = await make_chat(db, await make_user(db))
    thread = await make_thread(db, chat, 300)

    plan = await plan_of(
        db, lambda: MessageRepository.thread_pages(db, [(chat.id, thread[-1].id)], 10)
    )

    if plan.nodes:  # SQLite does not say how far it walked
        assert plan.rows("Recursive Union") == 10, plan


async def test_path_tail_walks_up_until_the_text_is_over_the_budget(db: AsyncSession) -> None:
    chat = await make_chat(db, await make_user(db))
    thread = await make_thread(db, chat, 1_200, text=lambda n: f"{n:>100}")

    tail = await MessageRepository.path_tail(db, chat.id, thread[-1].id, text_budget=1_000)

    # 10 texts make the budget; the 11th goes over it, and nothing above it is read
    assert _ids(tail) == _ids(thread[-11:])


async def test_path_tail_goes_on_until_a_user_message(db: AsyncSession) -> None:
    chat = await make_chat(db, await make_user(db))
    question = await make_message(db, chat, "question")
    thread = await make_thread(db, chat, 3, text=lambda _: "x" * 500, parent=question)
    answers = [m for m in thread if m.role == MessageRole.ASSISTANT]
    tail_leaf = answers[-1]

    tail = await MessageRepository.path_tail(db, chat.id, tail_leaf.id, text_budget=100)

    assert tail[0].role == MessageRole.USER and tail[-1].id == tail_leaf.id
    assert await MessageRepository.path_tail(db, new_id(), tail_leaf.id, 100) == []


async def test_path_tail_holds_the_history_of_the_whole_thread(db: AsyncSession) -> None:
    chat = await make_chat(db, await make_user(db))
    parts: list[list[dict[str, Any]]] = [
        text_parts("question " * 30),
        [
            *text_parts("Let me compute."),
            {"type": "tool_call", "tool_call_id": "c1", "tool_name": "calculator",
             "arguments": {"expression": "1 + 1" * 40}},
            {"type": "tool_result", "tool_call_id": "c1", "tool_name": "calculator",
             "result": 2, "is_error": False},
            *text_parts("It is 2."),
        ],
        [*text_parts("see"), {"type": "file", "url": "https://example.com/" + "a" * 200,
                               "media_type": "image/png", "name": "a.png"}],
        text_parts(""),
    ]  # fmt: skip
    previous: Message | None = None
    for n in range(40):
        role = ASSISTANT if n % 2 else MessageRole.USER
        message_parts = parts[n % len(parts)]
        previous = await _add(db, chat.id, previous.id if previous else None, role, message_parts)
    assert previous is not None
    whole = await MessageRepository.thread_pages(db, [(chat.id, previous.id)], 100)

    for budget in (100, 250, 400, 1_000, 3_000, 100_000):
        tail = await MessageRepository.path_tail(db, chat.id, previous.id, budget)
        assert build_history("system", _turns(tail), budget) == build_history(
            "system", _turns(whole[chat.id, previous.id].messages), budget
        ), budget

"""ReplyRepository: saving replies as they stream, live counts, and crash recovery."""

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from src.core.enums import FinishReason, MessageRole, MessageStatus
from src.lib.db.models import Chat, Message, User
from src.lib.db.repositories.reply import ReplyRepository
from tests.lib.db.factories import (
    at,
    make_chat,
    make_message,
    make_thread,
    make_user,
    reload,
    text_parts,
)
from tests.lib.db.plans import plan_of

STREAMING = MessageStatus.STREAMING


async def _reply(
    db: AsyncSession,
    chat: Chat,
    status: MessageStatus = STREAMING,
    updated_at: datetime | None = None,
) -> Message:
    """An assistant reply of the chat, last saved at `updated_at` (default: now)."""
    return await make_message(
        db, chat, "partial", role=MessageRole.ASSISTANT, status=status, created_at=updated_at
    )


async def _chat(db: AsyncSession, owner: User | None = None) -> Chat:
    return await make_chat(db, owner if owner is not None else await make_user(db))


async def test_save_stores_partial_parts_and_their_text(db: AsyncSession) -> None:
    reply = await _reply(db, await _chat(db), updated_at=at(0))
    parts = [*text_parts("Hello, "), *text_parts("world")]

    await ReplyRepository.save(db, reply.id, parts)

    saved = await reload(db, reply)
    assert (saved.parts, saved.text, saved.status) == (parts, "Hello, world", STREAMING)
    assert (saved.finish_reason, saved.usage) == (None, None)
    assert saved.updated_at > at(0)


async def test_save_stores_the_final_status_finish_reason_and_usage(db: AsyncSession) -> None:
    reply = await _reply(db, await _chat(db))
    usage = {"input_tokens": 12, "output_tokens": 3}

    await ReplyRepository.save(
        db, reply.id, text_parts("Done."), MessageStatus.COMPLETE, FinishReason.STOP, usage
    )

    saved = await reload(db, reply)
    assert (saved.text, saved.status, saved.finish_reason, saved.usage) == (
        "Done.",
        MessageStatus.COMPLETE,
        FinishReason.STOP,
        usage,
    )


async def test_save_changes_only_that_message(db: AsyncSession) -> None:
    chat = await _chat(db)
    reply, other = await _reply(db, chat), await _reply(db, chat)

    await ReplyRepository.save(db, reply.id, text_parts("changed"), MessageStatus.COMPLETE)

    untouched = await reload(db, other)
    assert (untouched.text, untouched.status) == ("partial", STREAMING)


async def test_live_count_counts_the_users_streaming_replies_saved_since(
    db: AsyncSession,
) -> None:
    ada, bob = await make_user(db), await make_user(db)
    chat, other_chat, bobs = await _chat(db, ada), await _chat(db, ada), await _chat(db, bob)
    await _reply(db, chat, updated_at=at(10))
    await _reply(db, other_chat, updated_at=at(11))
    await _reply(db, chat, updated_at=at(1))
    await _reply(db, chat, MessageStatus.COMPLETE, updated_at=at(10))
    await _reply(db, chat, MessageStatus.INTERRUPTED, updated_at=at(10))
    await _reply(db, bobs, updated_at=at(10))

    assert await ReplyRepository.live_count(db, ada.id, at(5)) == 2
    assert await ReplyRepository.live_count(db, ada.id, at(0)) == 3
    assert await ReplyRepository.live_count(db, bob.id, at(5)) == 1
    assert await ReplyRepository.live_count(db, ada.id, at(20)) == 0


async def test_live_count_counts_a_stale_reply_again_once_it_is_saved(db: AsyncSession) -> None:
    ada = await make_user(db)
    stale = await _reply(db, await _chat(db, ada), updated_at=at(0))
    assert await ReplyRepository.live_count(db, ada.id, at(5)) == 0

    await ReplyRepository.save(db, stale.id, text_parts("more"))

    assert await ReplyRepository.live_count(db, ada.id, at(5)) == 1


async def test_live_and_stale_replies_are_found_on_the_index_of_streaming_replies(
    db: AsyncSession,
) -> None:
    chat = await _chat(db)
    await make_thread(db, chat, 50)
    await _reply(db, chat, updated_at=at(100))

    live = await plan_of(db, lambda: ReplyRepository.live_count(db, chat.user_id, at(5)))
    stale = await plan_of(db, lambda: ReplyRepository.stale(db, at(200)))

    for plan in (live, stale):
        assert "ix_messages_streaming_chat_id_updated_at" in plan.text, plan.text
        assert plan.rows(relation="messages") <= 1, plan


async def test_live_count_reads_the_live_replies_not_every_chat_of_the_user(
    db: AsyncSession,
) -> None:
    owner = await make_user(db)
    for _ in range(30):  # chats only grow in number; their replies ended long ago
        await _reply(db, await _chat(db, owner), MessageStatus.COMPLETE)
    await _reply(db, await _chat(db, owner), updated_at=at(10))

    live = await plan_of(db, lambda: ReplyRepository.live_count(db, owner.id, at(5)))

    assert await ReplyRepository.live_count(db, owner.id, at(5)) == 1
    assert "ix_chats_user_id_updated_at" not in live.text, live.text
    if live.nodes:  # PostgreSQL says what each scan returned
        assert live.rows(relation="chats") <= 1, live


async def test_stale_lists_the_streaming_replies_last_saved_before_a_time(
    db: AsyncSession,
) -> None:
    first, second = await _chat(db), await _chat(db)
    await _reply(db, first)
    old = await _reply(db, first, updated_at=at(10))
    older = await _reply(db, second, updated_at=at(0))
    await _reply(db, first, STREAMING, updated_at=at(20))
    await _reply(db, first, MessageStatus.COMPLETE, updated_at=at(0))
    await _reply(db, second, MessageStatus.FAILED, updated_at=at(0))

    stale = await ReplyRepository.stale(db, at(20))

    assert sorted(stale) == sorted(
        [(old.id, first.id, "demo", first.user_id), (older.id, second.id, "demo", second.user_id)]
    )


async def test_interrupt_closes_the_given_streaming_replies_keeping_their_text(
    db: AsyncSession,
) -> None:
    chat = await _chat(db)
    orphan = await _reply(db, chat, updated_at=at(0))
    await ReplyRepository.save(db, orphan.id, text_parts("half a sent"))
    live = await _reply(db, chat)
    done = await _reply(db, chat, MessageStatus.COMPLETE, updated_at=at(0))

    closed = await ReplyRepository.interrupt(db, [orphan.id, done.id])

    assert closed == [orphan.id]
    interrupted = await reload(db, orphan)
    assert (interrupted.status, interrupted.finish_reason, interrupted.text) == (
        MessageStatus.INTERRUPTED,
        FinishReason.CANCELLED,
        "half a sent",
    )
    assert (await reload(db, live)).status == STREAMING
    finished = await reload(db, done)
    assert (finished.status, finished.updated_at) == (MessageStatus.COMPLETE, at(0))


async def test_a_reply_is_interrupted_only_once(db: AsyncSession) -> None:
    orphan = await _reply(db, await _chat(db), updated_at=at(0))

    assert await ReplyRepository.interrupt(db, [orphan.id]) == [orphan.id]
    assert await ReplyRepository.interrupt(db, [orphan.id]) == []


async def test_interrupt_moves_updated_at(db: AsyncSession) -> None:
    orphan = await _reply(db, await _chat(db), updated_at=at(0))

    await ReplyRepository.interrupt(db, [orphan.id])

    assert (await reload(db, orphan)).updated_at > at(0)


async def test_interrupt_of_no_ids_changes_nothing(db: AsyncSession) -> None:
    chat = await _chat(db)
    reply = await _reply(db, chat, updated_at=at(0))

    assert await ReplyRepository.interrupt(db, []) == []

    assert (await reload(db, reply)).status == STREAMING

"""Replies outlive their subscribers: disconnect, stop, resume, watchers, slow readers, recovery."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from main import create_app
from src.core.enums import FinishReason, MessageRole, MessageStatus, UserType
from src.lib.db.models import Chat, Message, User
from src.lib.streaming.memory import InMemoryBroker
from src.lib.streaming.user_events import GenerationEnded
from tests.api.conftest import OwnedChat
from tests.api.stream.operations import (
    CHAT,
    CHAT_EVENTS,
    CHAT_STREAM,
    STOP,
    message_input,
    streamed_text,
    watch_until_finished,
)
from tests.conftest import make_settings, serve
from tests.helpers import GraphQLClient, wait_until
from tests.ws import GraphQLSocket, OperationError, open_socket

LONG = "tell me everything " * 40


async def _last_message(
    client: GraphQLClient, token: str, chat_id: uuid.UUID
) -> dict[str, Any] | None:
    """The last message of the chat's thread, if the chat has any."""
    chat = (await client.data(CHAT, {"id": str(chat_id)}, token))["chat"]
    last: dict[str, Any] | None = chat["thread"][-1] if chat and chat["thread"] else None
    return last


async def _wait_for_status(
    client: GraphQLClient, token: str, chat_id: uuid.UUID, status: str
) -> dict[str, Any]:
    """Wait until the chat's last message has the status; return it."""

    async def reached() -> bool:
        last = await _last_message(client, token, chat_id)
        return last is not None and last["status"] == status

    await wait_until(reached, timeout=10)
    last = await _last_message(client, token, chat_id)
    assert last is not None
    return last


@asynccontextmanager
async def _watcher_and_author(
    server_url: str, app: FastAPI, chat: OwnedChat
) -> AsyncIterator[tuple[GraphQLSocket, GraphQLSocket]]:
    """The owner's two sockets: one already watching the chat's events (as "w"), one free."""
    broker = app.state.runtime.broker
    assert isinstance(broker, InMemoryBroker)
    token = chat.owner.token
    async with open_socket(server_url, token) as watcher, open_socket(server_url, token) as author:
        await watcher.subscribe("w", CHAT_EVENTS, {"chatId": chat.chat_id})
        await wait_until(lambda: broker.subscriber_count(uuid.UUID(chat.chat_id)) == 1)
        yield watcher, author


async def _first_events(socket: Any, op_id: str, count: int) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    async for data in socket.events(op_id):
        events.append(next(iter(data.values())))
        if len(events) == count:
            return events
    raise AssertionError("the stream ended early")


async def test_a_reply_is_finished_and_saved_after_the_client_disconnects(
    client: GraphQLClient, server_url: str
) -> None:
    auth = await client.register()
    token, chat_id = auth["accessToken"], uuid.uuid4()
    async with open_socket(server_url, token) as socket:
        await socket.subscribe("1", CHAT_STREAM, {"input": message_input(chat_id, LONG)})
        await _first_events(socket, "1", 5)
    reply = await _wait_for_status(client, token, chat_id, "COMPLETE")
    assert reply["finishReason"] == "STOP"
    assert "demo" in reply["text"].lower()


async def test_completing_the_subscription_does_not_stop_the_reply(
    client: GraphQLClient, server_url: str
) -> None:
    auth = await client.register()
    token, chat_id = auth["accessToken"], uuid.uuid4()
    async with open_socket(server_url, token) as socket:
        await socket.subscribe("1", CHAT_STREAM, {"input": message_input(chat_id, LONG)})
        await _first_events(socket, "1", 3)
        await socket.complete("1")
        await _wait_for_status(client, token, chat_id, "COMPLETE")


async def test_stop_keeps_the_partial_reply_as_interrupted(
    client: GraphQLClient, server_url: str
) -> None:
    auth = await client.register()
    token, chat_id = auth["accessToken"], uuid.uuid4()
    async with open_socket(server_url, token) as socket:
        await socket.subscribe("1", CHAT_STREAM, {"input": message_input(chat_id, LONG)})
        await _first_events(socket, "1", 4)
        assert (await client.data(STOP, {"chatId": str(chat_id)}, token))["stopGeneration"]
        rest = await socket.collect("1", "chatStream")
    finished = rest[-1]
    assert finished["__typename"] == "StreamFinished"
    assert finished["finishReason"] == "CANCELLED"
    assert finished["message"]["status"] == "INTERRUPTED"
    assert finished["message"]["text"]
    assert len(finished["message"]["text"]) < len(LONG)
    assert (await client.data(STOP, {"chatId": str(chat_id)}, token))["stopGeneration"] is False


async def test_resume_with_after_seq_gets_exactly_the_missed_events(
    client: GraphQLClient, server_url: str
) -> None:
    auth = await client.register()
    token, chat_id = auth["accessToken"], uuid.uuid4()
    async with open_socket(server_url, token) as socket:
        await socket.subscribe("1", CHAT_STREAM, {"input": message_input(chat_id, LONG)})
        seen = await _first_events(socket, "1", 6)
    async with open_socket(server_url, token) as socket:
        last_seq = seen[-1]["seq"]
        await socket.subscribe("2", CHAT_EVENTS, {"chatId": str(chat_id), "afterSeq": last_seq})
        rest = await watch_until_finished(socket, "2")
    seqs = [e["seq"] for e in seen + rest]
    assert seqs == sorted(set(seqs))
    assert rest[0]["seq"] > last_seq  # missed deltas may arrive merged (seq = the last merged)
    assert streamed_text(seen + rest) == rest[-1]["message"]["text"]


async def test_two_watchers_receive_the_same_events(
    server_url: str, app: FastAPI, ada_chat: OwnedChat
) -> None:
    chat_id = ada_chat.chat_id
    async with _watcher_and_author(server_url, app, ada_chat) as (watcher, author):
        await author.subscribe("a", CHAT_STREAM, {"input": message_input(chat_id, "hello both")})
        authored = await author.collect("a", "chatStream")
        watched = await watch_until_finished(watcher, "w")
    assert streamed_text(watched) == streamed_text(authored)
    assert watched[0]["__typename"] == "StreamStarted"
    assert watched[-1]["message"]["id"] == authored[-1]["message"]["id"]


async def test_a_watcher_follows_later_generations(
    server_url: str, app: FastAPI, ada_chat: OwnedChat
) -> None:
    chat_id = ada_chat.chat_id
    async with _watcher_and_author(server_url, app, ada_chat) as (watcher, author):
        for turn in ("first", "second"):
            await author.subscribe(turn, CHAT_STREAM, {"input": message_input(chat_id, turn)})
            await author.collect(turn, "chatStream")
        watched = await watch_until_finished(watcher, "w", replies=2)
    assert [e["seq"] for e in watched if e["__typename"] == "StreamStarted"] == [0, 0]


@pytest.fixture
async def burst_server_url(database_url: str, tmp_path: Path) -> AsyncIterator[str]:
    """A second server on the same database whose demo model writes with no delay at all."""
    settings = make_settings(database_url, tmp_path, demo_token_delay_seconds=0)
    application = create_app(settings)
    async with application.router.lifespan_context(application), serve(application) as url:
        yield url


async def test_a_slow_subscriber_gets_merged_deltas_with_the_full_text(
    client: GraphQLClient, burst_server_url: str
) -> None:
    auth = await client.register()
    token, chat_id = auth["accessToken"], uuid.uuid4()
    async with open_socket(burst_server_url, token) as socket:
        await socket.subscribe("1", CHAT_STREAM, {"input": message_input(chat_id, LONG * 3)})
        await _wait_for_status(client, token, chat_id, "COMPLETE")  # the reader is behind
        events = await socket.collect("1", "chatStream")
    final = events[-1]["message"]["text"]
    deltas = [e for e in events if e["__typename"] == "TextDelta"]
    words = len(final.split())
    assert len(deltas) < words
    assert streamed_text(events) == final
    seqs = [e["seq"] for e in events]
    assert seqs == sorted(set(seqs))


async def test_active_generation_shows_the_running_reply(
    client: GraphQLClient, server_url: str
) -> None:
    auth = await client.register()
    token, chat_id = auth["accessToken"], uuid.uuid4()
    async with open_socket(server_url, token) as socket:
        await socket.subscribe("1", CHAT_STREAM, {"input": message_input(chat_id, LONG)})
        first = await _first_events(socket, "1", 3)
        chat = (await client.data(CHAT, {"id": str(chat_id)}, token))["chat"]
        active = chat["activeGeneration"]
        assert active["messageId"] == first[0]["assistantMessageId"]
        assert active["model"] == "demo"
        assert active["lastSeq"] >= 2
        assert chat["thread"][-1]["status"] == "STREAMING"
        await client.data(STOP, {"chatId": str(chat_id)}, token)


async def test_the_partial_reply_is_flushed_while_it_streams(
    client: GraphQLClient, server_url: str
) -> None:
    auth = await client.register()
    token, chat_id = auth["accessToken"], uuid.uuid4()
    async with open_socket(server_url, token) as socket:
        await socket.subscribe("1", CHAT_STREAM, {"input": message_input(chat_id, LONG * 2)})
        await _first_events(socket, "1", 3)

        async def saved_while_streaming() -> bool:
            last = await _last_message(client, token, chat_id)
            return last is not None and last["status"] == "STREAMING" and bool(last["text"])

        await wait_until(saved_while_streaming)
        await client.data(STOP, {"chatId": str(chat_id)}, token)


async def test_strangers_cannot_watch_or_stop_a_private_chat(
    client: GraphQLClient, server_url: str
) -> None:
    owner = await client.register("owner@example.com")
    stranger = await client.register("stranger@example.com")
    chat_id = uuid.uuid4()
    async with open_socket(server_url, owner["accessToken"]) as socket:
        await socket.subscribe("1", CHAT_STREAM, {"input": message_input(chat_id, LONG)})
        await _first_events(socket, "1", 2)
        stop = await client.error(STOP, {"chatId": str(chat_id)}, stranger["accessToken"])
        assert stop["extensions"]["code"] == "NOT_FOUND"
        async with open_socket(server_url, stranger["accessToken"]) as spy:
            for op_id, target in (("own", chat_id), ("random", uuid.uuid4())):
                await spy.subscribe(op_id, CHAT_EVENTS, {"chatId": str(target)})
                with pytest.raises(OperationError) as error:
                    await spy.collect(op_id, "chatEvents")
                assert error.value.code == "NOT_FOUND"
        events = await socket.collect("1", "chatStream")
    assert events[-1]["finishReason"] == "STOP"


@pytest.fixture
async def lone_app(empty_database_url: str, tmp_path: Path) -> AsyncIterator[FastAPI]:
    """An app alone on a database of its own, its next periodic orphan check an hour away."""
    settings = make_settings(empty_database_url, tmp_path, generation_lock_ttl_seconds=3600)
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


async def _streaming_reply(app: FastAPI, saved_at: datetime) -> tuple[uuid.UUID, uuid.UUID]:
    """A chat holding a STREAMING reply that no generation writes, last saved at `saved_at`.

    Returns the reply's id and its chat's owner.
    """
    chat_id, reply_id = uuid.uuid4(), uuid.uuid4()
    async with app.state.runtime.session_factory.begin() as db:
        owner = User(user_type=UserType.GUEST)
        db.add(owner)
        await db.flush()
        db.add(Chat(id=chat_id, user_id=owner.id, title="t"))
        await db.flush()
        parts = [{"type": "text", "text": "half a reply"}]
        db.add(
            Message(
                id=reply_id,
                chat_id=chat_id,
                role=MessageRole.ASSISTANT,
                status=MessageStatus.STREAMING,
                parts=parts,
                text="half a reply",
                model="demo",
                updated_at=saved_at,
            )
        )
    return reply_id, owner.id


async def test_orphaned_replies_are_closed_keeping_their_text(lone_app: FastAPI) -> None:
    app = lone_app
    reply_id, owner = await _streaming_reply(app, datetime.now(UTC) - timedelta(hours=2))
    user_events = app.state.runtime.broker.user_events
    owners_device = user_events.subscribe(owner)
    told = asyncio.create_task(anext(owners_device))
    await wait_until(lambda: user_events.subscriber_count(owner) == 1)

    assert await app.state.runtime.generations.close_orphans() == 1
    ended = await told
    await owners_device.aclose()

    async with app.state.runtime.session_factory() as db:
        message = await db.get(Message, reply_id)
    assert message is not None
    assert (message.status, message.finish_reason, message.text) == (
        MessageStatus.INTERRUPTED,
        FinishReason.CANCELLED,
        "half a reply",
    )
    assert isinstance(ended, GenerationEnded)
    assert (ended.message_id, ended.status, ended.finish_reason) == (
        reply_id,
        MessageStatus.INTERRUPTED,
        FinishReason.CANCELLED,
    )
    assert await app.state.runtime.generations.close_orphans() == 0


async def test_a_reply_saved_within_a_lock_ttl_is_not_taken_for_an_orphan(
    lone_app: FastAPI,
) -> None:
    """Its lock may be gone (Redis restarted empty) while its process still writes it."""
    app = lone_app
    reply_id, _ = await _streaming_reply(app, datetime.now(UTC))

    assert await app.state.runtime.generations.close_orphans() == 0

    async with app.state.runtime.session_factory() as db:
        message = await db.get(Message, reply_id)
    assert message is not None and message.status == MessageStatus.STREAMING


async def test_deleting_a_chat_stops_its_running_reply(
    client: GraphQLClient, server_url: str, app: FastAPI
) -> None:
    auth = await client.register()
    token, chat_id = auth["accessToken"], uuid.uuid4()
    async with open_socket(server_url, token) as socket:
        await socket.subscribe("1", CHAT_STREAM, {"input": message_input(chat_id, LONG * 3)})
        await _first_events(socket, "1", 3)
        delete = "mutation D($id: ID!) { deleteChat(id: $id) }"
        await client.data(delete, {"id": str(chat_id)}, token)
        with pytest.raises(OperationError) as error:  # the saved reply is gone with its chat
            await socket.collect("1", "chatStream")
        assert error.value.code == "NOT_FOUND"
    async with app.state.runtime.session_factory() as db:
        left = await db.scalar(select(func.count()).where(Message.chat_id == chat_id))
    assert left == 0
    assert await app.state.runtime.broker.active_generation(chat_id) is None

"""Two server processes sharing the database and Redis: nothing lives in one process only."""

import asyncio
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from tests.api.stream.operations import (
    CHAT,
    CHAT_EVENTS,
    CHAT_STREAM,
    STOP,
    message_input,
    streamed_text,
    watch_until_finished,
)
from tests.helpers import GraphQLClient
from tests.ws import OperationError, open_socket

LONG = "tell me everything " * 40
CREATE_CHAT = "mutation Create($id: ID!) { createChat(input: {id: $id}) { id } }"
IDLE_SECONDS = 21  # longer than any Redis client timeout and than one blocking XREAD (10 s)


@pytest.fixture
async def two_servers(
    redis_servers: list[tuple[FastAPI, str]],
) -> AsyncIterator[tuple[list[str], GraphQLClient]]:
    """Two apps on one database and one Redis: their WebSocket URLs and an HTTP client of B."""
    (_, url_a), (app_b, url_b) = redis_servers
    transport = httpx.ASGITransport(app=app_b)
    async with httpx.AsyncClient(transport=transport, base_url="http://b") as http:
        yield [url_a, url_b], GraphQLClient(http)


async def test_a_reply_started_on_one_server_is_seen_whole_from_another(
    two_servers: tuple[list[str], GraphQLClient],
) -> None:
    (url_a, url_b), client_b = two_servers
    auth = await client_b.register()
    token, chat_id = auth["accessToken"], uuid.uuid4()
    async with open_socket(url_a, token) as author, open_socket(url_b, token) as watcher:
        await author.subscribe("a", CHAT_STREAM, {"input": message_input(chat_id, LONG)})
        started = (await anext(author.events("a")))["chatStream"]

        chat = (await client_b.data(CHAT, {"id": str(chat_id)}, token))["chat"]
        assert chat["activeGeneration"]["messageId"] == started["assistantMessageId"]
        with pytest.raises(OperationError) as busy:
            await watcher.subscribe("x", CHAT_STREAM, {"input": message_input(chat_id, "me too")})
            await watcher.collect("x", "chatStream")
        assert busy.value.code == "CONFLICT"

        await watcher.subscribe("w", CHAT_EVENTS, {"chatId": str(chat_id)})
        watched = await watch_until_finished(watcher, "w")
        authored = [started, *await author.collect("a", "chatStream")]
    assert watched[0]["__typename"] == "StreamStarted"
    assert streamed_text(watched) == streamed_text(authored) == authored[-1]["message"]["text"]


async def test_stop_from_another_server_interrupts_the_reply(
    two_servers: tuple[list[str], GraphQLClient],
) -> None:
    (url_a, _), client_b = two_servers
    auth = await client_b.register()
    token, chat_id = auth["accessToken"], uuid.uuid4()
    async with open_socket(url_a, token) as author:
        await author.subscribe("a", CHAT_STREAM, {"input": message_input(chat_id, LONG)})
        await anext(author.events("a"))
        assert (await client_b.data(STOP, {"chatId": str(chat_id)}, token))["stopGeneration"]
        events = await author.collect("a", "chatStream")
    assert events[-1]["finishReason"] == "CANCELLED"
    assert events[-1]["message"]["status"] == "INTERRUPTED"


async def test_an_idle_watcher_outlasts_every_client_timeout_and_sees_the_next_reply(
    two_servers: tuple[list[str], GraphQLClient],
) -> None:
    (url_a, url_b), client_b = two_servers
    auth = await client_b.register()
    token, chat_id = auth["accessToken"], uuid.uuid4()
    await client_b.data(CREATE_CHAT, {"id": str(chat_id)}, token)
    async with open_socket(url_b, token) as watcher, open_socket(url_a, token) as author:
        await watcher.subscribe("w", CHAT_EVENTS, {"chatId": str(chat_id)})
        await asyncio.sleep(IDLE_SECONDS)  # the quiet chat is what is tested: nothing to wait on
        await author.subscribe("a", CHAT_STREAM, {"input": message_input(chat_id, "hello")})
        authored = await author.collect("a", "chatStream")
        watched = await watch_until_finished(watcher, "w")
    assert watched[0]["__typename"] == "StreamStarted"
    assert streamed_text(watched) == streamed_text(authored)  # deltas may come merged
    assert watched[-1]["seq"] == authored[-1]["seq"]

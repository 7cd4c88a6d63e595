"""Issue 11 item 2: a stranger's chatEvents watch ends when the chat stops being public.

When the owner turns a PUBLIC chat PRIVATE, or deletes it, every other user's watcher of it
ends with NOT_FOUND and receives nothing more; the owner's own watcher goes on. Also across
two server processes sharing the database and Redis.
"""

import json
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from main import create_app
from src.core.enums import Visibility
from src.lib.streaming.memory import InMemoryBroker
from tests.api.stream.operations import (
    CHAT_EVENTS,
    CHAT_STREAM,
    message_input,
    streamed_text,
    watch_until_finished,
)
from tests.conftest import make_settings, serve
from tests.factories import Person, create_chat, sign_up
from tests.helpers import REDIS_URL, GraphQLClient, require_redis, wait_until
from tests.ws import GraphQLSocket, OperationError, open_socket

UPDATE = """
mutation Update($id: ID!, $input: UpdateChatInput!) {
  updateChat(id: $id, input: $input) { id visibility }
}
"""
DELETE = "mutation Delete($id: ID!) { deleteChat(id: $id) }"


async def _hide(client: GraphQLClient, owner: Person, chat_id: str, how: str) -> None:
    if how == "PRIVATE":
        await client.data(UPDATE, {"id": chat_id, "input": {"visibility": "PRIVATE"}}, owner.token)
    else:
        await client.data(DELETE, {"id": chat_id}, owner.token)


async def _assert_watch_ends_with_not_found(socket: GraphQLSocket) -> None:
    with pytest.raises(OperationError) as ended:
        await socket.collect("w", "chatEvents")
    assert ended.value.code == "NOT_FOUND"


async def _assert_nothing_more(socket: GraphQLSocket) -> None:
    """Nothing but the watch's `complete` is waiting on the socket before a ping's pong."""
    await socket.send({"type": "ping"})
    waiting = []
    while (message := json.loads(await socket.connection.recv()))["type"] != "pong":
        waiting.append(message)
    assert waiting in ([], [{"id": "w", "type": "complete"}]), waiting


async def _reply(url: str, owner: Person, chat_id: str, text: str) -> list[dict[str, object]]:
    async with open_socket(url, owner.token) as author:
        await author.subscribe("a", CHAT_STREAM, {"input": message_input(chat_id, text)})
        return await author.collect("a", "chatStream")


@pytest.mark.parametrize("how", ["PRIVATE", "DELETED"])
async def test_a_strangers_watch_ends_when_the_chat_is_hidden(
    client: GraphQLClient, app: FastAPI, server_url: str, how: str
) -> None:
    ada, bob = await sign_up(client, "ada"), await sign_up(client, "bob")
    chat_id = await create_chat(app, ada, visibility=Visibility.PUBLIC)
    broker = app.state.runtime.broker
    assert isinstance(broker, InMemoryBroker)
    async with open_socket(server_url, bob.token) as watcher:
        await watcher.subscribe("w", CHAT_EVENTS, {"chatId": chat_id})
        first = await _reply(server_url, ada, chat_id, "hello")
        assert streamed_text(await watch_until_finished(watcher, "w")) == streamed_text(first)

        await _hide(client, ada, chat_id, how)
        await _assert_watch_ends_with_not_found(watcher)
        await wait_until(lambda: broker.subscriber_count(uuid.UUID(chat_id)) == 0)
        if how == "PRIVATE":
            await _reply(server_url, ada, chat_id, "a secret")
        await _assert_nothing_more(watcher)


async def test_a_title_change_and_the_owners_own_watch_go_on(
    client: GraphQLClient, app: FastAPI, server_url: str
) -> None:
    ada, bob = await sign_up(client, "ada"), await sign_up(client, "bob")
    chat_id = await create_chat(app, ada, visibility=Visibility.PUBLIC)
    async with (
        open_socket(server_url, bob.token) as stranger,
        open_socket(server_url, ada.token) as owner,
    ):
        for socket in (stranger, owner):
            await socket.subscribe("w", CHAT_EVENTS, {"chatId": chat_id})
        await client.data(UPDATE, {"id": chat_id, "input": {"title": "Renamed"}}, ada.token)
        reply = await _reply(server_url, ada, chat_id, "hello")
        for socket in (stranger, owner):
            watched = await watch_until_finished(socket, "w")
            assert streamed_text(watched) == streamed_text(reply)

        await _hide(client, ada, chat_id, "PRIVATE")
        await _assert_watch_ends_with_not_found(stranger)
        second = await _reply(server_url, ada, chat_id, "for me only")
        assert streamed_text(await watch_until_finished(owner, "w")) == streamed_text(second)


@pytest.fixture
async def two_servers(
    app: FastAPI, database_url: str, tmp_path: Path
) -> AsyncIterator[tuple[list[str], list[FastAPI], GraphQLClient]]:
    """Two apps on one database and one Redis: WebSocket URLs, apps, an HTTP client of B."""
    await require_redis()
    async with AsyncExitStack() as stack:
        urls, apps = [], []
        for name in ("a", "b"):
            settings = make_settings(database_url, tmp_path / name, redis_url=REDIS_URL)
            application = create_app(settings)
            await stack.enter_async_context(application.router.lifespan_context(application))
            urls.append(await stack.enter_async_context(serve(application)))
            apps.append(application)
        transport = httpx.ASGITransport(app=apps[1])
        http = await stack.enter_async_context(
            httpx.AsyncClient(transport=transport, base_url="http://b")
        )
        yield urls, apps, GraphQLClient(http)


@pytest.mark.parametrize("how", ["PRIVATE", "DELETED"])
async def test_a_watch_on_another_server_ends_when_the_chat_is_hidden(
    two_servers: tuple[list[str], list[FastAPI], GraphQLClient], how: str
) -> None:
    (url_a, url_b), (_, app_b), client_b = two_servers
    ada, bob = await sign_up(client_b, "ada"), await sign_up(client_b, "bob")
    chat_id = await create_chat(app_b, ada, visibility=Visibility.PUBLIC)
    async with open_socket(url_a, bob.token) as watcher:
        await watcher.subscribe("w", CHAT_EVENTS, {"chatId": chat_id})
        first = await _reply(url_b, ada, chat_id, "hello")
        assert streamed_text(await watch_until_finished(watcher, "w")) == streamed_text(first)

        await _hide(client_b, ada, chat_id, how)
        await _assert_watch_ends_with_not_found(watcher)
        if how == "PRIVATE":
            await _reply(url_b, ada, chat_id, "a secret")
        await _assert_nothing_more(watcher)

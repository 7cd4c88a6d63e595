"""Titles written by the model after a chat's first reply, announced as ChatUpdated."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from main import create_app
from src.api.chats.service import ChatService
from src.lib.db.title_store import DatabaseTitleStore
from tests.api.live.operations import (
    CREATE,
    TITLE,
    UPDATE,
    USER_EVENTS,
    kinds,
    subscribers,
    take,
)
from tests.api.stream.operations import CHAT_STREAM, message_input
from tests.conftest import make_settings, serve
from tests.helpers import GraphQLClient, wait_until
from tests.lib.llm.chat_server import ChatServer
from tests.ws import GraphQLSocket, open_socket

QUESTION = "Plan a three day trip to Lisbon in May, with a budget"
DEMO_TITLE = "Plan a three day trip to"  # the demo model's title: the first six words


def titles_written(app: FastAPI) -> bool:
    """Whether no title is being written."""
    return bool(app.state.runtime.generations.titles.pending == 0)


async def reply_and_events(
    app: FastAPI, socket: GraphQLSocket, user_id: str, chat_id: str, count: int
) -> list[dict[str, Any]]:
    """Subscribe to userEvents, stream a reply in the chat, return the first `count` events."""
    await socket.subscribe("live", USER_EVENTS, {})
    await wait_until(lambda: subscribers(app, user_id) == 1)
    await socket.subscribe("reply", CHAT_STREAM, {"input": message_input(chat_id, QUESTION)})
    return await take(socket, "live", count)


async def test_the_first_reply_gets_the_chat_a_title_from_the_model(
    app: FastAPI, client: GraphQLClient, server_url: str
) -> None:
    ada = await client.register()
    token, chat_id = ada["accessToken"], str(uuid.uuid4())
    async with open_socket(server_url, token) as socket:
        seen = await reply_and_events(app, socket, ada["user"]["id"], chat_id, 4)
    assert kinds(seen) == ["ChatCreated", "GenerationStarted", "GenerationEnded", "ChatUpdated"]
    assert seen[0]["chat"]["title"] == QUESTION  # provisional: the first message
    assert seen[3]["chat"]["title"] == DEMO_TITLE
    assert (await client.data(TITLE, {"id": chat_id}, token))["chat"]["title"] == DEMO_TITLE


async def test_a_chat_its_owner_titled_keeps_its_title(
    app: FastAPI, client: GraphQLClient, server_url: str
) -> None:
    ada = await client.register()
    token = ada["accessToken"]
    chat_id = (await client.data(CREATE, {}, token))["createChat"]["id"]  # "New chat", pending
    await client.data(UPDATE, {"id": chat_id, "input": {"title": "Mine"}}, token)
    async with open_socket(server_url, token) as socket:
        seen = await reply_and_events(app, socket, ada["user"]["id"], chat_id, 3)
        await wait_until(lambda: titles_written(app))
        await client.data(UPDATE, {"id": chat_id, "input": {"visibility": "PUBLIC"}}, token)
        seen += await take(socket, "live", 1)
    assert kinds(seen) == ["ChatUpdated", "GenerationStarted", "GenerationEnded", "ChatUpdated"]
    assert (seen[-1]["chat"]["title"], seen[-1]["chat"]["visibility"]) == ("Mine", "PUBLIC")


async def test_an_owners_rename_wins_over_a_title_being_written(
    app: FastAPI, client: GraphQLClient
) -> None:
    ada = await client.register()
    token = ada["accessToken"]
    renamed, waiting = [
        uuid.UUID((await client.data(CREATE, {}, token))["createChat"]["id"]) for _ in range(2)
    ]
    runtime = app.state.runtime
    store = DatabaseTitleStore(runtime.session_factory)

    chats = ChatService(runtime)
    await chats.update(uuid.UUID(ada["user"]["id"]), renamed, "Renamed", None)

    # written at the same moment: one batch, one statement, a result for each chat
    saved = await asyncio.gather(
        store.save_title(renamed, "The model's title"),
        store.save_title(waiting, "Another model title"),
    )
    assert list(saved) == [False, True]
    titles = [
        (await client.data(TITLE, {"id": str(c)}, token))["chat"]["title"]
        for c in (renamed, waiting)
    ]
    assert titles == ["Renamed", "Another model title"]


@pytest.fixture
async def failing_title_server(
    app: FastAPI, database_url: str, tmp_path: Path
) -> AsyncIterator[tuple[FastAPI, str, GraphQLClient, ChatServer]]:
    """A server whose titles come from an OpenAI-compatible provider that answers 500.

    Yields the app, its WebSocket URL, an HTTP client of it and the failing provider's server.
    Replies still come from the demo model. (`app` is the session's app on the same database:
    taking it gets the tables cleaned.)
    """
    failing = ChatServer()  # no scripted reply: every request gets a 500
    await failing.start()
    settings = make_settings(
        database_url,
        tmp_path,
        openai_base_url=failing.base_url,
        openai_api_key="test-key",
        openai_models=["broken"],
        demo_model_enabled=True,
        default_model="demo",
        title_model="broken",
        llm_max_retries=0,
    )
    application = create_app(settings)
    transport = httpx.ASGITransport(app=application)
    try:
        async with (
            application.router.lifespan_context(application),
            serve(application) as url,
            httpx.AsyncClient(transport=transport, base_url="http://titles") as http,
        ):
            yield application, url, GraphQLClient(http), failing
    finally:
        await failing.stop()


async def test_a_failing_title_model_leaves_the_title_as_it_was(
    failing_title_server: tuple[FastAPI, str, GraphQLClient, ChatServer],
) -> None:
    app, url, client, failing = failing_title_server
    ada = await client.register()
    token, chat_id = ada["accessToken"], str(uuid.uuid4())
    async with open_socket(url, token) as socket:
        seen = await reply_and_events(app, socket, ada["user"]["id"], chat_id, 3)
        await wait_until(lambda: titles_written(app))
        await client.data(UPDATE, {"id": chat_id, "input": {"visibility": "PUBLIC"}}, token)
        seen += await take(socket, "live", 1)
    assert [request.json["model"] for request in failing.requests] == ["broken"]
    assert kinds(seen) == ["ChatCreated", "GenerationStarted", "GenerationEnded", "ChatUpdated"]
    assert (seen[-1]["chat"]["title"], seen[-1]["chat"]["visibility"]) == (QUESTION, "PUBLIC")

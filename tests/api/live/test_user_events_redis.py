"""userEvents through Redis: across server processes, on a bounded number of connections."""

import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from redis.asyncio import Redis

from main import create_app
from src.lib.streaming.redis_broker import DEFAULT_MAX_CONNECTIONS
from tests.api.live.operations import (
    CREATE,
    DELETE,
    UPDATE,
    USER_EVENTS,
    kinds,
    run,
    subscribers,
    take,
)
from tests.api.stream.operations import CHAT_STREAM, message_input
from tests.conftest import make_settings, serve
from tests.helpers import GraphQLClient, wait_until
from tests.processes import redis_server
from tests.ws import GraphQLSocket, open_socket

SUBSCRIBERS = 12
QUESTION = "Hi there, please tell me about the sea"


async def test_changes_made_on_one_server_reach_a_device_on_another_in_order(
    redis_servers: list[tuple[FastAPI, str]], client: GraphQLClient
) -> None:
    (app_a, url_a), (_, url_b) = redis_servers
    ada, bob = await client.register(), await client.register("bob@example.com")
    chat_id = str(uuid.uuid4())
    async with (
        open_socket(url_a, ada["accessToken"]) as phone,
        open_socket(url_a, bob["accessToken"]) as stranger,
        open_socket(url_b, ada["accessToken"]) as laptop,
    ):
        await phone.subscribe("live", USER_EVENTS, {})
        await stranger.subscribe("live", USER_EVENTS, {})
        await wait_until(
            lambda: (
                subscribers(app_a, ada["user"]["id"]) == subscribers(app_a, bob["user"]["id"]) == 1
            )
        )

        await laptop.subscribe("reply", CHAT_STREAM, {"input": message_input(chat_id, QUESTION)})
        reply = await laptop.collect("reply", "chatStream")
        seen = await take(phone, "live", 4)  # created, started, ended, titled by the model
        await run(laptop, "rename", UPDATE, {"id": chat_id, "input": {"title": "Mine"}})
        await run(laptop, "delete", DELETE, {"id": chat_id})
        seen += await take(phone, "live", 2)

        bobs = await laptop_of(url_b, bob["accessToken"])
        strangers_first = await take(stranger, "live", 1)

    assert kinds(seen) == [
        "ChatCreated",
        "GenerationStarted",
        "GenerationEnded",
        "ChatUpdated",
        "ChatUpdated",
        "ChatDeleted",
    ]
    assert {event.get("chatId") or event["chat"]["id"] for event in seen} == {chat_id}
    assert seen[1]["generation"]["messageId"] == reply[0]["assistantMessageId"]
    assert seen[2]["status"] == "COMPLETE"
    assert seen[0]["chat"]["title"] == QUESTION
    assert seen[3]["chat"]["title"] == "Hi there, please tell me about"  # the demo model's
    assert seen[4]["chat"]["title"] == "Mine"
    assert strangers_first[0]["chat"]["id"] == bobs


async def laptop_of(url: str, token: str) -> str:
    """Create a chat from a socket of its own on a server; returns its id."""
    async with open_socket(url, token) as socket:
        created = await run(socket, "create", CREATE, {"input": {"title": "Bob's"}})
    chat_id: str = created["createChat"]["id"]
    return chat_id


@pytest.fixture
async def server_on_own_redis(
    app: FastAPI, database_url: str, tmp_path: Path
) -> AsyncIterator[tuple[FastAPI, str, GraphQLClient, Redis]]:
    """A server on a Redis of this test alone: the app, its URL, a client, that Redis."""
    async with redis_server() as own_redis, AsyncExitStack() as stack:
        application = create_app(make_settings(database_url, tmp_path, redis_url=own_redis.url))
        await stack.enter_async_context(application.router.lifespan_context(application))
        url = await stack.enter_async_context(serve(application))
        transport = httpx.ASGITransport(app=application)
        http = await stack.enter_async_context(
            httpx.AsyncClient(transport=transport, base_url="http://own")
        )
        redis = await stack.enter_async_context(Redis.from_url(own_redis.url))
        yield application, url, GraphQLClient(http), redis


async def test_redis_connections_do_not_grow_with_user_event_subscribers(
    server_on_own_redis: tuple[FastAPI, str, GraphQLClient, Redis],
) -> None:
    app, url, client, redis = server_on_own_redis
    people = [await client.register(f"user{n}@example.com") for n in range(SUBSCRIBERS // 2)]
    devices: list[tuple[GraphQLSocket, dict[str, Any]]] = []
    async with AsyncExitStack() as stack:

        async def subscribe(person: dict[str, Any]) -> None:
            socket = await stack.enter_async_context(open_socket(url, person["accessToken"]))
            before = subscribers(app, person["user"]["id"])
            await socket.subscribe("live", USER_EVENTS, {})
            await wait_until(lambda: subscribers(app, person["user"]["id"]) == before + 1)
            devices.append((socket, person))

        await subscribe(people[0])
        await client.data(CREATE, {"input": {"title": "warm"}}, people[0]["accessToken"])
        assert kinds(await take(devices[0][0], "live", 1)) == ["ChatCreated"]
        with_one = len(await redis.client_list()) - 1  # not this test's own connection

        for person in people[1:] + people:  # two devices each
            await subscribe(person)
        created = {
            person["user"]["id"]: (
                await client.data(CREATE, {"input": {"title": "new"}}, person["accessToken"])
            )["createChat"]["id"]
            for person in people
        }
        for socket, person in devices:
            (event,) = await take(socket, "live", 1)
            assert event["chat"]["id"] == created[person["user"]["id"]]
        with_many = len(await redis.client_list()) - 1

    assert len(devices) == SUBSCRIBERS
    assert with_many == with_one
    assert with_one <= DEFAULT_MAX_CONNECTIONS + 4  # pool, XREAD, stop watch, rate limits

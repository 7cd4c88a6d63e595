"""The daily allowance holds when replies start at once, in one process and across two.

Every start locks its user's row, checks and charges in one transaction: a guest with two
messages left gets two replies whatever the number of simultaneous starts, and a start
refused after its charge (a busy chat) gives the charge back.
"""

import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from src.lib.db.session import create_engine, create_session_factory
from tests.api.limits.races import (
    GUEST_ALLOWANCE,
    count_usage,
    finish_all,
    sockets,
    spend,
    start_all,
    usage_of,
)
from tests.api.stream.operations import CHAT_STREAM, STOP, message_input
from tests.conftest import TEST_SETTINGS
from tests.helpers import GraphQLClient
from tests.processes import ServerProcess, server_process
from tests.ws import open_socket


async def test_a_guest_with_two_left_gets_two_of_eight_simultaneous_replies(
    client: GraphQLClient, server_url: str, app: FastAPI
) -> None:
    guest = await client.guest()
    guest_id = guest["user"]["id"]
    await spend(app, guest_id, GUEST_ALLOWANCE - 2)
    inputs = [message_input(uuid.uuid4(), f"hello {n}") for n in range(8)]
    async with sockets(server_url, [guest["accessToken"]] * 8) as open_sockets:
        answers = await start_all(open_sockets, inputs)
        await finish_all(open_sockets, answers)
    assert sorted(answers) == ["RATE_LIMITED"] * 6 + ["StreamStarted"] * 2
    assert await usage_of(app, guest_id) == GUEST_ALLOWANCE


async def test_starts_refused_after_their_charge_give_it_back(
    client: GraphQLClient, server_url: str, app: FastAPI
) -> None:
    guest = await client.guest()
    guest_id, token = guest["user"]["id"], guest["accessToken"]
    await spend(app, guest_id, GUEST_ALLOWANCE - 2)
    busy_chat = uuid.uuid4()
    async with open_socket(server_url, token) as running:
        await running.subscribe("1", CHAT_STREAM, {"input": message_input(busy_chat, "go " * 200)})
        await anext(running.events("1"))
        async with sockets(server_url, [token] * 4) as open_sockets:
            inputs = [message_input(busy_chat, f"me too {n}") for n in range(4)]
            answers = await start_all(open_sockets, inputs)
        assert answers == ["CONFLICT"] * 4
        assert await usage_of(app, guest_id) == GUEST_ALLOWANCE - 1
        await client.data(STOP, {"chatId": str(busy_chat)}, token)
        await running.collect("1", "chatStream")
    async with sockets(server_url, [token]) as last:
        assert await start_all(last, [message_input(uuid.uuid4(), "the last one")]) == [
            "StreamStarted"
        ]
        await finish_all(last, ["StreamStarted"])
    assert await usage_of(app, guest_id) == GUEST_ALLOWANCE


PROCESS_ALLOWANCE = 4


@pytest.fixture
async def two_processes(
    empty_database_url: str, tmp_path: Path
) -> AsyncIterator[tuple[ServerProcess, ServerProcess]]:
    """Processes A and B on one fresh database, guests allowed PROCESS_ALLOWANCE replies."""
    settings = TEST_SETTINGS | {
        "database_url": empty_database_url,
        "guest_daily_messages": PROCESS_ALLOWANCE,
        "max_concurrent_replies": 10,
    }
    async with AsyncExitStack() as stack:
        servers = []
        for name in ("a", "b"):
            env = {key.upper(): str(value) for key, value in settings.items()}
            env["DATA_DIR"] = str(tmp_path / name)
            log = tmp_path / f"{name}.log"
            servers.append(await stack.enter_async_context(server_process(env, log)))
        yield servers[0], servers[1]


@pytest.mark.parametrize("empty_database_url", ["postgresql"], indirect=True)
async def test_two_processes_together_start_no_more_than_the_allowance(
    two_processes: tuple[ServerProcess, ServerProcess], empty_database_url: str
) -> None:
    a, b = two_processes
    async with httpx.AsyncClient(base_url=a.http_url) as http:
        guest = await GraphQLClient(http).guest()
    token = guest["accessToken"]
    inputs = [message_input(uuid.uuid4(), f"hello {n}") for n in range(12)]
    async with (
        sockets(a.ws_url, [token] * 6) as on_a,
        sockets(b.ws_url, [token] * 6) as on_b,
    ):
        answers = await start_all(on_a + on_b, inputs)
        await finish_all(on_a + on_b, answers)
    assert sorted(answers) == ["RATE_LIMITED"] * 8 + ["StreamStarted"] * PROCESS_ALLOWANCE

    engine = create_engine(empty_database_url)
    try:
        used = await count_usage(create_session_factory(engine), guest["user"]["id"])
    finally:
        await engine.dispose()
    assert used == PROCESS_ALLOWANCE

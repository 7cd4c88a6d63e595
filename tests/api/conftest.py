"""API fixtures: a signed-in user with a chat; two servers sharing Redis (apps or processes)."""

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import NamedTuple

import pytest
from fastapi import FastAPI

from main import create_app
from tests.conftest import TEST_SETTINGS, make_settings, serve
from tests.factories import Person, create_chat, sign_up
from tests.helpers import REDIS_URL, GraphQLClient, require_redis
from tests.processes import ServerProcess, server_process


class OwnedChat(NamedTuple):
    """A signed-in user and the id of a new chat of theirs."""

    owner: Person
    chat_id: str


@pytest.fixture
async def ada_chat(client: GraphQLClient, app: FastAPI) -> OwnedChat:
    """Ada (ada@example.com), signed in, with a new empty private chat titled "Chat"."""
    ada = await sign_up(client, "ada")
    return OwnedChat(ada, await create_chat(app, ada))


@pytest.fixture
async def redis_servers(
    app: FastAPI, database_url: str, tmp_path: Path
) -> AsyncIterator[list[tuple[FastAPI, str]]]:
    """Two apps on one database and one Redis, served: each with its WebSocket URL.

    (`app` is the session's app on the same database: taking it gets the tables cleaned.)
    """
    await require_redis()
    async with AsyncExitStack() as stack:
        servers = []
        for name in ("a", "b"):
            settings = make_settings(database_url, tmp_path / name, redis_url=REDIS_URL)
            application = create_app(settings)
            await stack.enter_async_context(application.router.lifespan_context(application))
            servers.append((application, await stack.enter_async_context(serve(application))))
        yield servers


@pytest.fixture
async def two_processes(
    empty_database_url: str, tmp_path: Path
) -> AsyncIterator[tuple[ServerProcess, ServerProcess]]:
    """Server processes A and B (`main.py`) on one fresh database and Redis."""
    await require_redis()
    async with AsyncExitStack() as stack:
        servers = []
        for name in ("a", "b"):
            settings = TEST_SETTINGS | {
                "database_url": empty_database_url,
                "data_dir": tmp_path / name,
                "redis_url": REDIS_URL,
            }
            env = {key.upper(): str(value) for key, value in settings.items()}
            servers.append(
                await stack.enter_async_context(server_process(env, tmp_path / f"{name}.log"))
            )
        yield servers[0], servers[1]

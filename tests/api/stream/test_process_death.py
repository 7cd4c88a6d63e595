"""A server process killed mid-reply: the living close its reply, and the chat goes on.

Two real server processes (`main.py`) share a database and Redis. A reply runs on A; a
watcher follows it from B; A gets SIGKILL. Within the lock TTL plus a few maintenance rounds
B saves the reply INTERRUPTED, its watcher gets the terminal event, and the chat takes a new
reply, all without A coming back.
"""

import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.api.stream.operations import (
    CHAT,
    CHAT_EVENTS,
    CHAT_STREAM,
    message_input,
    until_terminal,
)
from tests.conftest import TEST_SETTINGS
from tests.helpers import REDIS_URL, GraphQLClient, require_redis
from tests.processes import ServerProcess, server_process
from tests.ws import open_socket

LOCK_TTL = 2.0
CLOSE_WITHIN = LOCK_TTL + 15


def _environment(database_url: str, data_dir: Path) -> dict[str, str]:
    settings = TEST_SETTINGS | {
        "database_url": database_url,
        "data_dir": data_dir,
        "redis_url": REDIS_URL,
        "generation_lock_ttl_seconds": LOCK_TTL,
        "demo_token_delay_seconds": 0.05,
    }
    return {name.upper(): str(value) for name, value in settings.items()}


@pytest.fixture
async def two_processes(
    empty_database_url: str, tmp_path: Path
) -> AsyncIterator[tuple[ServerProcess, ServerProcess]]:
    """Processes A and B on one fresh database and Redis (started one after the other)."""
    await require_redis()
    async with AsyncExitStack() as stack:
        servers = []
        for name in ("a", "b"):
            env = _environment(empty_database_url, tmp_path / name)
            log = tmp_path / f"{name}.log"
            servers.append(await stack.enter_async_context(server_process(env, log)))
        yield servers[0], servers[1]


async def test_a_killed_process_reply_is_closed_by_the_living(
    two_processes: tuple[ServerProcess, ServerProcess],
) -> None:
    a, b = two_processes
    async with httpx.AsyncClient(base_url=b.http_url) as http:
        client = GraphQLClient(http)
        token = (await client.register())["accessToken"]
        chat_id = uuid.uuid4()
        async with open_socket(a.ws_url, token) as on_a, open_socket(b.ws_url, token) as on_b:
            await on_a.subscribe("1", CHAT_STREAM, {"input": message_input(chat_id, "hi " * 200)})
            streamed = [data["chatStream"] async for data in _until_seq(on_a.events("1"), 10)]
            reply_id = streamed[0]["assistantMessageId"]
            await on_b.subscribe("2", CHAT_EVENTS, {"chatId": str(chat_id), "afterSeq": 10})

            a.kill()
            terminal = await until_terminal(on_b.events("2", CLOSE_WITHIN))

        assert terminal["__typename"] == "StreamFinished"
        assert terminal["finishReason"] == "CANCELLED"
        saved = terminal["message"]
        assert (saved["id"], saved["status"]) == (reply_id, "INTERRUPTED")
        assert saved["text"]  # the text saved before the kill is kept

        chat = (await client.data(CHAT, {"id": str(chat_id)}, token))["chat"]
        assert chat["activeGeneration"] is None
        async with open_socket(b.ws_url, token) as again:
            await again.subscribe("3", CHAT_STREAM, {"input": message_input(chat_id, "again")})
            events = await again.collect("3", "chatStream")
        assert events[-1]["__typename"] == "StreamFinished"
        assert events[-1]["message"]["status"] == "COMPLETE"


async def _until_seq(
    events: AsyncIterator[dict[str, Any]], seq: int
) -> AsyncIterator[dict[str, Any]]:
    """The events of a chatStream up to the one numbered `seq`."""
    async for data in events:
        yield data
        if data["chatStream"]["seq"] >= seq:
            return

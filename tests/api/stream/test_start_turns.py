"""Reply starts take turns: a start waits for a free one, saving nothing meanwhile, then runs."""

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fastapi import FastAPI

from src.api.runtime import Runtime
from tests.api.stream.operations import CHAT, CHAT_STREAM, message_input
from tests.conftest import make_settings, running_app
from tests.helpers import GraphQLClient, wait_until
from tests.ws import open_socket


@pytest.fixture
async def one_start_at_a_time(
    app: FastAPI, database_url: str, tmp_path: Path
) -> AsyncIterator[tuple[FastAPI, str, GraphQLClient]]:
    """A server starting one reply at a time: itself, its WebSocket URL, an HTTP client.

    (`app` is asked for so that the tables are emptied after the test.)
    """
    settings = make_settings(database_url, tmp_path, max_starting_replies=1)
    async with running_app(settings) as running:
        yield running


async def test_a_start_waits_for_its_turn_and_then_streams(
    one_start_at_a_time: tuple[FastAPI, str, GraphQLClient],
) -> None:
    application, url, client = one_start_at_a_time
    runtime: Runtime = application.state.runtime
    token = (await client.register())["accessToken"]
    chat_id = uuid.uuid4()
    async with open_socket(url, token) as socket:
        async with runtime.reply_starts.turn():  # the one turn is taken
            await socket.subscribe("1", CHAT_STREAM, {"input": message_input(chat_id, "hi")})
            await wait_until(lambda: runtime.reply_starts.waiting == 1)
            chat = await client.data(CHAT, {"id": str(chat_id)}, token)
            assert chat["chat"] is None  # nothing saved while it waits
        events = await socket.collect("1", "chatStream")

    assert events[0]["__typename"] == "StreamStarted"
    assert events[-1]["finishReason"] == "STOP"
    assert runtime.reply_starts.waiting == 0

"""A user may have only so many replies generating at once, across all their chats."""

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fastapi import FastAPI

from tests.api.stream.operations import CHAT_STREAM, STOP, message_input
from tests.conftest import make_settings, running_app
from tests.helpers import GraphQLClient
from tests.ws import OperationError, open_socket


@pytest.fixture
async def one_at_a_time(
    app: FastAPI, database_url: str, tmp_path: Path
) -> AsyncIterator[tuple[str, GraphQLClient]]:
    """A server allowing one running reply per user: its WebSocket URL and an HTTP client."""
    settings = make_settings(database_url, tmp_path, max_concurrent_replies=1)
    async with running_app(settings) as (_, url, client):
        yield url, client


async def test_a_second_reply_elsewhere_waits_for_the_first(
    one_at_a_time: tuple[str, GraphQLClient],
) -> None:
    url, client = one_at_a_time
    token = (await client.register())["accessToken"]
    first, second = uuid.uuid4(), uuid.uuid4()
    async with open_socket(url, token) as socket:
        await socket.subscribe("1", CHAT_STREAM, {"input": message_input(first, "go " * 200)})
        await anext(socket.events("1"))
        with pytest.raises(OperationError) as error:
            await socket.subscribe("2", CHAT_STREAM, {"input": message_input(second, "me too")})
            await socket.collect("2", "chatStream")
        assert error.value.code == "RATE_LIMITED"
        await client.data(STOP, {"chatId": str(first)}, token)
        await socket.collect("1", "chatStream")
        await socket.subscribe("3", CHAT_STREAM, {"input": message_input(second, "now")})
        events = await socket.collect("3", "chatStream")
    assert events[-1]["finishReason"] == "STOP"

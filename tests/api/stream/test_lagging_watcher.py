"""A watcher further behind than the chat's event log keeps is told to resume, not stalled."""

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fastapi import FastAPI

from main import create_app
from tests.api.stream.operations import CHAT_EVENTS, message_input, stream_reply
from tests.conftest import make_settings, serve
from tests.helpers import GraphQLClient
from tests.ws import OperationError, open_socket


@pytest.fixture
async def short_log_server(app: FastAPI, database_url: str, tmp_path: Path) -> AsyncIterator[str]:
    """A server whose chats keep only their last 10 events."""
    application = create_app(make_settings(database_url, tmp_path, stream_log_max_events=10))
    async with application.router.lifespan_context(application), serve(application) as url:
        yield url


async def test_a_watcher_behind_the_log_gets_a_clear_error(
    client: GraphQLClient, short_log_server: str
) -> None:
    token = (await client.register())["accessToken"]
    chat_id = uuid.uuid4()
    events = await stream_reply(short_log_server, token, message_input(chat_id, "go on " * 30))
    assert len(events) > 10
    async with open_socket(short_log_server, token) as socket:
        await socket.subscribe("w", CHAT_EVENTS, {"chatId": str(chat_id), "afterSeq": 1})
        with pytest.raises(OperationError) as error:
            await socket.collect("w", "chatEvents")
    assert error.value.code == "RATE_LIMITED"
    assert "afterSeq" in error.value.errors[0]["message"]

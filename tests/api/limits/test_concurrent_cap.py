"""The cap on replies generating at once holds when they start at once.

Eight simultaneous chatStreams of one user, in eight chats, against a cap of three: three
start, five are refused (RATE_LIMITED), and the database never holds more than three of the
user's replies STREAMING.
"""

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fastapi import FastAPI

from tests.api.limits.races import finish_all, sockets, start_all, streaming_of, usage_of
from tests.api.stream.operations import STOP, message_input
from tests.conftest import make_settings, running_app
from tests.helpers import GraphQLClient

CAP = 3


@pytest.fixture
async def slow_app(
    app: FastAPI, database_url: str, tmp_path: Path
) -> AsyncIterator[tuple[FastAPI, str, GraphQLClient]]:
    """An app with the default cap whose replies take seconds: itself, its WS URL, a client."""
    settings = make_settings(
        database_url, tmp_path, max_concurrent_replies=CAP, demo_token_delay_seconds=0.05
    )
    async with running_app(settings) as running:
        yield running


async def test_eight_simultaneous_starts_against_a_cap_of_three_start_three(
    slow_app: tuple[FastAPI, str, GraphQLClient],
) -> None:
    application, url, client = slow_app
    auth = await client.register()
    token, user_id = auth["accessToken"], auth["user"]["id"]
    chats = [uuid.uuid4() for _ in range(8)]
    async with sockets(url, [token] * 8) as open_sockets:
        answers = await start_all(open_sockets, [message_input(c, "go " * 200) for c in chats])
        assert sorted(answers) == ["RATE_LIMITED"] * 5 + ["StreamStarted"] * CAP
        assert await streaming_of(application, user_id) == CAP
        for chat_id, answer in zip(chats, answers, strict=True):
            if answer == "StreamStarted":
                await client.data(STOP, {"chatId": str(chat_id)}, token)
        await finish_all(open_sockets, answers)
    assert await streaming_of(application, user_id) == 0
    assert await usage_of(application, user_id) == CAP

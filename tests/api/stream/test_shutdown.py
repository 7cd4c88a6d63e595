"""Stopping the server: running replies get a grace period, then are saved INTERRUPTED."""

import uuid
from pathlib import Path

import pytest
from fastapi import FastAPI

from main import create_app
from src.core.enums import FinishReason, MessageStatus
from src.lib.db.models import Message
from tests.api.stream.operations import CHAT_STREAM, message_input
from tests.conftest import make_settings, serve
from tests.helpers import GraphQLClient
from tests.ws import open_socket


@pytest.mark.parametrize(
    ("grace", "status", "finish"),
    [
        (10.0, MessageStatus.COMPLETE, FinishReason.STOP),
        (0.0, MessageStatus.INTERRUPTED, FinishReason.CANCELLED),
    ],
)
async def test_shutdown_lets_replies_finish_within_the_grace_period(
    app: FastAPI,
    client: GraphQLClient,
    database_url: str,
    tmp_path: Path,
    grace: float,
    status: MessageStatus,
    finish: FinishReason,
) -> None:
    token = (await client.register())["accessToken"]
    settings = make_settings(database_url, tmp_path, shutdown_grace_seconds=grace)
    server = create_app(settings)
    # Leaving the block closes the socket, stops serving, then ends the lifespan, while the
    # reply still streams.
    async with (
        server.router.lifespan_context(server),
        serve(server) as url,
        open_socket(url, token) as socket,
    ):
        chat_input = message_input(uuid.uuid4(), "go on " * 60)
        await socket.subscribe("1", CHAT_STREAM, {"input": chat_input})
        started = (await anext(socket.events("1")))["chatStream"]
    async with app.state.runtime.session_factory() as db:
        reply = await db.get(Message, uuid.UUID(started["assistantMessageId"]))
    assert reply is not None
    assert (reply.status, reply.finish_reason) == (status, finish)
    assert reply.text

"""Issue 11 item 15: the legacy graphql-ws protocol refuses what graphql-ws refuses.

No connection_init in time closes with 4408, a second connection_init with 4429, a `start`
whose id is running with 4409, a frame that is not JSON with 4400.
"""

import asyncio
import uuid

import pytest
import websockets
from fastapi import FastAPI
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from tests.api.conftest import OwnedChat
from tests.api.stream.operations import CHAT_EVENTS
from tests.helpers import wait_until
from tests.ws import open_socket

LEGACY = "graphql-ws"


async def _close_code(connection: websockets.ClientConnection) -> int | None:
    with pytest.raises(ConnectionClosed):
        while True:
            await asyncio.wait_for(connection.recv(), 10)
    return connection.close_code


async def test_a_socket_without_connection_init_is_closed_with_4408(server_url: str) -> None:
    async with websockets.connect(server_url, subprotocols=[Subprotocol(LEGACY)]) as ws:
        assert await _close_code(ws) == 4408


async def test_a_second_connection_init_closes_with_4429(
    server_url: str, ada_chat: OwnedChat
) -> None:
    async with open_socket(server_url, ada_chat.owner.token, LEGACY) as socket:
        await socket.send({"type": "connection_init", "payload": {}})
        assert await _close_code(socket.connection) == 4429


async def test_a_running_operation_id_started_again_closes_with_4409(
    server_url: str, ada_chat: OwnedChat
) -> None:
    ada, chat_id = ada_chat
    async with open_socket(server_url, ada.token, LEGACY) as socket:
        for _ in range(2):
            await socket.subscribe("1", CHAT_EVENTS, {"chatId": chat_id})
        assert await _close_code(socket.connection) == 4409


async def test_an_operation_id_can_be_used_again_once_stopped(
    app: FastAPI, server_url: str, ada_chat: OwnedChat
) -> None:
    ada, chat_id = ada_chat
    broker = app.state.runtime.broker
    async with open_socket(server_url, ada.token, LEGACY) as socket:
        for _ in range(2):
            await socket.subscribe("1", CHAT_EVENTS, {"chatId": chat_id})
            await wait_until(lambda: broker.subscriber_count(uuid.UUID(chat_id)) == 1)
            await socket.complete("1")
            assert await socket.receive() == {"type": "complete", "id": "1"}


@pytest.mark.parametrize("frame", ["not json", '{"type": "start", "id": '])
async def test_a_frame_that_is_not_json_closes_with_4400(
    server_url: str, ada_chat: OwnedChat, frame: str
) -> None:
    async with open_socket(server_url, ada_chat.owner.token, LEGACY) as socket:
        await socket.connection.send(frame)
        assert await _close_code(socket.connection) == 4400

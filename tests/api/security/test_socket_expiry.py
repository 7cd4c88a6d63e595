"""Issue 11 item 1: an open WebSocket ends with its sign-in, on both protocols.

A socket is closed with 4403 when its token expires, and within a few seconds when its user
is deactivated or deleted; its running subscriptions end (the broker forgets them).
"""

import uuid
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import delete, update
from websockets.exceptions import ConnectionClosed

from src.core.security import create_access_token
from src.lib.db.models import User
from src.lib.streaming.memory import InMemoryBroker
from tests.api.conftest import OwnedChat
from tests.api.stream.operations import CHAT_EVENTS
from tests.helpers import wait_until
from tests.ws import GraphQLSocket, open_socket

PROTOCOLS = ["graphql-transport-ws", "graphql-ws"]
ME = "query Me { me { id } }"
WITHIN = 15  # seconds a test waits for the close: the token's life or a check, plus load


async def _until_closed(socket: GraphQLSocket) -> list[dict[str, Any]]:
    """Every message until the server closes the socket."""
    messages = []
    with pytest.raises(ConnectionClosed):
        while True:
            messages.append(await socket.receive(within=WITHIN))
    return messages


async def _watching(app: FastAPI, socket: GraphQLSocket, chat_id: str) -> None:
    """Start watching the chat on the socket, and wait until the broker has the watcher."""
    await socket.subscribe("w", CHAT_EVENTS, {"chatId": chat_id})
    broker = app.state.runtime.broker
    assert isinstance(broker, InMemoryBroker)
    await wait_until(lambda: broker.subscriber_count(uuid.UUID(chat_id)) == 1)


async def _assert_closed_and_unsubscribed(
    app: FastAPI, socket: GraphQLSocket, chat_id: str
) -> None:
    messages = await _until_closed(socket)
    assert socket.connection.close_code == 4403
    assert not [m for m in messages if m["type"] in {"next", "data"}]
    if socket.legacy:
        assert {"type": "complete", "id": "w"} in messages
    broker = app.state.runtime.broker
    await wait_until(lambda: broker.subscriber_count(uuid.UUID(chat_id)) == 0)


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_the_socket_closes_with_4403_when_its_token_expires(
    app: FastAPI, server_url: str, ada_chat: OwnedChat, protocol: str
) -> None:
    ada, chat_id = ada_chat
    token = create_access_token(uuid.UUID(ada.id), app.state.runtime.settings.jwt_key, 2)
    async with open_socket(server_url, token, protocol) as socket:
        if not socket.legacy:  # queries over legacy graphql-ws are issue 11 item 10's
            await socket.subscribe("1", ME, {})
            assert await socket.collect("1", "me") == [{"id": ada.id}]
        await _watching(app, socket, chat_id)
        await _assert_closed_and_unsubscribed(app, socket, chat_id)


@pytest.mark.parametrize("protocol", PROTOCOLS)
@pytest.mark.parametrize("change", ["deactivated", "deleted"])
async def test_the_socket_closes_with_4403_when_its_user_goes(
    app: FastAPI, server_url: str, ada_chat: OwnedChat, protocol: str, change: str
) -> None:
    ada, chat_id = ada_chat
    user_id = uuid.UUID(ada.id)
    async with open_socket(server_url, ada.token, protocol) as socket:
        await _watching(app, socket, chat_id)
        async with app.state.runtime.session_factory.begin() as db:
            if change == "deactivated":
                await db.execute(update(User).where(User.id == user_id).values(is_active=False))
            else:  # its tokens and chats go with it (ON DELETE CASCADE)
                await db.execute(delete(User).where(User.id == user_id))
        await _assert_closed_and_unsubscribed(app, socket, chat_id)


async def test_a_socket_of_an_active_user_stays_open_past_the_checks(
    server_url: str, ada_chat: OwnedChat
) -> None:
    ada, _ = ada_chat
    async with open_socket(server_url, ada.token) as socket:
        for op_id in ("1", "2"):  # the second after at least one check of the users
            await socket.subscribe(op_id, ME, {})
            assert await socket.collect(op_id, "me") == [{"id": ada.id}]
            with pytest.raises(TimeoutError):
                await socket.receive(within=2.5)  # nothing: no close

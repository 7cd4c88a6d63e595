"""The WebSocket transport: authentication and the graphql-transport-ws protocol rules."""

import asyncio
import json

import pytest
import websockets
from websockets.typing import Origin, Subprotocol

from tests.api.conftest import OwnedChat
from tests.helpers import GraphQLClient
from tests.ws import close_code, open_socket

ME = "query Me { me { id } }"
TRANSPORT_WS = Subprotocol("graphql-transport-ws")


async def test_a_valid_token_opens_the_socket_and_runs_operations(
    client: GraphQLClient, server_url: str
) -> None:
    auth = await client.register()
    async with open_socket(server_url, auth["accessToken"]) as socket:
        await socket.subscribe("1", ME, {})
        assert await socket.collect("1", "me") == [{"id": auth["user"]["id"]}]


@pytest.mark.parametrize("token", [None, "not-a-token", "refresh"])
async def test_a_missing_or_bad_token_closes_with_4403(
    client: GraphQLClient, server_url: str, token: str | None
) -> None:
    if token == "refresh":
        token = (await client.register())["refreshToken"]
    async with websockets.connect(server_url, subprotocols=[TRANSPORT_WS]) as ws:
        payload = {"Authorization": f"Bearer {token}"} if token else {}
        await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        assert await close_code(ws) == 4403


async def test_legacy_protocol_gets_connection_error_without_a_token(server_url: str) -> None:
    async with websockets.connect(server_url, subprotocols=[Subprotocol("graphql-ws")]) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        answer = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert answer["type"] == "connection_error"
        await close_code(ws)


async def test_no_init_closes_with_4408(server_url: str) -> None:
    async with websockets.connect(server_url, subprotocols=[TRANSPORT_WS]) as ws:
        assert await close_code(ws) == 4408


async def test_second_init_closes_with_4429(client: GraphQLClient, server_url: str) -> None:
    token = (await client.register())["accessToken"]
    async with open_socket(server_url, token) as socket:
        await socket.send({"type": "connection_init", "payload": {}})
        assert await close_code(socket.connection) == 4429


@pytest.mark.parametrize(
    "message", ["not json", json.dumps({"type": "unknown"}), json.dumps({"type": "subscribe"})]
)
async def test_invalid_messages_close_with_4400(
    client: GraphQLClient, server_url: str, message: str
) -> None:
    token = (await client.register())["accessToken"]
    async with open_socket(server_url, token) as socket:
        await socket.connection.send(message)
        assert await close_code(socket.connection) == 4400


async def test_ping_gets_pong_and_the_socket_stays_open(
    client: GraphQLClient, server_url: str
) -> None:
    token = (await client.register())["accessToken"]
    async with open_socket(server_url, token) as socket:
        await socket.send({"type": "ping"})
        answer = json.loads(await asyncio.wait_for(socket.connection.recv(), 5))
        assert answer["type"] == "pong"
        await socket.send({"type": "pong"})
        await socket.subscribe("1", ME, {})
        assert len(await socket.collect("1", "me")) == 1


async def test_an_invalid_operation_gets_an_error_and_the_socket_stays_open(
    client: GraphQLClient, server_url: str
) -> None:
    token = (await client.register())["accessToken"]
    async with open_socket(server_url, token) as socket:
        await socket.subscribe("1", "{ nope }", {})
        message = await socket.receive()
        assert message["type"] == "error" and message["id"] == "1"
        assert message["payload"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
        await socket.subscribe("2", ME, {})
        assert len(await socket.collect("2", "me")) == 1


async def test_a_foreign_origin_is_refused(server_url: str) -> None:
    with pytest.raises(websockets.InvalidStatus):
        async with websockets.connect(
            server_url,
            subprotocols=[TRANSPORT_WS],
            origin=Origin("https://evil.example"),
        ):
            pass


async def test_a_duplicate_operation_id_closes_with_4409(
    server_url: str, ada_chat: OwnedChat
) -> None:
    ada, chat_id = ada_chat
    watch = "subscription W($id: ID!) { chatEvents(chatId: $id) { __typename } }"
    async with open_socket(server_url, ada.token) as socket:
        for _ in range(2):
            await socket.subscribe("1", watch, {"id": chat_id})
        assert await close_code(socket.connection) == 4409


async def test_an_oversized_frame_closes_with_1009(client: GraphQLClient, server_url: str) -> None:
    token = (await client.register())["accessToken"]
    async with open_socket(server_url, token) as socket:
        await socket.subscribe("1", ME, {"padding": "x" * 300_000})
        assert await close_code(socket.connection) == 1009

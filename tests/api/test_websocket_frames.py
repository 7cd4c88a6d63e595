"""Malformed WebSocket frames close the socket with 4400, and legacy sockets answer queries.

Issue 11, items 8 and 10: a frame nested too deeply for the JSON parser, or a legacy `start`
whose payload is not an object, dropped the socket without a close frame; a query sent over
the legacy graphql-ws protocol got INTERNAL_SERVER_ERROR.
"""

import json

import pytest

from tests.helpers import GraphQLClient
from tests.ws import close_code, open_socket

DEEP = "[" * 5000 + "]" * 5000
ME = "query Me { me { id } }"


@pytest.mark.parametrize(
    "frame",
    [
        DEEP,
        '{"id": "1", "type": "subscribe", "payload": ' + DEEP + "}",
        "123",
        "null",
    ],
)
async def test_a_frame_nested_too_deeply_or_not_an_object_closes_with_4400(
    client: GraphQLClient, server_url: str, frame: str
) -> None:
    token = (await client.guest())["accessToken"]
    async with open_socket(server_url, token) as socket:
        await socket.connection.send(frame)
        assert await close_code(socket.connection) == 4400


@pytest.mark.parametrize(
    "start",
    [
        {"id": "1", "type": "start", "payload": None},
        {"id": "1", "type": "start"},
        {"id": "1", "type": "start", "payload": {"query": 5}},
        {"id": "1", "type": "start", "payload": {"query": ME, "variables": [1]}},
        {"type": "start", "payload": {"query": ME}},
    ],
)
async def test_a_malformed_legacy_start_closes_with_4400(
    client: GraphQLClient, server_url: str, start: dict[str, object]
) -> None:
    token = (await client.guest())["accessToken"]
    async with open_socket(server_url, token, "graphql-ws") as socket:
        await socket.connection.send(json.dumps(start))
        assert await close_code(socket.connection) == 4400


@pytest.mark.parametrize("protocol", ["graphql-ws", "graphql-transport-ws"])
async def test_a_query_over_either_protocol_is_answered(
    client: GraphQLClient, server_url: str, protocol: str
) -> None:
    guest = await client.guest()
    async with open_socket(server_url, guest["accessToken"], protocol) as socket:
        await socket.subscribe("1", ME, {})
        assert await socket.collect("1", "me") == [{"id": guest["user"]["id"]}]
        await socket.subscribe("2", "{ nothingHere }", {})
        message = await socket.receive()
        assert (message["id"], message["type"]) == ("2", "error")
        assert "INTERNAL_SERVER_ERROR" not in json.dumps(message)


async def test_a_mutation_over_the_legacy_protocol_is_answered(
    client: GraphQLClient, server_url: str
) -> None:
    guest = await client.guest()
    async with open_socket(server_url, guest["accessToken"], "graphql-ws") as socket:
        await socket.subscribe(
            "1", "mutation C($t: String!) { createChat(input: {title: $t}) { title } }", {"t": "x"}
        )
        assert await socket.collect("1", "createChat") == [{"title": "x"}]

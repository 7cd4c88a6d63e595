"""WebSocket GraphQL clients for tests: graphql-transport-ws and the legacy graphql-ws.

- GraphQLSocket / open_socket: an initialised socket speaking either protocol.
- close_code: wait for the server to close a socket and return its close code.
"""

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
import websockets
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

TIMEOUT = 10


class GraphQLSocket:
    """One socket speaking graphql-transport-ws or graphql-ws."""

    def __init__(self, connection: ClientConnection, protocol: str) -> None:
        self.connection = connection
        self.protocol = protocol
        self.legacy = protocol == "graphql-ws"

    async def send(self, message: dict[str, Any]) -> None:
        """Send one protocol message."""
        await self.connection.send(json.dumps(message))

    async def receive(self, within: float = TIMEOUT) -> dict[str, Any]:
        """The next protocol message, skipping keep-alives."""
        while True:
            raw = await asyncio.wait_for(self.connection.recv(), within)
            message: dict[str, Any] = json.loads(raw)
            if message["type"] not in {"ka", "pong"}:
                return message

    async def init(self, token: str | None) -> dict[str, Any]:
        """Send connection_init with the token; return the server's answer."""
        payload = {"authorization": f"Bearer {token}"} if token else {}
        await self.send({"type": "connection_init", "payload": payload})
        return await self.receive()

    async def subscribe(self, op_id: str, query: str, variables: dict[str, Any]) -> None:
        """Start an operation."""
        kind = "start" if self.legacy else "subscribe"
        await self.send(
            {"id": op_id, "type": kind, "payload": {"query": query, "variables": variables}}
        )

    async def complete(self, op_id: str) -> None:
        """Stop an operation from the client side."""
        await self.send({"id": op_id, "type": "stop" if self.legacy else "complete"})

    async def events(self, op_id: str, within: float = TIMEOUT) -> AsyncIterator[dict[str, Any]]:
        """The data of each result of an operation, until it completes; errors raise."""
        while True:
            message = await self.receive(within)
            if message.get("id") != op_id:
                continue
            if message["type"] in {"next", "data"}:
                payload = message["payload"]
                if payload.get("errors"):
                    raise OperationError(payload["errors"])
                yield payload["data"]
            elif message["type"] == "complete":
                return
            elif message["type"] == "error":
                raise OperationError(message["payload"])

    async def collect(
        self, op_id: str, field: str, within: float = TIMEOUT
    ) -> list[dict[str, Any]]:
        """Every event of an operation until it completes."""
        return [data[field] async for data in self.events(op_id, within)]


class OperationError(Exception):
    """The server answered an operation with errors."""

    def __init__(self, errors: Any) -> None:
        super().__init__(errors)
        self.errors = errors

    @property
    def code(self) -> str | None:
        """The first error's extensions.code."""
        errors = self.errors if isinstance(self.errors, list) else [self.errors]
        code: str | None = errors[0].get("extensions", {}).get("code")
        return code


@asynccontextmanager
async def open_socket(
    url: str, token: str | None, protocol: str = "graphql-transport-ws"
) -> AsyncIterator[GraphQLSocket]:
    """A socket that has been initialised and acknowledged."""
    async with websockets.connect(url, subprotocols=[Subprotocol(protocol)]) as connection:
        socket = GraphQLSocket(connection, protocol)
        answer = await socket.init(token)
        assert answer["type"] == "connection_ack", answer
        yield socket


async def close_code(connection: ClientConnection, within: float = 5) -> int | None:
    """Read until the server closes the socket (failing if it does not); its close code."""
    with pytest.raises(ConnectionClosed):
        while True:
            await asyncio.wait_for(connection.recv(), within)
    return connection.close_code

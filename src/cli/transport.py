"""GraphQL for the command line's clients: errors, and graphql-transport-ws over `websockets`.

Offers:
- ApiError: an error the server answered, with its `extensions.code`.
- GraphQLSocket: one acknowledged graphql-transport-ws connection (pings answered).
"""

import asyncio
import itertools
import json
from collections.abc import AsyncGenerator
from contextlib import suppress
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

PROTOCOL = Subprotocol("graphql-transport-ws")
TIMEOUT_SECONDS = 30
FORBIDDEN = 4403  # the close code of a refused connection_init


class ApiError(Exception):
    """The server refused an operation.

    Attributes:
        code: The error's `extensions.code`; UNREACHABLE when the server does not answer HTTP,
            CONNECTION_LOST when a reply's connection could not be opened again.
        message: The message, fit to show.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message

    @classmethod
    def from_errors(cls, errors: list[dict[str, Any]]) -> "ApiError":
        """The first of a GraphQL response's errors."""
        first = errors[0] if errors else {}
        code = str(first.get("extensions", {}).get("code", "ERROR"))
        return cls(code, str(first.get("message", "The server refused the request.")))


class GraphQLSocket:
    """One graphql-transport-ws connection, acknowledged."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self._ids = itertools.count(1)

    @classmethod
    async def open(cls, url: str, token: str) -> "GraphQLSocket":
        """Connect and authenticate with `connection_init`.

        Raises:
            ApiError: The server refused the token (UNAUTHENTICATED).
        """
        connection = await websockets.connect(
            url, subprotocols=[PROTOCOL], open_timeout=TIMEOUT_SECONDS
        )
        socket = cls(connection)
        try:
            await socket._send({"type": "connection_init", "payload": {"authorization": token}})
            async with asyncio.timeout(TIMEOUT_SECONDS):
                while (await socket._receive())["type"] != "connection_ack":
                    pass
        except ConnectionClosed as closed:
            if closed.rcvd is not None and closed.rcvd.code == FORBIDDEN:
                raise ApiError("UNAUTHENTICATED", closed.rcvd.reason or "Forbidden") from closed
            raise
        except BaseException:
            await connection.close()
            raise
        return socket

    async def subscribe(self, query: str, variables: dict[str, Any]) -> str:
        """Start an operation; returns its id."""
        op_id = str(next(self._ids))
        payload = {"query": query, "variables": variables}
        await self._send({"id": op_id, "type": "subscribe", "payload": payload})
        return op_id

    async def complete(self, op_id: str) -> None:
        """End an operation from this side (nothing when the connection is gone)."""
        with suppress(ConnectionClosed):
            await self._send({"id": op_id, "type": "complete"})

    async def results(self, op_id: str) -> AsyncGenerator[dict[str, Any]]:
        """The data of each result of an operation, until the server completes it.

        Raises:
            ApiError: The operation was refused or failed.
            ConnectionClosed: The connection dropped.
        """
        while True:
            message = await self._receive()
            if message.get("id") != op_id:
                continue
            if message["type"] == "next":
                payload = message["payload"]
                if payload.get("errors"):
                    raise ApiError.from_errors(payload["errors"])
                yield payload["data"]
            elif message["type"] == "error":
                raise ApiError.from_errors(message["payload"])
            elif message["type"] == "complete":
                return

    async def close(self) -> None:
        """Close the connection."""
        await self.connection.close()

    async def _send(self, message: dict[str, Any]) -> None:
        await self.connection.send(json.dumps(message))

    async def _receive(self) -> dict[str, Any]:
        """The next message that is not a ping (pings are answered)."""
        while True:
            message: dict[str, Any] = json.loads(await self.connection.recv())
            if message["type"] == "ping":
                await self._send({"type": "pong"})
            elif message["type"] != "pong":
                return message

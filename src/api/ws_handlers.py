"""The WebSocket protocol handlers: closing a socket whose sign-in ended; a stricter legacy one.

Offers:
- `TransportWSHandler` (graphql-transport-ws) and `LegacyWSHandler` (graphql-ws): each gives
  its context `close_socket`, which ends the socket's operations, then closes it with 4403;
  each gives every operation's task an event sink (src/api/stream/fast_path.py), which sends
  a rendered event as the protocol's `next` (`data`) message without Strawberry's per-result
  work.
  Neither keeps anything of its connection_init deadline once the init came: Strawberry keeps
  the cancelled task, and with it its exception, traceback and frames, for the socket's life.
- `LegacyWSHandler` also refuses what the graphql-ws library refuses: no connection_init
  within the router's `connection_init_wait_timeout` (4408), a second connection_init (4429),
  a `start` whose id is already running (4409), a frame that is not JSON (4400), and a
  malformed `start` (4400: no string id, or no payload object with a string query; Strawberry
  would raise and drop the socket without a close frame). Queries and mutations sent with
  `start` are answered: the schema's `subscribe` runs every kind of operation.
"""

import asyncio
from collections.abc import AsyncGenerator, Mapping
from contextlib import suppress
from typing import Any

from strawberry.http.async_base_view import AsyncWebSocketAdapter
from strawberry.http.exceptions import NonJsonMessageReceived
from strawberry.subscriptions.protocols.graphql_transport_ws import types as transport
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.subscriptions.protocols.graphql_ws.types import (
    ConnectionInitMessage,
    StartMessage,
)

from src.api.context import Context
from src.api.stream.fast_path import EventSink, event_sink

FORBIDDEN = (4403, "Forbidden")
INVALID_START = "Invalid start message"


def _is_valid_start(message: Any) -> bool:
    payload = message.get("payload")
    return (
        isinstance(message.get("id"), str)
        and isinstance(payload, dict)
        and isinstance(payload.get("query"), str)
        and isinstance(payload.get("variables"), dict | None)
        and isinstance(payload.get("operationName"), str | None)
    )


def _sink(websocket: AsyncWebSocketAdapter, message_type: str, operation_id: str) -> EventSink:
    """Sends an event's data as the operation's `message_type` message."""

    async def send(data: dict[str, Any]) -> None:
        await websocket.send_json(
            {"id": operation_id, "type": message_type, "payload": {"data": data}}
        )

    return send


async def _close(websocket: AsyncWebSocketAdapter, code: int, reason: str) -> None:
    with suppress(RuntimeError, OSError):  # already closed, or the client is gone
        await websocket.close(code, reason)


class TransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    """graphql-transport-ws, whose socket can be closed when its sign-in ends."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.context.close_socket = self.close_forbidden

    async def handle_connection_init(self, message: transport.ConnectionInitMessage) -> None:
        """Handle connection_init, then forget the deadline it cancelled."""
        await super().handle_connection_init(message)
        self.connection_init_timeout_task = None

    async def run_operation(self, operation: Operation[Context, None]) -> None:
        """Run an operation in its task, its TextDeltas sent as `next` messages directly."""
        event_sink.set(_sink(self.websocket, "next", operation.id))
        await super().run_operation(operation)

    async def close_forbidden(self) -> None:
        """End every operation (no more messages for them), then close with 4403."""
        for operation_id in list(self.operations):
            await self.cleanup_operation(operation_id)
        await _close(self.websocket, *FORBIDDEN)


class _StrictJson(AsyncWebSocketAdapter):
    """A socket adapter whose frames must be JSON, whatever its handler asks for."""

    def __init__(self, inner: AsyncWebSocketAdapter) -> None:
        super().__init__(inner.view)
        self.inner = inner

    def iter_json(self, *, ignore_parsing_errors: bool = False) -> AsyncGenerator[object, None]:
        """The frames, decoded; raises NonJsonMessageReceived at the first that is not JSON."""
        return self.inner.iter_json(ignore_parsing_errors=False)

    async def send_json(self, message: Mapping[str, object]) -> None:
        """Send a message."""
        await self.inner.send_json(message)

    async def close(self, code: int, reason: str) -> None:
        """Close the socket."""
        await self.inner.close(code, reason)


class LegacyWSHandler(BaseGraphQLWSHandler[Context, None]):
    """graphql-ws (subscriptions-transport-ws) with graphql-transport-ws's refusals."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.websocket = _StrictJson(self.websocket)
        self.context.close_socket = self.close_forbidden
        self.init_received = False
        self._deadline: asyncio.Task[None] | None = None

    async def handle(self) -> None:
        """Serve the socket; close it without connection_init in time, or on a non-JSON frame."""
        self._deadline = asyncio.get_running_loop().create_task(self._close_unless_initialised())
        try:
            await super().handle()
        except NonJsonMessageReceived:
            await _close(self.websocket, 4400, "WebSocket message must be valid JSON")
        finally:
            self._end_deadline()

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        """Accept the first connection_init only."""
        if self.init_received:
            await _close(self.websocket, 4429, "Too many initialisation requests")
            return
        self.init_received = True
        self._end_deadline()
        await super().handle_connection_init(message)

    async def handle_async_results(
        self,
        operation_id: str,
        query: str,
        operation_name: str | None,
        variables: dict[str, object] | None,
    ) -> None:
        """Run an operation in its task, its TextDeltas sent as `data` messages directly."""
        event_sink.set(_sink(self.websocket, "data", operation_id))
        await super().handle_async_results(operation_id, query, operation_name, variables)

    async def handle_start(self, message: StartMessage) -> None:
        """Refuse a malformed start, or an operation id that is already running."""
        if not _is_valid_start(message):
            await _close(self.websocket, 4400, INVALID_START)
            return
        if message.get("id") in self.tasks:
            await _close(self.websocket, 4409, f"Subscriber for {message['id']} already exists")
            return
        await super().handle_start(message)

    async def close_forbidden(self) -> None:
        """End every operation (each gets `complete`), then close with 4403."""
        await self.cleanup()
        await _close(self.websocket, *FORBIDDEN)

    def _end_deadline(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    async def _close_unless_initialised(self) -> None:
        await asyncio.sleep(self.view.connection_init_wait_timeout.total_seconds())
        if not self.init_received:
            await _close(self.websocket, 4408, "Connection initialisation timeout")

"""Request logging and request-size limits, as plain ASGI middleware (WebSockets pass through).

- RequestLogMiddleware: one INFO line per HTTP request (request id, method, path, operation
  name, status, duration) and per WebSocket connection; never bodies, tokens or message text.
- begin_request, log_request: what it does for each request, also used for the `/graphql`
  WebSocket, which skips the middleware (src/api/socket_shortcut.py).
- OperationNameRecorder: a schema extension that tells the log line the operation's name.
- Bodies larger than the configured limit get 413 before any GraphQL work.
"""

import time
import uuid
from collections.abc import Iterator
from contextvars import ContextVar

from loguru import logger
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from strawberry.extensions import SchemaExtension

from src.core.logger import request_id_var

_operation_names: ContextVar[list[str] | None] = ContextVar("operation_names", default=None)


class OperationNameRecorder(SchemaExtension):
    """Records the name of each operation for the request's log line.

    The name is known once the document is parsed (or failed to parse), so it is noted when
    parsing ends: an `on_operation` hook would stay suspended for a subscription's whole life.
    """

    def on_parse(self) -> Iterator[None]:
        """Note the operation name once the document is parsed."""
        yield
        names = _operation_names.get()
        if names is not None:
            names.append(self.execution_context.operation_name or "-")


class BodyTooLargeError(Exception):
    """The request body went past the limit."""


def begin_request() -> list[str]:
    """Give a request or connection a new request id, in its task and the tasks it starts.

    Returns:
        The list its operation names go to (by `OperationNameRecorder`), for its log line.
    """
    request_id_var.set(uuid.uuid4().hex[:12])
    names: list[str] = []
    _operation_names.set(names)
    return names


def log_request(scope: Scope, names: list[str], started: float, status: int = 0) -> None:
    """The request's one log line: method (or WS), path, operations, status, duration.

    Args:
        scope: The request's ASGI scope.
        names: Its operation names (from `begin_request`).
        started: When it started (`time.perf_counter()`).
        status: Its HTTP status (0: none, as for a WebSocket).
    """
    logger.info(
        "{} {} op={} status={} {:.1f}ms",
        "WS" if scope["type"] == "websocket" else scope["method"],
        scope["path"],
        ",".join(names) or "-",
        status or "-",
        (time.perf_counter() - started) * 1000,
    )


class RequestLogMiddleware:
    """Assigns a request id, limits body size, and logs one line per request.

    A WebSocket's messages pass unwrapped (its `send` carries every streamed token); the
    `/graphql` WebSocket does not come here at all (src/api/socket_shortcut.py).
    """

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one request or connection."""
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        names = begin_request()
        started = time.perf_counter()
        if scope["type"] == "websocket":
            try:
                await self.app(scope, receive, send)
            finally:
                log_request(scope, names, started)
            return
        request_id = request_id_var.get().encode()
        status = 0

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id)]
            await send(message)

        try:
            if self._declared_too_large(scope):
                await _reject_too_large(send_with_id)
            else:
                await self.app(scope, self._limited(receive), send_with_id)
        except BodyTooLargeError:
            await _reject_too_large(send_with_id)
        finally:
            log_request(scope, names, started, status)

    def _declared_too_large(self, scope: Scope) -> bool:
        for name, value in scope["headers"]:
            if name == b"content-length":
                return not value.isdigit() or int(value) > self.max_body_bytes
        return False

    def _limited(self, receive: Receive) -> Receive:
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > self.max_body_bytes:
                raise BodyTooLargeError
            return message

        return limited_receive


async def _reject_too_large(send: Send) -> None:
    body = (
        b'{"errors":[{"message":"Request body too large.","extensions":{"code":"BAD_USER_INPUT"}}]}'
    )
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": body})

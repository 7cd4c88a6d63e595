"""The `/graphql` WebSocket, served before the application's middleware.

Each ASGI layer a WebSocket passes through keeps a coroutine frame (some a wrapped `send` too)
for as long as the socket is open, and every frame sent to the client goes through each
wrapper. The application's layers (FastAPI's error, telemetry, body-limit and exception
middleware, its router and exit stack, the security headers, the request log, the socket
gauge, and while tracing the OpenTelemetry middleware) cost an idle watcher a few KiB, and
each streamed token a dozen calls, for nothing they do to this socket. So the application
(`ShortcutApp`) serves it itself, before any of them, doing what the socket needs of them:
- a request id for the connection (its log lines, spans and masked errors carry it), and the
  connection's log line (`WS /graphql op=... status=- 12.3ms`, src/api/observability.py);
- the open-sockets gauge (`chat_websockets_open`);
then serves it with the router's endpoint (`SocketEndpoint`, src/api/router.py), which checks
the origin and the subprotocol. uvicorn caps its frame size (`ws_max_size`). While tracing, the
connection has no server span of its own; its operations have theirs.

Other WebSockets and HTTP go through the whole application as before.

Offers `ShortcutApp`.
"""

import time

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from src.api.observability import begin_request, log_request
from src.lib import metrics


class ShortcutApp(FastAPI):
    """FastAPI, whose `socket_endpoint` (once set) serves the WebSockets of `socket_path` first.

    Attributes:
        socket_path: The path of the WebSocket served past the middleware.
        socket_endpoint: The ASGI app serving it, or None (everything takes the whole app).
    """

    socket_path = "/graphql"
    socket_endpoint: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one connection: the shortcut's WebSockets here, the rest as FastAPI does.

        A shortcut WebSocket gets a request id and a log line, and is counted while open.
        """
        endpoint = self.socket_endpoint
        if endpoint is None or scope["type"] != "websocket" or scope["path"] != self.socket_path:
            await super().__call__(scope, receive, send)
            return
        names = begin_request()
        started = time.perf_counter()
        metrics.WEBSOCKETS_OPEN.inc()
        try:
            await endpoint(scope, receive, send)
        finally:
            metrics.WEBSOCKETS_OPEN.dec()
            log_request(scope, names, started)

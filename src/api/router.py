"""The `/graphql` endpoint: HTTP (POST, queries by GET, GraphiQL) and WebSocket, with auth.

HTTP follows the GraphQL-over-HTTP specification (see `http_router`); the legacy graphql-ws
protocol refuses malformed starts (see `ws_handlers`).

A WebSocket authenticates once, with `{"authorization": "Bearer <token>"}` in the
connection_init payload (key matched case-insensitively): a missing or bad token closes a
graphql-transport-ws socket with 4403, and gets connection_error on legacy graphql-ws. An
accepted socket is closed with 4403 when its token expires or its user is deactivated or
deleted (src/api/sockets.py), on either protocol (src/api/ws_handlers.py).

The WebSocket is served by a plain ASGI app (`SocketEndpoint`), not by FastAPI's dependency
injection: whatever FastAPI makes per request (exit stacks, solved dependencies, a response
and background tasks nobody uses) would live as long as the socket. The application hands
the socket to it directly, past its middleware (src/api/socket_shortcut.py); the router's
WebSocket route serves it too (an application without the shortcut).
"""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from fastapi.responses import HTMLResponse
from fastapi.routing import APIWebSocketRoute
from starlette.requests import HTTPConnection, Request
from starlette.routing import WebSocketRoute
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.exceptions import ConnectionRejectionError
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL
from strawberry.types.unset import UnsetType

from src.api.auth.service import AuthService
from src.api.context import Context, bearer_token
from src.api.graphiql import graphiql_page
from src.api.http_router import GraphQLHTTPRouter
from src.api.runtime import Runtime
from src.api.schema import ChatSchema
from src.api.sockets import OpenSockets
from src.api.ws_handlers import LegacyWSHandler, TransportWSHandler
from src.core.exceptions import AppError
from src.lib.own_task import in_own_task

MAX_OPERATIONS_PER_SOCKET = 20


def _authorization_param(params: Any) -> str | None:
    if not isinstance(params, dict):
        return None
    for key, value in params.items():
        if key.lower() == "authorization" and isinstance(value, str):
            return value
    return None


ContextGetter = Callable[[HTTPConnection], Context]
"""A request's or socket's new context."""


class SocketEndpoint:
    """The ASGI app of the router's WebSocket: the socket, its context, and the router's run."""

    def __init__(self, router: "ChatRouter", context: ContextGetter) -> None:
        self.router = router
        self.context = context

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one WebSocket until it closes; its sign-in ends with it."""
        websocket = WebSocket(scope, receive, send)
        context = self.context(websocket)
        context.request = websocket
        try:
            await self.router.run(websocket, context, None)
        finally:
            if context.sign_in is not None:
                context.sign_in.forget()


class _SocketRoute(WebSocketRoute):
    """A WebSocket route whose path may be empty: the router's own path, before its prefix.

    FastAPI makes the route it matches from this one's path (prefixed) and endpoint.
    """

    def __init__(self, path: str, endpoint: SocketEndpoint) -> None:
        super().__init__(path or "/", endpoint, name="graphql_websocket")
        self.path = path


class ChatRouter(GraphQLHTTPRouter):
    """Strawberry's FastAPI router with the project's context and WebSocket authentication.

    Attributes:
        sockets: The process's signed-in sockets.
        socket_endpoint: The ASGI app serving its WebSocket.
    """

    graphql_transport_ws_handler_class = TransportWSHandler
    graphql_ws_handler_class = LegacyWSHandler

    def __init__(
        self,
        schema: ChatSchema,
        *,
        sockets: OpenSockets,
        context_getter: ContextGetter,
        **kwargs: Any,
    ) -> None:
        super().__init__(schema, context_getter=context_getter, **kwargs)
        self.sockets = sockets
        self.socket_endpoint = SocketEndpoint(self, context_getter)
        self.routes[:] = [
            _SocketRoute(route.path, self.socket_endpoint)
            if isinstance(route, APIWebSocketRoute)
            else route
            for route in self.routes
        ]

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """Sign the socket in from the connection_init payload, or reject it."""
        token = bearer_token(_authorization_param(context.connection_params))
        try:
            identity = await in_own_task(context.authenticate(token)) if token else None
        except AppError:
            identity = None
        if identity is None or context.close_socket is None:
            raise ConnectionRejectionError({"code": "UNAUTHENTICATED"})
        context.sign_in = self.sockets.open(identity, context.close_socket)
        context.connection_params = None  # the token is not kept past the sign-in
        return None

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        """GraphiQL from this server's own files (src/api/graphiql), not from a CDN."""
        return graphiql_page()


def create_graphql_router(schema: ChatSchema, runtime: Runtime) -> ChatRouter:
    """The router for `/graphql`, bound to the application's runtime."""
    settings = runtime.settings

    authenticate = AuthService(runtime).authenticate

    def get_context(connection: HTTPConnection) -> Context:
        return Context(runtime, connection.headers.get("authorization"), authenticate)

    return ChatRouter(
        schema,
        sockets=OpenSockets(runtime.session_factory),
        context_getter=get_context,
        graphql_ide="graphiql" if settings.graphiql_enabled else None,
        allow_queries_via_get=True,
        subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL),
        connection_init_wait_timeout=timedelta(seconds=settings.ws_init_timeout_seconds),
        max_subscriptions_per_connection=MAX_OPERATIONS_PER_SOCKET,
        allowed_origins=settings.allowed_origins,
    )

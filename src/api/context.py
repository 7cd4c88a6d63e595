"""Per-request context: the application's runtime, the caller, database sessions, DataLoaders.

Over HTTP one context serves one request, and authenticates its token once. Over WebSocket
one context serves every operation of the socket (Strawberry builds it once per connection):
the socket signs in once, at connection_init (`sign_in`), and its operations use the user
kept there until the sign-in ends (src/api/sockets.py). Nothing here holds a database
session: each service call is a unit of work of its own.
"""

import asyncio
from collections.abc import Awaitable, Callable
from functools import cached_property
from typing import Any

import strawberry
from strawberry.fastapi import BaseContext

from src.api.auth.service import Identity
from src.api.loaders import Loaders
from src.api.runtime import Runtime
from src.api.sockets import CloseSocket, SocketSignIn
from src.core.exceptions import UnauthenticatedError
from src.lib.db.models import User

Authenticator = Callable[[str], Awaitable[Identity]]
"""Access token -> its active user; raises UnauthenticatedError (`AuthService.authenticate`)."""


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` value, or None."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


class Context(BaseContext):
    """What every resolver can reach through `info.context`.

    Attributes:
        sign_in: A WebSocket's sign-in, once its connection_init was accepted.
        close_socket: Closes the WebSocket with 4403 (set by its protocol handler).
    """

    def __init__(
        self, runtime: Runtime, authorization: str | None, authenticate: Authenticator
    ) -> None:
        super().__init__()
        self.runtime = runtime
        self.authorization = authorization
        self.authenticate = authenticate
        self._user: User | None = None
        self._user_lock: asyncio.Lock | None = None  # made on first use: a socket needs none
        self.sign_in: SocketSignIn | None = None
        self.close_socket: CloseSocket | None = None

    @cached_property
    def loaders(self) -> Loaders:
        """The DataLoaders, made on first use (an idle watcher's socket never needs them)."""
        return Loaders(self.runtime.session_factory, self.runtime.broker)

    @property
    def client(self) -> str:
        """The caller's address, for per-client limits (set by a trusted proxy, if any)."""
        connection = self.request
        return connection.client.host if connection and connection.client else "unknown"

    async def current_user(self) -> User | None:
        """The signed-in user, or None without a token.

        Raises:
            UnauthenticatedError: A token was sent but is not valid, or the socket's sign-in
                has ended.
        """
        if self.sign_in is not None:
            return self.sign_in.current_user()
        token = bearer_token(self.authorization)
        if token is None:
            return None
        if self._user_lock is None:
            self._user_lock = asyncio.Lock()
        async with self._user_lock:
            if self._user is None:
                self._user = (await self.authenticate(token)).user
        return self._user

    async def require_user(self) -> User:
        """The signed-in user.

        Raises:
            UnauthenticatedError: No token, or a bad one, or the socket's sign-in has ended.
        """
        user = await self.current_user()
        if user is None:
            raise UnauthenticatedError()
        return user


Info = strawberry.Info[Context, Any]

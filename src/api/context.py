"""Per-request context: the application's runtime, the caller, database sessions, DataLoaders.

Over HTTP one context serves one request; over WebSocket one context serves every operation
of the socket (Strawberry builds it once per connection), so nothing here holds a database
session: each service call is a unit of work of its own.
"""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import strawberry
from strawberry.fastapi import BaseContext

from src.api.loaders import Loaders
from src.api.runtime import Runtime
from src.core.exceptions import UnauthenticatedError
from src.lib.db.models import User

Authenticator = Callable[[str], Awaitable[User]]
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
    """What every resolver can reach through `info.context`."""

    def __init__(
        self, runtime: Runtime, authorization: str | None, authenticate: Authenticator
    ) -> None:
        super().__init__()
        self.runtime = runtime
        self.authorization = authorization
        self.authenticate = authenticate
        self._user: User | None = None
        self._user_lock = asyncio.Lock()
        self.loaders = Loaders(runtime.session_factory, runtime.broker)

    @property
    def client(self) -> str:
        """The caller's address, for per-client limits (set by a trusted proxy, if any)."""
        connection = self.request
        return connection.client.host if connection and connection.client else "unknown"

    async def current_user(self) -> User | None:
        """The signed-in user, or None without a token.

        Raises:
            UnauthenticatedError: A token was sent but is not valid.
        """
        token = bearer_token(self.authorization)
        if token is None:
            return None
        async with self._user_lock:
            if self._user is None:
                self._user = await self.authenticate(token)
        return self._user

    async def require_user(self) -> User:
        """The signed-in user.

        Raises:
            UnauthenticatedError: No token, or a bad one.
        """
        user = await self.current_user()
        if user is None:
            raise UnauthenticatedError()
        return user

    async def require_fresh_user(self) -> User:
        """The signed-in user, checked again now (a WebSocket's context outlives requests).

        Raises:
            UnauthenticatedError: The token is no longer valid, or the user is gone.
        """
        self._user = None
        return await self.require_user()


Info = strawberry.Info[Context, Any]

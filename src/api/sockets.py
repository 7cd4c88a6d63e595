"""Signed-in WebSockets: each keeps its user, and is closed (4403) when its sign-in ends.

A socket authenticates once, at connection_init; its operations then use the user kept for
it, without a database round trip: one `User` per signed-in user, shared by all of that
user's sockets (a sign-in that loads a row updated since replaces it). The sign-in ends, and
the socket is closed with 4403 (its running subscriptions end with it), when:
- its access token expires: the process's sign-ins share one event-loop timer (`Deadlines`);
- its user is deactivated or deleted: one task per process checks, every CHECK_SECONDS,
  which users with open sockets are still active, in one query per CHECK_BATCH users.
Clients reconnect with a fresh token (graphql-ws `connectionParams` as a function).

Offers `OpenSockets` (the process's registry) and `SocketSignIn` (one socket's sign-in).
"""

import asyncio
import uuid
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from itertools import batched
from typing import Any

from loguru import logger

from src.api.auth.service import Identity
from src.api.deadlines import Deadlines
from src.core.enums import UserType
from src.core.exceptions import UnauthenticatedError
from src.lib.db.models import User
from src.lib.db.repositories.user import UserRepository
from src.lib.db.session import SessionFactory

CHECK_SECONDS = 2.0
CHECK_BATCH = 500
SIGNED_OUT = "Invalid or expired token."

CloseSocket = Callable[[], Coroutine[Any, Any, None]]
"""Ends a socket's operations and closes it with 4403 (nothing happens once it is closed)."""


class _UserSockets:
    """A signed-in user's sockets and the `User` they share."""

    __slots__ = ("sign_ins", "user")

    def __init__(self, user: User) -> None:
        self.user = user
        self.sign_ins: set[SocketSignIn] = set()


class SocketSignIn:
    """One socket's sign-in: its user until the token expires or the user goes."""

    __slots__ = ("_close", "_closing", "_registry", "account", "ended", "expires_at")

    def __init__(
        self,
        registry: "OpenSockets",
        account: _UserSockets,
        expires_at: datetime,
        close: CloseSocket,
    ) -> None:
        self.account = account
        self.expires_at = expires_at
        self._registry = registry
        self._close: CloseSocket | None = close
        self._closing: asyncio.Task[None] | None = None  # held: the loop keeps tasks weakly
        self.ended = False

    @property
    def user(self) -> User:
        """The signed-in user (shared by the user's sockets)."""
        return self.account.user

    def current_user(self) -> User:
        """The socket's user.

        Raises:
            UnauthenticatedError: The sign-in has ended (the socket is being closed).
        """
        if self.ended or datetime.now(UTC) >= self.expires_at:
            raise UnauthenticatedError(SIGNED_OUT)
        return self.account.user

    def end(self) -> None:
        """End the sign-in and close the socket."""
        close = self._close
        if self.ended or close is None:
            return
        self.forget()
        self._closing = asyncio.get_running_loop().create_task(close())

    def forget(self) -> None:
        """End the sign-in without closing the socket (it closed by itself).

        Its socket is let go at once: until its deadline comes, the sign-in may stay in the
        process's deadlines.
        """
        if self.ended:
            return
        self.ended = True
        self._close = None
        self._registry.remove(self)


class OpenSockets:
    """The signed-in sockets of this process, by user."""

    def __init__(self, session_factory: SessionFactory) -> None:
        self._session_factory = session_factory
        self._by_user: dict[uuid.UUID, _UserSockets] = {}
        self._checker: asyncio.Task[None] | None = None
        self._expiries = Deadlines()

    def open(self, identity: Identity, close: CloseSocket) -> SocketSignIn:
        """Keep a socket's sign-in until it ends (see the module docstring)."""
        account = self._by_user.get(identity.user.id)
        if account is None:
            account = self._by_user[identity.user.id] = _UserSockets(identity.user)
        elif account.user.updated_at != identity.user.updated_at:
            account.user = identity.user  # the row changed: the fresh one, for every socket
        sign_in = SocketSignIn(self, account, identity.expires_at, close)
        account.sign_ins.add(sign_in)
        self._expiries.add(identity.expires_at, sign_in)
        if self._checker is None:
            self._checker = asyncio.get_running_loop().create_task(self._check_users())
        return sign_in

    def remove(self, sign_in: SocketSignIn) -> None:
        """Forget an ended sign-in; the check stops with the last one."""
        self._expiries.ended()
        account = sign_in.account
        account.sign_ins.discard(sign_in)
        if not account.sign_ins and self._by_user.get(account.user.id) is account:
            del self._by_user[account.user.id]
        if not self._by_user and self._checker is not None:
            self._checker.cancel()
            self._checker = None

    async def _check_users(self) -> None:
        while True:
            await asyncio.sleep(CHECK_SECONDS)
            checked = list(self._by_user)  # sockets opened meanwhile are checked next time
            try:
                active = await self._active_users(checked)
            except Exception:  # checked again next time; the error is logged without values
                logger.exception("the users of open sockets could not be checked")
                continue
            for user_id in checked:
                account = self._by_user.get(user_id)
                if account is None:
                    continue
                user_type = active.get(user_id)
                if user_type is None:
                    for sign_in in list(account.sign_ins):
                        sign_in.end()
                else:
                    account.user.user_type = user_type  # a guest may have registered

    async def _active_users(self, user_ids: list[uuid.UUID]) -> dict[uuid.UUID, UserType]:
        active: dict[uuid.UUID, UserType] = {}
        async with self._session_factory() as db:
            for batch in batched(user_ids, CHECK_BATCH):
                active |= await UserRepository.active_among(db, batch)
        return active

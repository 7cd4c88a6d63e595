"""A client of this server for the terminal chat: sign-in, chats, and replies that survive drops.

Offers:
- ChatClient: one user's client, GraphQL over HTTP (httpx) and graphql-transport-ws
  (src/cli/transport.py); the access token is refreshed before it expires.
- Reply: one reply followed to its end. After a dropped connection it resumes with
  `chatEvents(chatId, afterSeq)` from the last event it took (before the first one, it sends
  `chatStream` again with the same message id, which the server does not repeat), so that no
  text is lost or repeated; `stop` asks the server to stop the generation. Its events are
  those of src/cli/chat_events.py.
- Account, ChatSummary, ThreadMessage: what the queries return.

Nothing here prints: src/cli/chat.py renders.
"""

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

import httpx
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from src.cli.chat_events import (
    CHAT_EVENTS,
    CHAT_STREAM,
    Delta,
    Event,
    Failed,
    Finished,
    Started,
    parse_event,
)
from src.cli.transport import TIMEOUT_SECONDS, ApiError, GraphQLSocket

REFRESH_MARGIN_SECONDS = 60  # refresh the access token this long before it expires
MAX_ATTEMPTS = 5  # reconnections in a row without an event before a reply gives up
RETRY_DELAY_SECONDS = 0.5  # times the attempt number, between reconnections

ACCOUNT_FIELDS = "accessToken refreshToken expiresIn user { id email userType }"
LOGIN = f"""
mutation Login($input: LoginInput!) {{ login(input: $input) {{ {ACCOUNT_FIELDS} }} }}
"""
GUEST = f"mutation Guest {{ loginAsGuest {{ {ACCOUNT_FIELDS} }} }}"
REFRESH = f"""
mutation Refresh($token: String!) {{ refreshToken(refreshToken: $token) {{ {ACCOUNT_FIELDS} }} }}
"""
CHATS = """
query Chats($first: Int!) {
  chats(first: $first) { edges { node { id title messageCount updatedAt } } }
}
"""
THREAD = """
query Thread($id: ID!, $last: Int!) {
  chat(id: $id) { thread(last: $last) { role status text } }
}
"""
STOP = "mutation Stop($chatId: ID!) { stopGeneration(chatId: $chatId) }"


@dataclass(frozen=True, slots=True)
class Account:
    """The signed-in user."""

    user_id: str
    email: str | None
    user_type: str


@dataclass(frozen=True, slots=True)
class ChatSummary:
    """One of the user's chats."""

    id: str
    title: str
    message_count: int


@dataclass(frozen=True, slots=True)
class ThreadMessage:
    """A message of a chat's current branch."""

    role: str
    status: str
    text: str


@dataclass(slots=True)
class _Tokens:
    access: str
    refresh: str
    expires_at: float  # time.monotonic()


class ChatClient:
    """One user's client of a server; use it as an async context manager (it closes both ends).

    Args:
        url: The server's base URL (`http://127.0.0.1:8000`) or its `/graphql` URL.
    """

    def __init__(self, url: str) -> None:
        base = url.rstrip("/").removesuffix("/graphql")
        self.graphql_url = f"{base}/graphql"
        self.ws_url = "ws" + self.graphql_url.removeprefix("http")
        self.account: Account | None = None
        self._http = httpx.AsyncClient(timeout=TIMEOUT_SECONDS)
        self._tokens: _Tokens | None = None
        self._socket: GraphQLSocket | None = None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the WebSocket and the HTTP connections."""
        await self.drop_socket()
        await self._http.aclose()

    @property
    def connection(self) -> ClientConnection | None:
        """The open WebSocket, if any (a reply opens one)."""
        return self._socket.connection if self._socket else None

    async def login(self, email: str, password: str) -> Account:
        """Sign in with email and password.

        Raises:
            ApiError: Wrong credentials (UNAUTHENTICATED), or too many attempts.
        """
        variables = {"input": {"email": email, "password": password}}
        return self._signed_in((await self._post(LOGIN, variables, None))["login"])

    async def login_as_guest(self) -> Account:
        """Start as a new guest."""
        return self._signed_in((await self._post(GUEST, {}, None))["loginAsGuest"])

    async def chats(self, first: int = 20) -> list[ChatSummary]:
        """The user's chats, most recently updated first."""
        data = await self.execute(CHATS, {"first": first})
        nodes = [edge["node"] for edge in data["chats"]["edges"]]
        return [ChatSummary(node["id"], node["title"], node["messageCount"]) for node in nodes]

    async def thread(self, chat_id: str, last: int = 10) -> list[ThreadMessage]:
        """The last messages of the chat's current branch, oldest first."""
        chat = (await self.execute(THREAD, {"id": chat_id, "last": last}))["chat"]
        messages = chat["thread"] if chat else []
        return [ThreadMessage(m["role"], m["status"], m["text"]) for m in messages]

    async def stop(self, chat_id: str) -> bool:
        """Stop the chat's running generation on the server; True when one was running."""
        stopped: bool = (await self.execute(STOP, {"chatId": chat_id}))["stopGeneration"]
        return stopped

    def reply(self, chat_id: str, text: str) -> "Reply":
        """A reply to a new message in the chat (created when the id is new); see Reply."""
        return Reply(self, chat_id, text)

    async def execute(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        """Run a query or mutation as the signed-in user; returns its data.

        Raises:
            ApiError: The server answered errors.
        """
        return await self._post(query, variables, await self._access_token())

    async def socket(self) -> GraphQLSocket:
        """The WebSocket, opened (and authenticated) when there is none."""
        if self._socket is None:
            self._socket = await GraphQLSocket.open(
                self.ws_url, f"Bearer {await self._access_token()}"
            )
        return self._socket

    async def drop_socket(self) -> None:
        """Forget the WebSocket, closing it if it is still open."""
        socket, self._socket = self._socket, None
        if socket is not None:
            await socket.close()

    async def _post(
        self, query: str, variables: dict[str, Any], token: str | None
    ) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        body = {"query": query, "variables": variables}
        try:
            response = await self._http.post(self.graphql_url, json=body, headers=headers)
        except httpx.TransportError as error:
            raise ApiError("UNREACHABLE", f"{self.graphql_url} does not answer: {error}") from error
        answer: dict[str, Any] = response.json()
        if answer.get("errors"):
            raise ApiError.from_errors(answer["errors"])
        data: dict[str, Any] = answer["data"]
        return data

    def _signed_in(self, payload: dict[str, Any]) -> Account:
        expires_at = time.monotonic() + payload["expiresIn"]
        self._tokens = _Tokens(payload["accessToken"], payload["refreshToken"], expires_at)
        user = payload["user"]
        self.account = Account(user["id"], user["email"], user["userType"])
        return self.account

    async def _access_token(self) -> str:
        """The access token, refreshed first when it is about to expire."""
        if self._tokens is None:
            raise ApiError("UNAUTHENTICATED", "Sign in first.")
        if time.monotonic() > self._tokens.expires_at - REFRESH_MARGIN_SECONDS:
            data = await self._post(REFRESH, {"token": self._tokens.refresh}, None)
            self._signed_in(data["refreshToken"])
        return self._tokens.access


class Reply:
    """One reply to a new message, followed to its end across dropped connections.

    Iterate `events()` once. Attributes tell where it stands.

    Attributes:
        chat_id: The chat.
        user_message_id: The new message's id, chosen here so that sending it again after a
            drop does not create a second message.
        message_id: The assistant message, once the reply has started.
        last_seq: The seq of the last event taken (-1 before the first).
        text: The reply's text so far, each delta taken once.
        outcome: The Finished or Failed event, once the reply has ended.
        reconnects: How many times the connection was opened again.
    """

    def __init__(self, client: ChatClient, chat_id: str, prompt: str) -> None:
        self.chat_id = chat_id
        self.user_message_id = str(uuid.uuid4())
        self.message_id: str | None = None
        self.last_seq = -1
        self.text = ""
        self.outcome: Finished | Failed | None = None
        self.reconnects = 0
        self._client = client
        self._prompt = prompt

    async def stop(self) -> bool:
        """Ask the server to stop the generation; the events go on until it is saved (CANCELLED).

        Returns:
            True when a generation was running.
        """
        return await self._client.stop(self.chat_id)

    async def events(self) -> AsyncIterator[Event]:
        """The reply's events, each once, up to and including its Finished or Failed.

        Raises:
            ApiError: The server refused the message (its code), or could not be reached again
                MAX_ATTEMPTS times in a row (CONNECTION_LOST).
        """
        attempts = 0
        while self.outcome is None:
            field, query, variables = self._operation()
            try:
                socket = await self._client.socket()
                op_id = await socket.subscribe(query, variables)
                async with aclosing(socket.results(op_id)) as results:
                    async for data in results:
                        attempts = 0
                        for event in self._take(parse_event(data[field])):
                            yield event
                        if self.outcome is not None:
                            await socket.complete(op_id)
                            return
            except (ConnectionClosed, InvalidHandshake, OSError, TimeoutError):
                pass  # dropped: resume below
            except ApiError as error:
                if (field, error.code) != ("chatEvents", "RATE_LIMITED"):
                    raise  # lagging watchers are told to resume with afterSeq: others are final
            attempts += 1
            if attempts > MAX_ATTEMPTS:
                raise ApiError("CONNECTION_LOST", "The server could not be reached again.")
            self.reconnects += 1
            await self._client.drop_socket()
            await asyncio.sleep(RETRY_DELAY_SECONDS * attempts)

    def _operation(self) -> tuple[str, str, dict[str, Any]]:
        """The subscription that goes on from where the reply stands."""
        if self.message_id is None:
            message = {"id": self.user_message_id, "parts": [{"text": self._prompt}]}
            return (
                "chatStream",
                CHAT_STREAM,
                {"input": {"chatId": self.chat_id, "message": message}},
            )
        return "chatEvents", CHAT_EVENTS, {"chatId": self.chat_id, "afterSeq": self.last_seq}

    def _take(self, event: Event) -> list[Event]:
        """The events to pass on for one received: none when it was seen or is not this reply's.

        A Finished whose saved text goes past what was streamed (a drop before the reply's
        start, answered from the database) comes after a Delta of the missing text.
        """
        if isinstance(event, Started):
            if self.message_id is not None:
                return []  # this reply's start again, or a later reply's
            self.message_id, self.last_seq = event.message_id, event.seq
            return [event]
        terminal = isinstance(event, Finished | Failed)
        if event.message_id != self.message_id or (event.seq <= self.last_seq and not terminal):
            return []
        self.last_seq = max(self.last_seq, event.seq)
        taken: list[Event] = [event]
        if isinstance(event, Delta):
            self.text += event.text
        elif isinstance(event, Finished) and event.text.startswith(self.text):
            missing = event.text[len(self.text) :]
            self.text = event.text
            taken = [Delta(event.seq, event.message_id, missing), event] if missing else taken
        if isinstance(event, Finished | Failed):
            self.outcome = event
        return taken

"""Large chats: threads, replies, pages and deletes on a big data set, SQLite and PostgreSQL.

Run by hand (numbers go to bench/README.md):
    uv run python -m bench.large_chats_bench [--backend sqlite|postgresql|both] [--rounds 5]

For each backend it starts the real app in this process (uvicorn on loopback, migrated at
start-up, the demo model without token delay), builds the data set straight into its database
with Core inserts, then measures each operation one request at a time, best of `--rounds`,
with the number of SQL statements the app's engine sent meanwhile (`before_cursor_execute`):

- thread(last: 50) { id text childIds } of a 10,000-message thread, of a 10-message chat, and of
  one branch of a chat of 200 branches of 50 messages; and the page of the long thread above
  its 100th message (the walk from the leaf to `before` reads 9,900 ids first);
- chatStream, from subscribing to receiving StreamStarted, in the 10,000-message chat and in a
  new chat (each reply is then followed to its end, untimed);
- chats(first: 50) { lastMessage messageCount } of a user with 5,003 chats: the first page
  (holding the three chats above) and the last page;
- messages(first: 100) of the 10,000-message chat: the first page and the last page;
- deleteChat of a 10,000-message chat, and DELETE FROM users of a user owning one (no API
  operation deletes users: this is the cascade an administrator's purge would run).

The data set: user "many" has 5,000 two-message chats, the 10-message chat, the branched
chat and the long chat (updated last, in that order, so they open the first page); user
"deleter" has one more 10,000-message chat per round, and one user per round owns a
10,000-message chat of their own. Every message holds about 100 characters of text.
"""

import argparse
import asyncio
import json
import math
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn
import websockets
from fastapi import FastAPI
from sqlalchemy import delete, event, insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from bench.common import free_port, postgres_database
from main import create_app
from src.api.common.pagination import encode_cursor
from src.core.config import Settings
from src.core.enums import MessageRole, MessageStatus, Visibility
from src.lib.db.models import Chat, Message, User
from src.lib.db.session import SessionFactory
from src.lib.db.types import generate_uuid7

LONG_THREAD = 10_000
BRANCHES, BRANCH_LENGTH = 200, 50
SMALL_CHATS = 5_000
PAGE_OF_CHATS, PAGE_OF_MESSAGES, THREAD_PAGE = 50, 100, 50
INSERT_CHUNK = 2_000
FILLER = "lorem ipsum dolor sit amet " * 4

THREAD = """query T($id: ID!, $last: Int, $before: ID) {
  chat(id: $id) { thread(last: $last, before: $before) { id text childIds } }
}"""
CHATS = """query C($first: Int, $after: String) {
  chats(first: $first, after: $after) {
    edges { node { id lastMessage { id text } messageCount } }
  }
}"""
MESSAGES = """query M($id: ID!, $first: Int, $after: String) {
  chat(id: $id) { messages(first: $first, after: $after) { edges { node { id text } } } }
}"""
DELETE_CHAT = "mutation D($id: ID!) { deleteChat(id: $id) }"
REGISTER = """mutation R($email: String!) {
  register(input: {email: $email, password: "benchmark"}) { accessToken user { id } }
}"""
STREAM = """subscription S($input: ChatStreamInput!) {
  chatStream(input: $input) {
    __typename ... on StreamFinished { seq } ... on StreamFailed { code errorMessage }
  }
}"""


class RequestFailed(Exception):
    """A GraphQL request answered with errors."""


@dataclass
class Account:
    """A registered user: id and access token."""

    id: uuid.UUID
    token: str


@dataclass
class Rows:
    """Rows to insert, and the keys the measurements need."""

    chats: list[dict[str, Any]] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)

    def chat(self, owner: uuid.UUID, updated_at: datetime) -> uuid.UUID:
        """A chat of `owner`, last updated at `updated_at` (its messages are added after)."""
        chat_id = generate_uuid7()
        self.chats.append(
            {
                "id": chat_id,
                "user_id": owner,
                "title": "Bench",
                "visibility": Visibility.PRIVATE,
                "current_leaf_id": None,
                "created_at": updated_at,
                "updated_at": updated_at,
            }
        )
        return chat_id

    def chain(
        self, chat_id: uuid.UUID, length: int, start: datetime, parent: uuid.UUID | None = None
    ) -> list[uuid.UUID]:
        """`length` messages each replying to the one before, a millisecond apart."""
        ids: list[uuid.UUID] = []
        for n in range(length):
            message_id = generate_uuid7()
            role = MessageRole.USER if (n % 2 == 0) == (parent is None) else MessageRole.ASSISTANT
            text = f"{role.value.lower()} {n}: {FILLER}"
            moment = start + timedelta(milliseconds=n)
            self.messages.append(
                {
                    "id": message_id,
                    "chat_id": chat_id,
                    "parent_msg_id": ids[-1] if ids else parent,
                    "role": role,
                    "parts": [{"type": "text", "text": text}],
                    "text": text,
                    "status": MessageStatus.COMPLETE,
                    "model": "demo" if role == MessageRole.ASSISTANT else None,
                    "created_at": moment,
                    "updated_at": moment,
                }
            )
            ids.append(message_id)
        for chat in self.chats[::-1]:
            if chat["id"] == chat_id:
                chat["current_leaf_id"] = ids[-1]
                break
        return ids


@dataclass
class DataSet:
    """What the measurements need to know of the data built."""

    long_chat: uuid.UUID
    long_messages: list[tuple[datetime, uuid.UUID]]
    short_chat: uuid.UUID
    branched_chat: uuid.UUID
    chat_keys: list[tuple[datetime, uuid.UUID]]
    chats_to_delete: list[uuid.UUID]
    users_to_delete: list[uuid.UUID]


@asynccontextmanager
async def _database(backend: str, folder: Path) -> AsyncIterator[str]:
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{folder / 'bench.db'}"
        return
    async with postgres_database("bench_large_chats") as url:
        yield url


@asynccontextmanager
async def _serve(app: FastAPI) -> AsyncIterator[str]:
    """The app on loopback; yields its base URL."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off", log_config=None)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers no event to wait on
        await asyncio.sleep(0.01)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@contextmanager
def _counting(engine: AsyncEngine) -> Iterator[list[str]]:
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(args[2])

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


class Client:
    """GraphQL over HTTP and WebSocket to the served app."""

    def __init__(self, http: httpx.AsyncClient, address: str) -> None:
        self.http = http
        self.address = address

    async def data(self, query: str, variables: dict[str, Any], token: str | None) -> Any:
        """The `data` of a request; GraphQL errors raise RequestFailed."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = await self.http.post(
            f"http://{self.address}/graphql",
            json={"query": query, "variables": variables},
            headers=headers,
        )
        body = response.json()
        if body.get("errors"):
            error = body["errors"][0]
            raise RequestFailed(f"{error.get('extensions', {}).get('code')}: {error['message']}")
        return body["data"]

    async def register(self, email: str) -> Account:
        """A new account."""
        payload = (await self.data(REGISTER, {"email": email}, None))["register"]
        return Account(uuid.UUID(payload["user"]["id"]), payload["accessToken"])


async def _build(app: FastAPI, many: Account, deleter: Account, doomed: list[Account]) -> DataSet:
    now = datetime.now(UTC).replace(microsecond=0)
    rows = Rows()
    small_start = now - timedelta(days=30)
    for n in range(SMALL_CHATS):
        moment = small_start + timedelta(seconds=n)
        rows.chain(rows.chat(many.id, moment), 2, moment)
    short_chat = rows.chat(many.id, now - timedelta(hours=3))
    rows.chain(short_chat, 10, now - timedelta(hours=3))
    branched_chat = rows.chat(many.id, now - timedelta(hours=2))
    root = rows.chain(branched_chat, 1, now - timedelta(hours=2))[0]
    for branch in range(BRANCHES):
        start = now - timedelta(hours=2) + timedelta(seconds=1 + branch)
        rows.chain(branched_chat, BRANCH_LENGTH, start, parent=root)
    long_chat = rows.chat(many.id, now - timedelta(hours=1))
    long_ids = rows.chain(long_chat, LONG_THREAD, now - timedelta(hours=1))
    chats_to_delete = []
    for owner in [deleter] * len(doomed) + doomed:
        chat_id = rows.chat(owner.id, now - timedelta(days=1))
        rows.chain(chat_id, LONG_THREAD, now - timedelta(days=1))
        chats_to_delete.append(chat_id)
    engine: AsyncEngine = app.state.runtime.session_factory.kw["bind"]
    async with engine.begin() as connection:
        for model, table_rows in ((Chat, rows.chats), (Message, rows.messages)):
            # RETURNING makes SQLAlchemy send many rows per INSERT ("insertmanyvalues"): the
            # message count trigger then runs once per statement, not once per row
            for start in range(0, len(table_rows), INSERT_CHUNK):
                chunk = table_rows[start : start + INSERT_CHUNK]
                await connection.execute(insert(model).returning(model.id), chunk)
    if engine.dialect.name == "postgresql":
        async with engine.connect() as connection:
            await connection.exec_driver_sql("ANALYZE")
    by_id = {message["id"]: message for message in rows.messages}
    return DataSet(
        long_chat=long_chat,
        long_messages=[(by_id[m]["created_at"], m) for m in long_ids],
        short_chat=short_chat,
        branched_chat=branched_chat,
        chat_keys=sorted(
            ((c["updated_at"], c["id"]) for c in rows.chats if c["user_id"] == many.id),
            reverse=True,
        ),
        chats_to_delete=chats_to_delete[: len(doomed)],
        users_to_delete=[account.id for account in doomed],
    )


async def _stream(address: str, token: str, chat_id: uuid.UUID) -> float:
    """Start a reply and follow it to its end; returns the seconds until StreamStarted."""
    async with websockets.connect(
        f"ws://{address}/graphql",
        subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
    ) as ws:
        init = {"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}
        await ws.send(json.dumps(init))
        await ws.recv()
        variables = {"input": {"chatId": str(chat_id), "message": {"parts": [{"text": "go"}]}}}
        payload = {"query": STREAM, "variables": variables}
        started = time.perf_counter()
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
        first = json.loads(await ws.recv())
        elapsed = time.perf_counter() - started
        if first["type"] != "next":
            raise RequestFailed(json.dumps(first)[:200])
        while json.loads(await ws.recv())["type"] != "complete":
            pass
    return elapsed


Operation = Callable[[int], Awaitable[float | None]]
"""One measured request, given the round number; returns the seconds to count when it times
something narrower than the whole call (StreamStarted rather than the socket's set-up)."""


async def _best(engine: AsyncEngine, rounds: int, operation: Operation) -> str:
    best, statements = math.inf, 0
    for round_ in range(rounds):
        with _counting(engine) as sent:
            started = time.perf_counter()
            try:
                timed = await operation(round_)
            except RequestFailed as failure:
                return f"failed: {str(failure)[:90]}"
            elapsed = time.perf_counter() - started if timed is None else timed
        if elapsed < best:
            best, statements = elapsed, len(sent)
    return f"{best * 1000:9.1f} ms {statements:4d} statements"


async def run(backend: str, rounds: int) -> list[tuple[str, str]]:
    """Build the data set on one backend and measure every operation."""
    with tempfile.TemporaryDirectory() as folder:
        async with _database(backend, Path(folder)) as url:
            settings = Settings(
                environment="test",
                database_url=url,
                data_dir=Path(folder),
                jwt_secret="bench-secret-" + "x" * 40,
                argon2_time_cost=1,
                argon2_memory_kib=8,
                argon2_parallelism=1,
                log_level="WARNING",
                signups_per_hour=1_000,
                regular_daily_messages=1_000,
                demo_token_delay_seconds=0,
            )
            app = create_app(settings)
            async with (
                app.router.lifespan_context(app),
                _serve(app) as address,
                httpx.AsyncClient(timeout=120) as http,
            ):
                return await _measure(app, Client(http, address), rounds)


@dataclass
class Operations:
    """The measured requests over one data set."""

    client: Client
    data: DataSet
    many: Account
    deleter: Account
    session_factory: SessionFactory

    def request(self, query: str, variables: dict[str, Any]) -> Operation:
        """A query of user "many"."""

        async def send(_: int) -> None:
            await self.client.data(query, variables, self.many.token)

        return send

    def thread(self, chat_id: uuid.UUID, before: uuid.UUID | None = None) -> Operation:
        """A page of a chat's current thread with child ids: the last, or the one above `before`."""
        variables = {"id": str(chat_id), "last": THREAD_PAGE, "before": before and str(before)}
        return self.request(THREAD, variables)

    def chats_after(self, index: int | None) -> Operation:
        """The page of chats after the one at `index` of the sorted keys (None: the first)."""
        after = encode_cursor(self.data.chat_keys[index]) if index is not None else None
        return self.request(CHATS, {"first": PAGE_OF_CHATS, "after": after})

    def messages_after(self, index: int | None) -> Operation:
        """The page of the long chat's messages after the one at `index` (None: the first)."""
        after = encode_cursor(self.data.long_messages[index]) if index is not None else None
        variables = {"id": str(self.data.long_chat), "first": PAGE_OF_MESSAGES, "after": after}
        return self.request(MESSAGES, variables)

    def stream(self, chat_id: Callable[[], uuid.UUID]) -> Operation:
        """A reply in the chat of that id, timed to StreamStarted."""
        return lambda _: _stream(self.client.address, self.many.token, chat_id())

    async def delete_chat(self, round_: int) -> None:
        """The deleteChat mutation of this round's 10,000-message chat."""
        variables = {"id": str(self.data.chats_to_delete[round_])}
        await self.client.data(DELETE_CHAT, variables, self.deleter.token)

    async def delete_user(self, round_: int) -> None:
        """DELETE FROM users of this round's user, whose 10,000-message chat goes with it."""
        user_id = self.data.users_to_delete[round_]
        try:
            async with self.session_factory.begin() as db:
                await db.execute(delete(User).where(User.id == user_id))
        except DBAPIError as error:
            raise RequestFailed(str(error.orig)) from error

    def all(self) -> list[tuple[str, Operation]]:
        """Every measured operation, with its label."""
        data = self.data
        return [
            (f"thread(last: {THREAD_PAGE}), 10,000-message thread", self.thread(data.long_chat)),
            (f"thread(last: {THREAD_PAGE}), 10-message chat", self.thread(data.short_chat)),
            (f"thread(last: {THREAD_PAGE}), a branch of 200", self.thread(data.branched_chat)),
            (
                f"thread(last: {THREAD_PAGE}, before: the 100th of 10,000)",
                self.thread(data.long_chat, data.long_messages[99][1]),
            ),
            ("chats(first: 50), first page", self.chats_after(None)),
            ("chats(first: 50), last page", self.chats_after(-PAGE_OF_CHATS - 1)),
            ("messages(first: 100), first page", self.messages_after(None)),
            ("messages(first: 100), last page", self.messages_after(-PAGE_OF_MESSAGES - 1)),
            ("chatStream to StreamStarted, 10,000 messages", self.stream(lambda: data.long_chat)),
            ("chatStream to StreamStarted, new chat", self.stream(uuid.uuid4)),
            ("deleteChat, 10,000-message chat", self.delete_chat),
            ("delete a user with a 10,000-message chat", self.delete_user),
        ]


async def _measure(app: FastAPI, client: Client, rounds: int) -> list[tuple[str, str]]:
    many = await client.register("many@example.com")
    deleter = await client.register("deleter@example.com")
    doomed = [await client.register(f"doomed{n}@example.com") for n in range(rounds)]
    started = time.perf_counter()
    data = await _build(app, many, deleter, doomed)
    print(f"  data set built in {time.perf_counter() - started:.1f} s")
    session_factory: SessionFactory = app.state.runtime.session_factory
    engine: AsyncEngine = session_factory.kw["bind"]
    operations = Operations(client, data, many, deleter, session_factory)
    results = []
    for label, operation in operations.all():
        results.append((label, await _best(engine, rounds, operation)))
        print(f"  {label:<48}{results[-1][1]}")
    return results


def main() -> None:
    """Run the measurements and print a table per backend."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    backends = ["sqlite", "postgresql"] if args.backend == "both" else [args.backend]
    for backend in backends:
        print(f"{backend}:")
        asyncio.run(run(backend, args.rounds))


if __name__ == "__main__":
    main()

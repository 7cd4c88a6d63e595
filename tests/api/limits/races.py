"""Helpers of the race tests: simultaneous chatStream starts, and counts read from the database.

Offers:
- start_all: open one real WebSocket per input, then start every chatStream at once; each
  answer is the first event's type name (StreamStarted) or the refusal's error code.
- finish_all: follow the started replies to their end.
- spend: charge replies to a user, as if sent earlier (GUEST_ALLOWANCE: a guest's in tests).
- count_usage / usage_of / streaming_of: the user's usage records (in a database, in the
  app's) and STREAMING replies, counted in SQL.
"""

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

from fastapi import FastAPI
from sqlalchemy import func, select

from src.core.enums import MessageStatus
from src.lib.db.models import Chat, Message, UsageRecord
from src.lib.db.session import SessionFactory
from tests.api.stream.operations import CHAT_STREAM
from tests.ws import GraphQLSocket, OperationError, open_socket

GUEST_ALLOWANCE = 20  # the default GUEST_DAILY_MESSAGES of the test app


@asynccontextmanager
async def sockets(url: str, tokens: Sequence[str]) -> AsyncIterator[list[GraphQLSocket]]:
    """One acknowledged socket per token, all open until the block ends."""
    async with AsyncExitStack() as stack:
        yield [await stack.enter_async_context(open_socket(url, token)) for token in tokens]


async def _first_answer(socket: GraphQLSocket, stream_input: dict[str, Any]) -> str:
    await socket.subscribe("1", CHAT_STREAM, {"input": stream_input})
    try:
        first = await anext(socket.events("1"))
    except OperationError as error:
        return str(error.code)
    return str(first["chatStream"]["__typename"])


async def start_all(
    open_sockets: Sequence[GraphQLSocket], inputs: Sequence[dict[str, Any]]
) -> list[str]:
    """Start one chatStream per socket, all at once; each socket's first answer, in order."""
    starts = (_first_answer(s, i) for s, i in zip(open_sockets, inputs, strict=True))
    return list(await asyncio.gather(*starts))


async def finish_all(open_sockets: Sequence[GraphQLSocket], answers: Sequence[str]) -> None:
    """Follow each started reply (its socket answered StreamStarted) to its end."""
    pairs = zip(open_sockets, answers, strict=True)
    started = [socket for socket, answer in pairs if answer == "StreamStarted"]
    await asyncio.gather(*(socket.collect("1", "chatStream") for socket in started))


async def spend(app: FastAPI, user_id: str, count: int) -> None:
    """Charge `count` replies to the user, as if sent earlier in other chats."""
    async with app.state.runtime.session_factory.begin() as db:
        db.add_all(UsageRecord(user_id=uuid.UUID(user_id)) for _ in range(count))


async def count_usage(session_factory: SessionFactory, user_id: str) -> int:
    """How many usage records (charged replies) the user has, in this database."""
    query = select(func.count(UsageRecord.id)).where(UsageRecord.user_id == uuid.UUID(user_id))
    async with session_factory() as db:
        return int((await db.execute(query)).scalar_one())


async def usage_of(app: FastAPI, user_id: str) -> int:
    """How many usage records (charged replies) the user has, in the app's database."""
    return await count_usage(app.state.runtime.session_factory, user_id)


async def streaming_of(app: FastAPI, user_id: str) -> int:
    """How many of the user's replies are STREAMING."""
    query = (
        select(func.count(Message.id))
        .join(Chat, Chat.id == Message.chat_id)
        .where(Chat.user_id == uuid.UUID(user_id), Message.status == MessageStatus.STREAMING)
    )
    async with app.state.runtime.session_factory() as db:
        return int((await db.execute(query)).scalar_one())

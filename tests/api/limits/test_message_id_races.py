"""Simultaneous chatStreams with one message id in new chats: one reply, the others CONFLICT.

Of one user the starts queue on the user's lock and the later ones find the id taken; of
different users they race to insert it, and the losers' unique violation is a CONFLICT. No
losing start leaves its new chat behind.
"""

import uuid

from fastapi import FastAPI
from sqlalchemy import func, select

from src.lib.db.models import Chat, Message
from tests.api.limits.races import finish_all, sockets, start_all
from tests.api.stream.operations import message_input
from tests.helpers import GraphQLClient


async def _count(app: FastAPI, message_id: str) -> tuple[int, int]:
    """(messages with this id, chats) in the database."""
    async with app.state.runtime.session_factory() as db:
        messages = await db.scalar(
            select(func.count(Message.id)).where(Message.id == uuid.UUID(message_id))
        )
        chats = await db.scalar(select(func.count(Chat.id)))
    return int(messages or 0), int(chats or 0)


async def _race(app: FastAPI, server_url: str, tokens: list[str]) -> None:
    message_id = str(uuid.uuid4())
    inputs = [message_input(uuid.uuid4(), "hello", message_id) for _ in tokens]
    async with sockets(server_url, tokens) as open_sockets:
        answers = await start_all(open_sockets, inputs)
        await finish_all(open_sockets, answers)
    assert sorted(answers) == ["CONFLICT"] * 3 + ["StreamStarted"]
    assert await _count(app, message_id) == (1, 1)


async def test_one_users_four_new_chats_with_one_message_id(
    client: GraphQLClient, server_url: str, app: FastAPI
) -> None:
    token = (await client.register())["accessToken"]
    await _race(app, server_url, [token] * 4)


async def test_four_users_new_chats_with_one_message_id(
    client: GraphQLClient, server_url: str, app: FastAPI
) -> None:
    tokens = [(await client.register(f"user{n}@example.com"))["accessToken"] for n in range(4)]
    await _race(app, server_url, tokens)

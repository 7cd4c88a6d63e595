"""Test data made through the services: people, chats and message trees."""

import uuid
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI

from src.api.chats.service import ChatService
from src.api.messages.service import add_message as add_message_in
from src.core.enums import FinishReason, MessageRole, Rating, Visibility
from src.lib.db.models import Message
from src.lib.db.repositories.chat import ChatRepository
from src.lib.db.repositories.feedback import FeedbackRepository
from src.lib.db.types import generate_uuid7
from tests.helpers import GraphQLClient


@dataclass(frozen=True)
class Person:
    """A signed-in user: their id and access token."""

    id: str
    token: str


async def sign_up(client: GraphQLClient, name: str) -> Person:
    """Register `<name>@example.com` and return the signed-in person."""
    payload = await client.register(f"{name}@example.com", "correct horse")
    return Person(payload["user"]["id"], payload["accessToken"])


async def create_chat(
    app: FastAPI,
    owner: Person,
    title: str = "Chat",
    visibility: Visibility = Visibility.PRIVATE,
) -> str:
    """A new chat of `owner`; returns its id."""
    runtime = app.state.runtime
    service = ChatService(runtime.session_factory, runtime.broker.user_events)
    chat = await service.create(uuid.UUID(owner.id), title, visibility)
    return str(chat.id)


async def add_message(
    app: FastAPI,
    chat_id: str,
    text: str = "hello",
    parent_id: str | None = None,
    role: MessageRole = MessageRole.USER,
    parts: list[dict[str, Any]] | None = None,
    usage: dict[str, int] | None = None,
) -> str:
    """Add a message to a chat (it becomes the current leaf); returns its id.

    Without `parts`, the message is one text part holding `text`.
    """
    async with app.state.runtime.session_factory.begin() as db:
        chat = await ChatRepository.get(db, uuid.UUID(chat_id))
        assert chat is not None
        message = await add_message_in(
            db,
            chat,
            role,
            parts if parts is not None else [{"type": "text", "text": text}],
            parent_id=uuid.UUID(parent_id) if parent_id else None,
            model="demo" if role == MessageRole.ASSISTANT else None,
        )
        if usage is not None:
            message.usage, message.finish_reason = usage, FinishReason.STOP
    return str(message.id)


async def add_conversation(app: FastAPI, chat_id: str, turns: int) -> list[str]:
    """`turns` user/assistant exchanges, one after the other; returns the ids in order."""
    ids: list[str] = []
    for turn in range(turns):
        parent = ids[-1] if ids else None
        ids.append(await add_message(app, chat_id, f"question {turn}", parent))
        ids.append(
            await add_message(app, chat_id, f"answer {turn}", ids[-1], role=MessageRole.ASSISTANT)
        )
    return ids


async def add_thread(app: FastAPI, chat_id: str, length: int) -> list[str]:
    """A thread of `length` messages ("message <n>", user first) under the chat's current leaf.

    Written in one flush, not through the services (a deep thread would take a transaction per
    message); the last message becomes the current leaf. Returns the ids, oldest first.
    """
    async with app.state.runtime.session_factory.begin() as db:
        chat = await ChatRepository.get(db, uuid.UUID(chat_id))
        assert chat is not None
        parent = chat.current_leaf_id
        thread: list[Message] = []
        for index in range(length):
            role = MessageRole.USER if index % 2 == 0 else MessageRole.ASSISTANT
            text = f"message {index}"
            thread.append(
                Message(
                    id=generate_uuid7(),
                    chat_id=chat.id,
                    parent_msg_id=thread[-1].id if thread else parent,
                    role=role,
                    parts=[{"type": "text", "text": text}],
                    text=text,
                    model="demo" if role == MessageRole.ASSISTANT else None,
                )
            )
        db.add_all(thread)
        await db.flush()
        chat.current_leaf_id = thread[-1].id
    return [str(message.id) for message in thread]


async def rate(app: FastAPI, person: Person, message_id: str, rating: Rating) -> None:
    """Store `person`'s rating of a message."""
    async with app.state.runtime.session_factory.begin() as db:
        await FeedbackRepository.put(db, uuid.UUID(person.id), uuid.UUID(message_id), rating)

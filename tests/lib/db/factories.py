"""Rows for repository tests, written with the ORM (not with the repositories under test)."""

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from src.core.enums import MessageRole, MessageStatus, UserType, Visibility
from src.lib.db.base import Base
from src.lib.db.models import Chat, Message, User
from src.lib.db.types import generate_uuid7

T0 = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
"""A fixed instant that explicit timestamps count from."""


def at(seconds: float) -> datetime:
    """`T0` plus some seconds: distinct, ordered timestamps that do not depend on the clock."""
    return T0 + timedelta(seconds=seconds)


def text_parts(text: str) -> list[dict[str, Any]]:
    """A message made of one text part."""
    return [{"type": "text", "text": text}]


async def make_user(db: AsyncSession, email: str | None = None) -> User:
    """A registered user with that email, or a guest without one."""
    user_type = UserType.GUEST if email is None else UserType.REGULAR
    user = User(email=email, password_hash=None, user_type=user_type, is_active=True)
    db.add(user)
    await db.flush()
    return user


async def make_chat(
    db: AsyncSession,
    owner: User,
    title: str = "Chat",
    visibility: Visibility = Visibility.PRIVATE,
    updated_at: datetime | None = None,
) -> Chat:
    """A chat of `owner`; with `updated_at`, created and last updated at that time."""
    chat = Chat(user_id=owner.id, title=title, visibility=visibility)
    if updated_at is not None:
        chat.created_at = chat.updated_at = updated_at
    db.add(chat)
    await db.flush()
    return chat


async def make_message(
    db: AsyncSession,
    chat: Chat,
    text: str = "hello",
    parent: Message | None = None,
    role: MessageRole = MessageRole.USER,
    status: MessageStatus = MessageStatus.COMPLETE,
    created_at: datetime | None = None,
) -> Message:
    """A one-text-part message of `chat` under `parent`; `created_at` also sets `updated_at`."""
    message = Message(
        chat_id=chat.id,
        parent_msg_id=parent.id if parent is not None else None,
        role=role,
        parts=text_parts(text),
        text=text,
        status=status,
        model="demo" if role == MessageRole.ASSISTANT else None,
    )
    if created_at is not None:
        message.created_at = message.updated_at = created_at
    db.add(message)
    await db.flush()
    return message


async def make_thread(
    db: AsyncSession,
    chat: Chat,
    length: int,
    text: Callable[[int], str] = "message {}".format,
    parent: Message | None = None,
) -> list[Message]:
    """`length` messages, each replying to the one before, alternating user and assistant.

    Written in one flush (ids set beforehand), so that deep threads cost a few statements.

    Args:
        db: Session.
        chat: Their chat.
        length: How many.
        text: The text of the message at each index (default "message <index>").
        parent: The message the first one replies to (its role decides who starts); None:
            the first is a USER root.
    """
    user_first = parent is None or parent.role == MessageRole.ASSISTANT
    start = parent.created_at if parent is not None else at(-1)
    thread: list[Message] = []
    for index in range(length):
        role = MessageRole.USER if (index % 2 == 0) == user_first else MessageRole.ASSISTANT
        above = thread[-1] if thread else parent
        moment = start + timedelta(seconds=index + 1)
        thread.append(
            Message(
                id=generate_uuid7(),
                chat_id=chat.id,
                parent_msg_id=above.id if above is not None else None,
                role=role,
                parts=text_parts(text(index)),
                text=text(index),
                model="demo" if role == MessageRole.ASSISTANT else None,
                created_at=moment,
                updated_at=moment,
            )
        )
    db.add_all(thread)
    await db.flush()
    return thread


async def count_rows(db: AsyncSession, model: type[Base]) -> int:
    """How many rows the model's table holds."""
    return int(await db.scalar(select(func.count()).select_from(model)) or 0)


def new_id() -> uuid.UUID:
    """A random id that no row has."""
    return uuid.uuid4()


async def reload[Row: Base](db: AsyncSession, row: Row) -> Row:
    """The row as the database now holds it (after Core UPDATEs the session did not track)."""
    await db.refresh(row)
    return row

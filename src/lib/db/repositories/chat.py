"""SQL for chats: idempotent creation, reads, keyset pages with search, deletion.

Reads for a caller always put the access rule in the WHERE clause, so that a chat the caller
may not see costs the same single statement as a chat that does not exist.
"""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, delete, exists, func, or_, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from src.core.enums import Visibility
from src.lib.db.models import Chat, Message


def dialect_insert(db: AsyncSession, model: type[Any]) -> postgresql.Insert | sqlite.Insert:
    """An INSERT of the session's dialect, which offers ON CONFLICT clauses on both backends."""
    if db.get_bind().dialect.name == "postgresql":
        return postgresql.insert(model)
    return sqlite.insert(model)


def readable_by(user_id: uuid.UUID) -> ColumnElement[bool]:
    """The chats a user may read: their own, and PUBLIC ones."""
    return or_(Chat.user_id == user_id, Chat.visibility == Visibility.PUBLIC)


def _owned_chats(user_id: uuid.UUID, search: str | None) -> Select[Chat]:
    """A user's own chats; with `search`, only those whose title or message text contains it.

    The match is case-insensitive and literal: `%`, `_` and the escape character are escaped
    (LIKE ... ESCAPE '/'), and the value is a bound parameter.
    """
    query = select(Chat).where(Chat.user_id == user_id)
    if search is None:
        return query
    in_messages = exists().where(
        Message.chat_id == Chat.id, Message.text.icontains(search, autoescape=True)
    )
    return query.where(or_(Chat.title.icontains(search, autoescape=True), in_messages))


class ChatRepository:
    """Reads and writes of the chats table."""

    @staticmethod
    async def insert_or_get(
        db: AsyncSession,
        chat_id: uuid.UUID,
        user_id: uuid.UUID,
        title: str,
        visibility: Visibility,
    ) -> Chat:
        """Insert a chat unless its id exists; return the row with that id, whoever owns it.

        ON CONFLICT DO NOTHING, so that two concurrent creations of one id cannot fail.
        """
        insert = dialect_insert(db, Chat).values(
            id=chat_id, user_id=user_id, title=title, visibility=visibility
        )
        created: Chat | None = await db.scalar(
            insert.on_conflict_do_nothing(index_elements=[Chat.id]).returning(Chat)
        )
        if created is not None:
            return created
        return (await db.execute(select(Chat).where(Chat.id == chat_id))).scalar_one()

    @staticmethod
    async def get(db: AsyncSession, chat_id: uuid.UUID) -> Chat | None:
        """The chat of that id, if any (no access check)."""
        return await db.get(Chat, chat_id)

    @staticmethod
    async def get_readable(db: AsyncSession, chat_id: uuid.UUID, user_id: uuid.UUID) -> Chat | None:
        """The chat, when the user may read it (owner, or PUBLIC); else None."""
        result = await db.execute(select(Chat).where(Chat.id == chat_id, readable_by(user_id)))
        return result.scalar_one_or_none()

    @staticmethod
    async def get_owned(db: AsyncSession, chat_id: uuid.UUID, user_id: uuid.UUID) -> Chat | None:
        """The chat, when the user owns it; else None."""
        result = await db.execute(select(Chat).where(Chat.id == chat_id, Chat.user_id == user_id))
        return result.scalar_one_or_none()

    @staticmethod
    async def page(
        db: AsyncSession,
        user_id: uuid.UUID,
        search: str | None,
        after: tuple[datetime, uuid.UUID] | None,
        limit: int,
    ) -> list[Chat]:
        """A user's chats, most recently updated first (updated_at DESC, id DESC).

        Args:
            db: Session.
            user_id: Owner.
            search: Literal text to find in titles or message text, or None for all chats.
            after: Sort key (updated_at, id) of the last chat of the previous page.
            limit: How many rows to return at most.
        """
        query = _owned_chats(user_id, search)
        if after is not None:
            query = query.where(tuple_(Chat.updated_at, Chat.id) < after)
        query = query.order_by(Chat.updated_at.desc(), Chat.id.desc()).limit(limit)
        return list((await db.execute(query)).scalars())

    @staticmethod
    async def count(db: AsyncSession, user_id: uuid.UUID, search: str | None) -> int:
        """How many chats `page` would list with no cursor and no limit."""
        matching = _owned_chats(user_id, search).subquery()
        return int(await db.scalar(select(func.count()).select_from(matching)) or 0)

    @staticmethod
    async def delete_owned(db: AsyncSession, chat_id: uuid.UUID, user_id: uuid.UUID) -> bool:
        """Delete a user's chat; its messages and their feedback go with it (ON DELETE CASCADE).

        Returns:
            True when a chat was deleted.
        """
        result = await db.execute(
            delete(Chat).where(Chat.id == chat_id, Chat.user_id == user_id).returning(Chat.id)
        )
        return result.scalar_one_or_none() is not None

"""SQL for chats: idempotent creation, reads, keyset pages with search, deletion, model titles.

Reads for a caller always put the access rule in the WHERE clause, so that a chat the caller
may not see costs the same single statement as a chat that does not exist.

A search matches a chat whose title contains the text (literally, in any case: a LIKE over
the user's own chats) or one of whose messages holds every word of it (the full-text index of
`src.lib.db.fulltext`, looked up once per statement, not once per chat).
"""

import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime
from functools import cache
from typing import Any, NamedTuple, cast

from sqlalchemy import (
    ColumnElement,
    Select,
    Table,
    Update,
    bindparam,
    case,
    delete,
    func,
    null,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.dml import ReturningInsert

from src.core.enums import Visibility
from src.lib.db import fulltext
from src.lib.db.models import Chat, Message
from src.lib.db.session import Database, dialect_name
from src.lib.db.types import utcnow
from src.lib.words import search_terms


def dialect_insert(db: AsyncSession, model: type[Any]) -> postgresql.Insert | sqlite.Insert:
    """An INSERT of the session's dialect, which offers ON CONFLICT clauses on both backends."""
    if db.get_bind().dialect.name == "postgresql":
        return postgresql.insert(model)
    return sqlite.insert(model)


@cache
def _chat_insert(dialect: str) -> ReturningInsert[uuid.UUID]:
    """INSERT of a chat from parameters, nothing on a duplicate id, RETURNING the id.

    Built once per dialect: a reply start in a new chat runs it (parameters, not `.values()`,
    so SQLAlchemy finds its compiled form without walking a new statement).
    """
    chats = cast(Table, Chat.__table__)
    insert = postgresql.insert(chats) if dialect == "postgresql" else sqlite.insert(chats)
    return insert.on_conflict_do_nothing(index_elements=[chats.c.id]).returning(chats.c.id)


class ChatHead(NamedTuple):
    """What a reply start reads of a chat (`ChatRepository.head`), without an ORM object."""

    id: uuid.UUID
    user_id: uuid.UUID
    current_leaf_id: uuid.UUID | None
    title_pending: bool


@cache
def _head_query() -> Select[uuid.UUID, uuid.UUID, uuid.UUID | None, bool]:
    """SELECT of a chat's `ChatHead` by id (parameter `chat_id`), built once."""
    chats = cast(Table, Chat.__table__)
    columns = (chats.c[name] for name in ChatHead._fields)
    return select(*columns).where(chats.c.id == bindparam("chat_id"))


@cache
def _leaf_update(retitle: bool) -> Update:
    """UPDATE of a chat's current leaf (and title, when `retitle`) from parameters, built once."""
    chats = cast(Table, Chat.__table__)
    values: dict[str, Any] = {
        "current_leaf_id": bindparam("leaf_id"),
        "updated_at": bindparam("changed_at"),
    }
    if retitle:
        values["title"] = bindparam("new_title")
    return update(chats).where(chats.c.id == bindparam("chat_id")).values(values)


def readable_by(user_id: uuid.UUID) -> ColumnElement[bool]:
    """The chats a user may read: their own, and PUBLIC ones."""
    return or_(Chat.user_id == user_id, Chat.visibility == Visibility.PUBLIC)


def _owned_chats(db: AsyncSession, user_id: uuid.UUID, search: str | None) -> Select[Chat]:
    """A user's own chats; with `search`, those whose title or a message matches it.

    The title must contain the text, case-insensitively and literally: `%`, `_` and the escape
    character are escaped (LIKE ... ESCAPE '/'), and the value is a bound parameter. A message
    must hold every word of it (none: only titles can match).
    """
    query = select(Chat).where(Chat.user_id == user_id)
    if search is None:
        return query
    found = Chat.title.icontains(search, autoescape=True)
    if terms := search_terms(search):
        in_messages = select(Message.chat_id).where(fulltext.matching(db, terms))
        found = or_(found, Chat.id.in_(in_messages))
    return query.where(found)


def _chat_row(
    chat_id: uuid.UUID,
    user_id: uuid.UUID,
    title: str,
    visibility: Visibility,
    current_leaf_id: uuid.UUID | None,
    title_pending: bool,
) -> dict[str, Any]:
    """The values of a new chat's row, created and updated now."""
    now = utcnow()
    return {
        "id": chat_id,
        "user_id": user_id,
        "title": title,
        "visibility": visibility,
        "current_leaf_id": current_leaf_id,
        "title_pending": title_pending,
        "created_at": now,
        "updated_at": now,
    }


async def _insert(db: Database, values: dict[str, Any]) -> bool:
    """Insert a chat's row unless its id exists; whether it was inserted."""
    created = await db.execute(_chat_insert(dialect_name(db)), values)
    return created.first() is not None


class ChatPage(list[Chat]):
    """A page of chats, as a list, with how many chats match when its statement counted them.

    Attributes:
        total: How many chats match over all pages, when the statement counted them; else None.
    """

    def __init__(self, chats: Iterable[Chat], total: int | None = None) -> None:
        super().__init__(chats)
        self.total = total


class ChatRepository:
    """Reads and writes of the chats table."""

    @staticmethod
    async def insert_or_get(
        db: AsyncSession,
        chat_id: uuid.UUID,
        user_id: uuid.UUID,
        title: str,
        visibility: Visibility,
        current_leaf_id: uuid.UUID | None = None,
        title_pending: bool = False,
    ) -> Chat:
        """Insert a chat unless its id exists; return the row with that id, whoever owns it.

        ON CONFLICT DO NOTHING, so that two concurrent creations of one id cannot fail.
        `current_leaf_id` may name a message inserted later in the same transaction.
        """
        values = _chat_row(chat_id, user_id, title, visibility, current_leaf_id, title_pending)
        if await _insert(db, values):  # the row is what was given: no need to read it back
            return Chat(**values, message_count=0)
        return (await db.execute(select(Chat).where(Chat.id == chat_id))).scalar_one()

    @staticmethod
    async def insert_or_get_head(
        db: Database,
        chat_id: uuid.UUID,
        user_id: uuid.UUID,
        title: str,
        current_leaf_id: uuid.UUID | None,
        title_pending: bool,
    ) -> ChatHead:
        """`insert_or_get` of a PRIVATE chat, answering with its `ChatHead` (Core only)."""
        values = _chat_row(
            chat_id, user_id, title, Visibility.PRIVATE, current_leaf_id, title_pending
        )
        if await _insert(db, values):
            return ChatHead(chat_id, user_id, current_leaf_id, title_pending)
        head = await ChatRepository.head(db, chat_id)
        assert head is not None  # it was there when the insert found it
        return head

    @staticmethod
    async def set_leaf(
        db: Database, chat_id: uuid.UUID, leaf_id: uuid.UUID, title: str | None = None
    ) -> None:
        """Show the branch ending at a message (and retitle the chat, if given); mark it updated."""
        values = {"chat_id": chat_id, "leaf_id": leaf_id, "changed_at": utcnow()}
        if title is not None:
            values["new_title"] = title
        await db.execute(_leaf_update(title is not None), values)

    @staticmethod
    async def get(db: AsyncSession, chat_id: uuid.UUID) -> Chat | None:
        """The chat of that id, if any (no access check)."""
        return await db.get(Chat, chat_id)

    @staticmethod
    async def head(db: Database, chat_id: uuid.UUID) -> ChatHead | None:
        """`get` as a `ChatHead`, in one prebuilt statement (no ORM object)."""
        row = (await db.execute(_head_query(), {"chat_id": chat_id})).first()
        return None if row is None else ChatHead(*row)

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
    ) -> ChatPage:
        """A user's chats, most recently updated first (updated_at DESC, id DESC).

        A search runs once: the same statement counts the matching chats (a window over them
        all, before the cursor applies), and the page carries that `total` unless it is empty
        after a cursor. Without a search the page walks the (user_id, updated_at) index and
        stops at the limit, so it counts nothing (`total` is None, or 0 for no chats at all).

        Args:
            db: Session.
            user_id: Owner.
            search: Text to find in titles or message text, or None for all chats.
            after: Sort key (updated_at, id) of the last chat of the previous page.
            limit: How many rows to return at most.
        """
        owned = _owned_chats(db, user_id, search)
        chat: Any = Chat
        query: Select[Any]
        if search is None:
            query = owned.add_columns(null().label("total"))
        else:
            matching = owned.add_columns(func.count().over().label("total")).subquery()
            chat = aliased(Chat, matching)
            query = select(chat, matching.c.total)
        if after is not None:
            query = query.where(tuple_(chat.updated_at, chat.id) < after)
        query = query.order_by(chat.updated_at.desc(), chat.id.desc()).limit(limit)
        rows = (await db.execute(query)).all()
        total = rows[0].total if rows else (0 if after is None else None)
        return ChatPage((row[0] for row in rows), total)

    @staticmethod
    async def count(db: AsyncSession, user_id: uuid.UUID, search: str | None) -> int:
        """How many chats `page` would list with no cursor and no limit."""
        matching = _owned_chats(db, user_id, search).subquery()
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

    @staticmethod
    async def set_titles_if_pending(
        db: Database, titles: Mapping[uuid.UUID, str]
    ) -> set[uuid.UUID]:
        """Write the model's titles of chats, in one conditional update: an owner's rename wins.

        Returns:
            The chats that still waited for a title and now have the one given.
        """
        if not titles:
            return set()
        result = await db.execute(
            update(Chat)
            .where(Chat.id.in_(list(titles)), Chat.title_pending)
            .values(title=case(dict(titles), value=Chat.id), title_pending=False)
            .returning(Chat.id)
        )
        return set(result.scalars())

"""SQL for messages: add, read with the chat's access rule, search, the DataLoaders' batched reads.

Batched reads (pages per chat, children per message, pages of the paths from messages up to
their roots) take many keys and answer with one statement, whatever the number of keys, with
the keys in one bound parameter (`any_of`). Every read of a long chat stops at what it returns:
pages on the (chat_id, created_at, id) index, paths walked up only as far as the page (or the
reply history's budget) needs. Searches go through the full-text index (`src.lib.db.fulltext`)
and only ever see the user's own chats.
"""

import json
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache
from typing import Any, NamedTuple, cast

from sqlalchemy import (
    ColumnElement,
    Insert,
    Select,
    Table,
    Uuid,
    and_,
    any_,
    bindparam,
    case,
    false,
    func,
    insert,
    literal_column,
    not_,
    or_,
    select,
    true,
    tuple_,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, aliased

from src.core.enums import FinishReason, MessageRole, MessageStatus
from src.lib.db import fulltext
from src.lib.db.models import Chat, Message
from src.lib.db.repositories.chat import readable_by
from src.lib.db.session import Database
from src.lib.db.types import utcnow
from src.lib.parts import text_of
from src.lib.words import search_terms


def any_of(
    db: AsyncSession, column: InstrumentedAttribute[Any], ids: Sequence[uuid.UUID]
) -> ColumnElement[bool]:
    """`column IN ids`, with all the ids in one bound parameter.

    An IN list binds one parameter per id: its statement differs for every count, and it
    fails past the drivers' limits (32,767 parameters on asyncpg). PostgreSQL gets
    `= ANY(uuid[])`; SQLite reads a JSON array with json_each, the ids written as its Uuid
    columns store them (32 hex digits).
    """
    if db.get_bind().dialect.name == "postgresql":
        return column == any_(bindparam(None, list(ids), type_=postgresql.ARRAY(Uuid())))
    values = func.json_each(json.dumps([value.hex for value in ids])).table_valued("value")
    return column.in_(select(values.c.value))


def _order(message: type[Message], backwards: bool) -> tuple[ColumnElement[Any], ...]:
    if backwards:
        return (message.created_at.desc(), message.id.desc())
    return (message.created_at.asc(), message.id.asc())


@dataclass(frozen=True, slots=True)
class NewMessage:
    """A message to insert with `MessageRepository.insert_many`."""

    id: uuid.UUID
    chat_id: uuid.UUID
    parent_id: uuid.UUID | None
    role: MessageRole
    parts: list[dict[str, Any]]
    status: MessageStatus = MessageStatus.COMPLETE
    model: str | None = None
    finish_reason: FinishReason | None = None
    usage: dict[str, int] | None = None


class MessageHead(NamedTuple):
    """What a reply start reads of a message it answers or repeats, without an ORM object."""

    id: uuid.UUID
    chat_id: uuid.UUID
    role: MessageRole


class Turn(NamedTuple):
    """A message as a reply's history holds it (`MessageRepository.path_tail`)."""

    id: uuid.UUID
    role: MessageRole
    parts: list[dict[str, Any]]


def _messages() -> Table:
    return cast(Table, Message.__table__)


@cache
def _insert() -> Insert:
    """INSERT of messages from parameters (`insert_many`), built once."""
    return insert(_messages())


@cache
def _head_query(in_chat: bool) -> Select[uuid.UUID, uuid.UUID, MessageRole]:
    """SELECT of a message's `MessageHead` by id (and chat, when `in_chat`), built once."""
    messages = _messages()
    query = select(messages.c.id, messages.c.chat_id, messages.c.role).where(
        messages.c.id == bindparam("message_id")
    )
    return query.where(messages.c.chat_id == bindparam("chat_id")) if in_chat else query


@cache
def _latest_reply_query() -> Select[uuid.UUID]:
    """SELECT of the id of the newest ASSISTANT child of a message (`parent_id`), built once."""
    messages = _messages()
    return (
        select(messages.c.id)
        .where(
            messages.c.parent_msg_id == bindparam("parent_id"),
            messages.c.role == MessageRole.ASSISTANT,
        )
        .order_by(messages.c.created_at.desc(), messages.c.id.desc())
        .limit(1)
    )


@dataclass(slots=True)
class ThreadPage:
    """A page of the path from the root to a message (see `MessageRepository.thread_pages`).

    Attributes:
        messages: The page, oldest first.
        found_before: Whether the page's `before` is on the path (always true without one).
    """

    messages: list[Message] = field(default_factory=list)
    found_before: bool = False


class MessageRepository:
    """Reads and writes of the messages table."""

    @staticmethod
    async def insert_many(db: Database, messages: Sequence[NewMessage]) -> None:
        """Insert messages in one statement, without ORM objects (the reply start's hot path).

        Their `text` is made from their parts; they share one timestamp, so their ids (UUIDv7,
        time-ordered) order them.
        """
        now = utcnow()
        rows = [
            {
                "id": message.id,
                "chat_id": message.chat_id,
                "parent_msg_id": message.parent_id,
                "role": message.role,
                "parts": message.parts,
                "text": text_of(message.parts),
                "status": message.status,
                "model": message.model,
                "finish_reason": message.finish_reason,
                "usage": message.usage,
                "created_at": now,
                "updated_at": now,
            }
            for message in messages
        ]
        await db.execute(_insert(), rows)

    @staticmethod
    async def get(db: AsyncSession, message_id: uuid.UUID) -> Message | None:
        """The message of that id, if any (no access check)."""
        return await db.get(Message, message_id)

    @staticmethod
    async def head(
        db: Database, message_id: uuid.UUID, chat_id: uuid.UUID | None = None
    ) -> MessageHead | None:
        """The message's `MessageHead`, if any (and when `chat_id` is given, in that chat).

        One prebuilt statement, no ORM object; no access check.
        """
        parameters = {"message_id": message_id}
        if chat_id is not None:
            parameters["chat_id"] = chat_id
        result = await db.execute(_head_query(chat_id is not None), parameters)
        row = result.first()
        return None if row is None else MessageHead(*row)

    @staticmethod
    async def get_many(db: AsyncSession, message_ids: list[uuid.UUID]) -> dict[uuid.UUID, Message]:
        """The messages of those ids that exist, by id (no access check)."""
        result = await db.execute(select(Message).where(Message.id.in_(message_ids)))
        return {message.id: message for message in result.scalars()}

    @staticmethod
    async def get_in_chat(
        db: AsyncSession, chat_id: uuid.UUID, message_id: uuid.UUID
    ) -> Message | None:
        """The message, when it belongs to that chat; else None."""
        result = await db.execute(
            select(Message).where(Message.id == message_id, Message.chat_id == chat_id)
        )
        return result.scalar_one_or_none()

    @staticmethod
    async def get_readable(
        db: AsyncSession, message_id: uuid.UUID, user_id: uuid.UUID
    ) -> Message | None:
        """The message, when the user may read its chat (owner, or PUBLIC); else None."""
        result = await db.execute(
            select(Message)
            .join(Chat, Chat.id == Message.chat_id)
            .where(Message.id == message_id, readable_by(user_id))
        )
        return result.scalar_one_or_none()

    @staticmethod
    async def latest_reply_id(db: Database, message_id: uuid.UUID) -> uuid.UUID | None:
        """The id of the newest ASSISTANT message directly under a message, or None."""
        result = await db.execute(_latest_reply_query(), {"parent_id": message_id})
        return result.scalar_one_or_none()

    @staticmethod
    async def search_own(
        db: AsyncSession, user_id: uuid.UUID, text: str, limit: int
    ) -> list[Message]:
        """Messages of the user's own chats holding every word of `text` (any case), newest first.

        Nothing when `text` has no word (see `src.lib.words`).
        """
        terms = search_terms(text)
        if not terms:
            return []
        result = await db.execute(
            select(Message)
            .join(Chat, Chat.id == Message.chat_id)
            .where(Chat.user_id == user_id, fulltext.matching(db, terms))
            .order_by(Message.created_at.desc(), Message.id.desc())
            .limit(limit)
        )
        return list(result.scalars())

    @staticmethod
    async def search(
        db: AsyncSession,
        user_id: uuid.UUID,
        terms: Sequence[str],
        after: tuple[float, uuid.UUID] | None,
        limit: int,
    ) -> list[tuple[Message, Chat, float]]:
        """The user's own messages holding every term, on every branch, best matches first.

        Ordered by (score DESC, id DESC): equal scores put the newest message first, so that
        a page after `after` continues exactly where the previous one ended.

        Args:
            db: Session.
            user_id: The owner of the chats searched (PUBLIC chats of others never match).
            terms: At least one word, as `src.lib.words.search_terms` makes them.
            after: (score, id) of the last hit of the previous page.
            limit: How many hits to return at most.

        Returns:
            (message, its chat, score) of each hit; a higher score is a better match.
        """
        hits = fulltext.ranked(db, terms).subquery()
        query = (
            select(Message, Chat, hits.c.score)
            .join(hits, hits.c.id == Message.id)
            .join(Chat, Chat.id == Message.chat_id)
            .where(Chat.user_id == user_id)
        )
        if after is not None:
            query = query.where(tuple_(hits.c.score, Message.id) < after)
        query = query.order_by(hits.c.score.desc(), Message.id.desc()).limit(limit)
        return [(message, chat, score) for message, chat, score in await db.execute(query)]

    @staticmethod
    async def pages_by_chat(
        db: AsyncSession,
        chat_ids: list[uuid.UUID],
        after: tuple[datetime, uuid.UUID] | None,
        before: tuple[datetime, uuid.UUID] | None,
        limit: int,
        backwards: bool,
    ) -> dict[uuid.UUID, list[Message]]:
        """One page of messages of each chat, in one statement.

        Each chat's page is read on the (chat_id, created_at, id) index from the cursor and
        stops at `limit` rows, so that a page costs the same wherever it lies in the chat:
        a LATERAL subquery per chat on PostgreSQL, a correlated `id IN (... LIMIT n)` on
        SQLite (which has no LATERAL).

        Args:
            db: Session.
            chat_ids: The chats.
            after: Only messages whose (created_at, id) is greater.
            before: Only messages whose (created_at, id) is smaller.
            limit: At most this many messages per chat.
            backwards: Take the newest messages nearest `before` (newest first) instead of the
                oldest nearest `after` (oldest first).

        Returns:
            Each chat's messages in the order taken; chats without any are left out.
        """

        def page_of_chat(message: type[Message]) -> Select[Any]:
            key = tuple_(message.created_at, message.id)
            query = select(message).where(message.chat_id == Chat.id)
            if after is not None:
                query = query.where(key > after)
            if before is not None:
                query = query.where(key < before)
            return query.order_by(*_order(message, backwards)).limit(limit)

        if db.get_bind().dialect.name == "postgresql":
            page = page_of_chat(Message).lateral("page")
            taken: type[Message] = aliased(Message, page)
            query = select(taken).select_from(Chat).join(page, true())
        else:
            inner = aliased(Message)
            ids = page_of_chat(inner).with_only_columns(inner.id).correlate(Chat)
            taken = Message
            query = select(Message).select_from(Chat).join(Message, Message.id.in_(ids))
        result = await db.execute(
            query.where(any_of(db, Chat.id, chat_ids)).order_by(
                taken.chat_id, *_order(taken, backwards)
            )
        )
        pages: dict[uuid.UUID, list[Message]] = defaultdict(list)
        for message in result.scalars():
            pages[message.chat_id].append(message)
        return pages

    @staticmethod
    async def child_ids(
        db: AsyncSession, parent_ids: list[uuid.UUID]
    ) -> dict[uuid.UUID, list[uuid.UUID]]:
        """The direct replies of each message, oldest first; messages without any are left out."""
        result = await db.execute(
            select(Message.parent_msg_id, Message.id)
            .where(any_of(db, Message.parent_msg_id, parent_ids))
            .order_by(Message.created_at, Message.id)
        )
        children: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
        for parent_id, child_id in result:
            if parent_id is not None:
                children[parent_id].append(child_id)
        return children

    @staticmethod
    async def thread_pages(
        db: AsyncSession,
        leaves: list[tuple[uuid.UUID, uuid.UUID]],
        limit: int,
        before: uuid.UUID | None = None,
    ) -> dict[tuple[uuid.UUID, uuid.UUID], ThreadPage]:
        """The end of the path from the root to each message, in one recursive statement.

        The walk goes up from each leaf and stops once it has the page: past `before` when
        given (reading only ids up to it), then `limit` messages.

        Args:
            db: Session.
            leaves: (chat id, message id) of each leaf; a message of another chat has no page.
            limit: At most this many messages per page, those nearest the leaf (or `before`).
            before: A message of the paths: each page ends just above it. None: at the leaf.

        Returns:
            The page of each leaf found in its chat, by (chat id, leaf id).
        """
        whole = before is None  # the page starts at the leaf
        opened: ColumnElement[bool] = true() if whole else Message.id == before
        walk = (
            select(
                Message.chat_id,
                Message.id.label("leaf_id"),
                Message.id,
                Message.parent_msg_id.label("parent_id"),
                literal_column("0").label("depth"),
                opened.label("opened"),  # `before` is this message or below it
                (true() if whole else false()).label("in_page"),
                literal_column("1" if whole else "0").label("taken"),  # page messages so far
            )
            .where(tuple_(Message.chat_id, Message.id).in_(leaves))
            .cte("walk", recursive=True)
        )
        walk = walk.union_all(
            select(
                walk.c.chat_id,
                walk.c.leaf_id,
                Message.id,
                Message.parent_msg_id,
                walk.c.depth + 1,
                true() if whole else or_(walk.c.opened, Message.id == before),
                walk.c.opened,
                walk.c.taken + case((walk.c.opened, 1), else_=0),
            )
            .join(Message, Message.id == walk.c.parent_id)
            .where(or_(not_(walk.c.opened), walk.c.taken < limit))
        )
        shown = and_(Message.id == walk.c.id, walk.c.in_page, walk.c.taken <= limit)
        result = await db.execute(
            select(walk.c.chat_id, walk.c.leaf_id, walk.c.opened, Message)
            .select_from(walk)
            .outerjoin(Message, shown)
            .where(or_(walk.c.opened, walk.c.depth == 0))
            .order_by(walk.c.leaf_id, walk.c.depth.desc())
        )
        pages: dict[tuple[uuid.UUID, uuid.UUID], ThreadPage] = {}
        for chat_id, leaf_id, opened_here, message in result:
            page = pages.setdefault((chat_id, leaf_id), ThreadPage())
            page.found_before = page.found_before or bool(opened_here)
            if message is not None:
                page.messages.append(message)
        return pages

    @staticmethod
    async def path_tail(
        db: Database, chat_id: uuid.UUID, leaf_id: uuid.UUID, text_budget: int
    ) -> list[Turn]:
        """The end of the path to a message of the chat, as far as a budget of text needs.

        The walk goes up from the message while the `text` of the messages walked adds up to
        at most `text_budget` characters, or while it has met no USER message; the message
        that goes over the budget is the last one read.

        Returns:
            Those messages, oldest first (the leaf last); none when the leaf is not in the chat.
        """
        parameters = {"leaf_id": leaf_id, "chat_id": chat_id, "text_budget": text_budget}
        result = await db.execute(_path_tail_query(), parameters)
        return [Turn(*row) for row in result]


@cache
def _path_tail_query() -> Select[uuid.UUID, MessageRole, list[dict[str, Any]]]:
    """The recursive SELECT of `MessageRepository.path_tail`, from parameters, built once."""
    messages = _messages()
    is_user = messages.c.role == MessageRole.USER
    walk = (
        select(
            messages.c.id,
            messages.c.parent_msg_id.label("parent_id"),
            literal_column("0").label("depth"),
            func.length(messages.c.text).label("chars"),
            is_user.label("met_user"),
        )
        .where(messages.c.id == bindparam("leaf_id"), messages.c.chat_id == bindparam("chat_id"))
        .cte("walk", recursive=True)
    )
    walk = walk.union_all(
        select(
            messages.c.id,
            messages.c.parent_msg_id,
            walk.c.depth + 1,
            walk.c.chars + func.length(messages.c.text),
            or_(walk.c.met_user, is_user),
        )
        .join(messages, messages.c.id == walk.c.parent_id)
        .where(or_(walk.c.chars <= bindparam("text_budget"), not_(walk.c.met_user)))
    )
    return (
        select(messages.c.id, messages.c.role, messages.c.parts)
        .join(walk, walk.c.id == messages.c.id)
        .order_by(walk.c.depth.desc())
    )

"""SQL for messages: add, read with the chat's access rule, search, the DataLoaders' batched reads.

Batched reads (pages and counts per chat, children per message, paths from a message to its
root) take many keys and answer with one statement, whatever the number of keys. Searches go
through the full-text index (`src.lib.db.fulltext`) and only ever see the user's own chats.
"""

import uuid
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeGuard

from sqlalchemy import func, literal_column, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from src.core.enums import MessageRole, MessageStatus
from src.lib.db import fulltext
from src.lib.db.models import Chat, Message
from src.lib.db.repositories.chat import readable_by
from src.lib.parts import text_of
from src.lib.words import search_terms


def in_chat(path: list[Message] | None, chat_id: uuid.UUID) -> TypeGuard[list[Message]]:
    """Whether a path from `MessageRepository.paths` exists and ends in that chat."""
    return bool(path and path[-1].chat_id == chat_id)


class MessageRepository:
    """Reads and writes of the messages table."""

    @staticmethod
    async def add(
        db: AsyncSession,
        chat_id: uuid.UUID,
        parent_id: uuid.UUID | None,
        role: MessageRole,
        parts: list[dict[str, Any]],
        status: MessageStatus,
        model: str | None,
        message_id: uuid.UUID | None = None,
    ) -> Message:
        """Add a message, its `text` made from its parts, and flush it (id and timestamps set)."""
        message = Message(
            chat_id=chat_id,
            parent_msg_id=parent_id,
            role=role,
            parts=parts,
            text=text_of(parts),
            status=status,
            model=model,
        )
        if message_id is not None:
            message.id = message_id
        db.add(message)
        await db.flush()
        return message

    @staticmethod
    async def get(db: AsyncSession, message_id: uuid.UUID) -> Message | None:
        """The message of that id, if any (no access check)."""
        return await db.get(Message, message_id)

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
    async def latest_reply(db: AsyncSession, message_id: uuid.UUID) -> Message | None:
        """The newest ASSISTANT message directly under a message, or None."""
        result = await db.execute(
            select(Message)
            .where(Message.parent_msg_id == message_id, Message.role == MessageRole.ASSISTANT)
            .order_by(Message.created_at.desc(), Message.id.desc())
            .limit(1)
        )
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
        """One page of messages of each chat, in one statement (ROW_NUMBER per chat).

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
        key = tuple_(Message.created_at, Message.id)
        if backwards:
            order = (Message.created_at.desc(), Message.id.desc())
        else:
            order = (Message.created_at.asc(), Message.id.asc())
        rank = func.row_number().over(partition_by=Message.chat_id, order_by=order)
        ranked = select(Message.id, rank.label("rank")).where(Message.chat_id.in_(chat_ids))
        if after is not None:
            ranked = ranked.where(key > after)
        if before is not None:
            ranked = ranked.where(key < before)
        window = ranked.subquery()
        result = await db.execute(
            select(Message)
            .join(window, window.c.id == Message.id)
            .where(window.c.rank <= limit)
            .order_by(Message.chat_id, window.c.rank)
        )
        pages: dict[uuid.UUID, list[Message]] = defaultdict(list)
        for message in result.scalars():
            pages[message.chat_id].append(message)
        return pages

    @staticmethod
    async def count_by_chat(db: AsyncSession, chat_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
        """How many messages each chat holds; chats without any are left out."""
        result = await db.execute(
            select(Message.chat_id, func.count())
            .where(Message.chat_id.in_(chat_ids))
            .group_by(Message.chat_id)
        )
        return {chat_id: int(count) for chat_id, count in result}

    @staticmethod
    async def child_ids(
        db: AsyncSession, parent_ids: list[uuid.UUID]
    ) -> dict[uuid.UUID, list[uuid.UUID]]:
        """The direct replies of each message, oldest first; messages without any are left out."""
        result = await db.execute(
            select(Message.parent_msg_id, Message.id)
            .where(Message.parent_msg_id.in_(parent_ids))
            .order_by(Message.created_at, Message.id)
        )
        children: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
        for parent_id, child_id in result:
            if parent_id is not None:
                children[parent_id].append(child_id)
        return children

    @staticmethod
    async def paths(db: AsyncSession, leaf_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[Message]]:
        """The path from the root to each message, root first, in one recursive statement.

        Returns:
            Each existing message's path (the message last); unknown ids are left out.
        """
        walk = (
            select(
                Message.id.label("leaf_id"),
                Message.id.label("id"),
                Message.parent_msg_id.label("parent_id"),
                literal_column("0").label("depth"),
            )
            .where(Message.id.in_(leaf_ids))
            .cte("walk", recursive=True)
        )
        walk = walk.union_all(
            select(walk.c.leaf_id, Message.id, Message.parent_msg_id, walk.c.depth + 1).join(
                Message, Message.id == walk.c.parent_id
            )
        )
        result = await db.execute(
            select(walk.c.leaf_id, Message)
            .select_from(Message)
            .join(walk, walk.c.id == Message.id)
            .order_by(walk.c.leaf_id, walk.c.depth.desc())
        )
        paths: dict[uuid.UUID, list[Message]] = defaultdict(list)
        for leaf_id, message in result:
            paths[leaf_id].append(message)
        return paths

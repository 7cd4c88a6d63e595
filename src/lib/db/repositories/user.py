"""SQL for users: lookups, creation, and the purge of idle guests."""

import uuid
from collections.abc import Collection
from datetime import datetime
from functools import cache
from typing import cast

from sqlalchemy import Select, Table, Update, bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from src.core.enums import UserType
from src.lib.db.models import Chat, RefreshToken, User
from src.lib.db.session import Database, dialect_name
from src.lib.db.sqlite_driver import InlineConnection


@cache
def _lock_statements() -> tuple[Select[uuid.UUID], Update]:
    """`UserRepository.lock` from parameters (`user_id`), built once.

    PostgreSQL's SELECT FOR NO KEY UPDATE, and SQLite's UPDATE that changes nothing.
    """
    users = cast(Table, User.__table__)
    mine = users.c.id == bindparam("user_id")
    locking = select(users.c.id).where(mine).with_for_update(key_share=True)
    touch = update(users).where(mine).values(updated_at=users.c.updated_at)
    return locking, touch


class UserRepository:
    """Reads and writes of the users table."""

    @staticmethod
    async def get(db: AsyncSession, user_id: uuid.UUID) -> User | None:
        """The user with this id, or None."""
        return await db.get(User, user_id)

    @staticmethod
    async def get_by_email(db: AsyncSession, email: str) -> User | None:
        """The user with this (normalized) email, or None."""
        result = await db.execute(select(User).where(User.email == email))
        return result.scalar_one_or_none()

    @staticmethod
    async def lock(db: Database, user_id: uuid.UUID) -> None:
        """Hold the user's row until the transaction ends; another lock of it waits till then.

        PostgreSQL locks the row FOR NO KEY UPDATE (inserts that reference the user go on).
        SQLite has no row locks: the transaction's first write takes the database's write
        lock, which serializes writers (across processes too) and makes the reads after it
        current; a transaction that has not written yet makes a write that changes nothing.
        """
        parameters = {"user_id": user_id}
        if dialect_name(db) == "postgresql":
            await db.execute(_lock_statements()[0], parameters)
            return
        if isinstance(db, AsyncSession):
            db = await db.connection()
        sqlite = (await db.get_raw_connection()).driver_connection
        if isinstance(sqlite, InlineConnection) and sqlite.in_transaction:
            return  # it has written: the write lock is held
        await db.execute(_lock_statements()[1], parameters)

    @staticmethod
    async def upgrade_guest(
        db: AsyncSession, user_id: uuid.UUID, email: str, password_hash: str
    ) -> bool:
        """Make a guest a regular user with this email and hash; False when it is no guest.

        One conditional UPDATE: of simultaneous upgrades of one guest, only the first matches.
        """
        result = await db.execute(
            update(User)
            .where(User.id == user_id, User.user_type == UserType.GUEST)
            .values(email=email, password_hash=password_hash, user_type=UserType.REGULAR)
            .returning(User.id)
            .execution_options(synchronize_session=False)
        )
        return result.scalar_one_or_none() is not None

    @staticmethod
    async def active_among(
        db: AsyncSession, user_ids: Collection[uuid.UUID]
    ) -> dict[uuid.UUID, UserType]:
        """Which of these users exist and are active, with their current type (one query)."""
        result = await db.execute(
            select(User.id, User.user_type).where(User.id.in_(user_ids), User.is_active)
        )
        return {user_id: user_type for user_id, user_type in result.all()}

    @staticmethod
    async def create(
        db: AsyncSession, user_type: UserType, email: str | None, password_hash: str | None
    ) -> User:
        """Add a user and flush it, so that its id and defaults are set."""
        user = User(user_type=user_type, email=email, password_hash=password_hash, is_active=True)
        db.add(user)
        await db.flush()
        return user

    @staticmethod
    async def purge_idle_guests(db: AsyncSession, idle_since: datetime) -> int:
        """Delete the guests with no activity since `idle_since`, with everything they own.

        A guest's activity is the last change of its row, of any of its chats (a new message
        moves the chat's current leaf), and the last refresh token it was issued (a sign-in or
        a refresh). Chats, messages, feedback, usage and tokens go with the user (foreign keys
        with ON DELETE CASCADE), in one statement.

        Returns:
            How many guests were deleted.
        """
        recent_chat = select(Chat.id).where(Chat.user_id == User.id, Chat.updated_at >= idle_since)
        recent_token = select(RefreshToken.id).where(
            RefreshToken.user_id == User.id, RefreshToken.created_at >= idle_since
        )
        result = await db.execute(
            delete(User)
            .where(
                User.user_type == UserType.GUEST,
                User.updated_at < idle_since,
                ~recent_chat.exists(),
                ~recent_token.exists(),
            )
            .returning(User.id)
        )
        return len(result.all())

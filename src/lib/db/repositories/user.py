"""SQL for users."""

import uuid
from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from src.core.enums import UserType
from src.lib.db.models import User


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

"""SQL for refresh tokens: issue, claim (atomically, for rotation), revoke."""

import uuid
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from src.lib.db.models import RefreshToken


class RefreshTokenRepository:
    """Reads and writes of the refresh_tokens table."""

    @staticmethod
    async def add(
        db: AsyncSession,
        user_id: uuid.UUID,
        token_hash: str,
        family_id: uuid.UUID,
        expires_at: datetime,
    ) -> RefreshToken:
        """Store a new token's hash."""
        token = RefreshToken(
            user_id=user_id, token_hash=token_hash, family_id=family_id, expires_at=expires_at
        )
        db.add(token)
        await db.flush()
        return token

    @staticmethod
    async def claim(db: AsyncSession, token_hash: str, now: datetime) -> RefreshToken | None:
        """Revoke a live, unexpired token and return it; None when it was not live.

        A single UPDATE, so two concurrent uses of one token cannot both succeed.
        """
        result = await db.execute(
            update(RefreshToken)
            .where(
                RefreshToken.token_hash == token_hash,
                RefreshToken.revoked_at.is_(None),
                RefreshToken.expires_at > now,
            )
            .values(revoked_at=now)
            .returning(RefreshToken)
        )
        return result.scalar_one_or_none()

    @staticmethod
    async def get_by_hash(db: AsyncSession, token_hash: str) -> RefreshToken | None:
        """The token stored under this hash, live or not."""
        result = await db.execute(select(RefreshToken).where(RefreshToken.token_hash == token_hash))
        return result.scalar_one_or_none()

    @staticmethod
    async def revoke_family(db: AsyncSession, family_id: uuid.UUID, now: datetime) -> None:
        """Revoke every live token of a family."""
        await db.execute(
            update(RefreshToken)
            .where(RefreshToken.family_id == family_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )

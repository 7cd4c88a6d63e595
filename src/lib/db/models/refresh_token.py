"""Refresh tokens, stored only as hashes, grouped in families for rotation and reuse detection."""

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from src.lib.db.base import Base, IdMixin
from src.lib.db.types import UTCDateTime, utcnow


class RefreshToken(IdMixin, Base):
    """One refresh token; rotating it revokes it and issues a successor of the same family.

    Attributes:
        user_id: Owner (deleted with the user).
        token_hash: SHA-256 of the token; the token itself is never stored.
        family_id: Shared by a token and all its successors; reuse revokes the family.
        expires_at: After this the token is refused.
        revoked_at: Set when rotated, logged out or revoked with its family.
    """

    __tablename__ = "refresh_tokens"

    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    family_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

"""Feedback: one rating per user and message."""

import uuid

from sqlalchemy import Enum, ForeignKey, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from src.core.enums import Rating
from src.lib.db.base import Base, IdMixin, TimestampMixin


class MessageFeedback(IdMixin, TimestampMixin, Base):
    """A user's rating of a message.

    Attributes:
        message_id: The rated message (deleted with it).
        user_id: Who rated it (deleted with them).
        rating: UP or DOWN.
    """

    __tablename__ = "message_feedback"
    __table_args__ = (UniqueConstraint("message_id", "user_id"),)

    message_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("messages.id", ondelete="CASCADE")
    )
    user_id: Mapped[uuid.UUID] = mapped_column(
        Uuid, ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    rating: Mapped[Rating] = mapped_column(Enum(Rating, native_enum=False, length=8))

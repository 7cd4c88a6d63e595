"""Usage records: one row per model reply a user asks for, kept when the chat is deleted.

Daily allowances count these rows (a new message's reply and each regeneration alike), so
deleting chats does not give replies back.
"""

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from src.lib.db.base import Base, IdMixin
from src.lib.db.types import UTCDateTime, utcnow


class UsageRecord(IdMixin, Base):
    """One reply a user asked for.

    Attributes:
        user_id: Who asked (the records go with the user, not with the chat).
        created_at: When the reply was started.
    """

    __tablename__ = "usage_records"
    __table_args__ = (Index(None, "user_id", "created_at"),)

    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

"""Usage records: one row per message a user sends, kept when the chat is deleted.

Daily allowances count these rows, so deleting chats does not give messages back.
"""

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from src.lib.db.base import Base, IdMixin
from src.lib.db.types import UTCDateTime, utcnow


class UsageRecord(IdMixin, Base):
    """One message sent by a user.

    Attributes:
        user_id: Who sent it (the records go with the user, not with the chat).
        created_at: When it was sent.
    """

    __tablename__ = "usage_records"
    __table_args__ = (Index(None, "user_id", "created_at"),)

    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

"""Chats: owned by a user, holding a tree of messages, one branch of which is shown."""

import uuid

from sqlalchemy import Boolean, Enum, ForeignKey, Index, Integer, String, Uuid, false, text
from sqlalchemy.orm import Mapped, mapped_column

from src.core.enums import Visibility
from src.lib.db.base import Base, IdMixin, TimestampMixin

TITLE_MAX_LENGTH = 200


class Chat(IdMixin, TimestampMixin, Base):
    """A conversation.

    Attributes:
        user_id: Owner (the chat is deleted with the user).
        title: At most 200 characters.
        title_pending: Whether the model may still write the title: true for a chat created
            without one (its title is then "New chat", or provisionally its first message) until
            the model writes one after its first reply, or the owner renames it.
        visibility: PRIVATE (owner only) or PUBLIC (readable by anyone signed in).
        current_leaf_id: The message whose branch is shown; null when the chat is empty.
            Not a foreign key, so that chats and messages do not reference each other in a
            cycle; the service keeps it pointing at a message of this chat.
        message_count: How many messages the chat holds, all branches. Kept by a database
            trigger on every insert into `messages` (see the migration 3d1e5b7a9c01), so that
            no read counts rows; messages are deleted only with their chat.
    """

    __tablename__ = "chats"
    __table_args__ = (Index(None, "user_id", "updated_at"),)

    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("users.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(TITLE_MAX_LENGTH))
    title_pending: Mapped[bool] = mapped_column(Boolean, server_default=false())
    visibility: Mapped[Visibility] = mapped_column(
        Enum(Visibility, native_enum=False, length=16), default=Visibility.PRIVATE
    )
    current_leaf_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    message_count: Mapped[int] = mapped_column(Integer, server_default=text("0"))

    def __repr__(self) -> str:
        return f"<Chat id={self.id}>"

"""Messages: nodes of a chat's tree, made of JSON parts (text, files, tool calls and results)."""

import uuid
from typing import Any

from sqlalchemy import Enum, ForeignKey, Index, String, Text, Uuid, literal_column
from sqlalchemy.orm import Mapped, mapped_column

from src.core.enums import FinishReason, MessageRole, MessageStatus
from src.lib.db.base import Base, IdMixin, TimestampMixin
from src.lib.db.types import JSONDocument


class Message(IdMixin, TimestampMixin, Base):
    """One message of a chat.

    Ordered by (created_at, id) within a chat, on one index: pages, and the newest message,
    read only the rows they return.

    Attributes:
        chat_id: The chat (messages are deleted with it, all in one statement).
        parent_msg_id: The message this one follows; null for a root. Siblings are branches.
            No ON DELETE action: a message goes only with its whole chat, and a cascade along
            the chain would recurse once per message (SQLite stops at 1,000 levels).
        role: USER or ASSISTANT.
        parts: List of parts, each a dict with a `type` of text, file, tool_call or tool_result.
        text: All text parts joined; kept for search and for the `text` field.
        status: COMPLETE, or for replies STREAMING, INTERRUPTED or FAILED.
        model: The model that wrote an assistant message.
        finish_reason: Why the generation of an assistant message ended.
        usage: Token counts, {"input_tokens": n, "output_tokens": n}.
    """

    __tablename__ = "messages"
    __table_args__ = (Index(None, "chat_id", "created_at", "id"),)

    chat_id: Mapped[uuid.UUID] = mapped_column(Uuid, ForeignKey("chats.id", ondelete="CASCADE"))
    parent_msg_id: Mapped[uuid.UUID | None] = mapped_column(
        Uuid, ForeignKey("messages.id"), index=True
    )
    role: Mapped[MessageRole] = mapped_column(Enum(MessageRole, native_enum=False, length=16))
    parts: Mapped[list[dict[str, Any]]] = mapped_column(JSONDocument, default=list)
    text: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[MessageStatus] = mapped_column(
        Enum(MessageStatus, native_enum=False, length=16), default=MessageStatus.COMPLETE
    )
    model: Mapped[str | None] = mapped_column(String(200))
    finish_reason: Mapped[FinishReason | None] = mapped_column(
        Enum(FinishReason, native_enum=False, length=16)
    )
    usage: Mapped[dict[str, int] | None] = mapped_column(JSONDocument)

    def __repr__(self) -> str:
        return f"<Message id={self.id} role={self.role} status={self.status}>"


STREAMING = Message.status == literal_column(f"'{MessageStatus.STREAMING.name}'")
"""Replies being generated, with the status written as a constant: both query planners use a
partial index only when the query's condition is the index's own, never a bound parameter."""

Index(
    "ix_messages_streaming_chat_id_updated_at",
    Message.chat_id,
    Message.updated_at,
    postgresql_where=STREAMING,
    sqlite_where=STREAMING,
)

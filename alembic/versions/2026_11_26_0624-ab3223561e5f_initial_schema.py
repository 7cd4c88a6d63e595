"""Initial schema: users, refresh tokens, chats, messages, message feedback.

Revision ID: ab3223561e5f
Revises:
Create Date: 2026-11-26 06:24:04.749366
"""

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

import src.lib.db.types
from alembic import op

revision: str = "ab3223561e5f"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "users",
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column(
            "user_type",
            sa.Enum("REGULAR", "GUEST", name="usertype", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", src.lib.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", src.lib.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("email", name=op.f("uq_users_email")),
    )
    op.create_table(
        "chats",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column(
            "visibility",
            sa.Enum("PRIVATE", "PUBLIC", name="visibility", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("current_leaf_id", sa.Uuid(), nullable=True),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", src.lib.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", src.lib.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_chats_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chats")),
    )
    with op.batch_alter_table("chats", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_chats_user_id_updated_at"), ["user_id", "updated_at"], unique=False
        )

    op.create_table(
        "refresh_tokens",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("family_id", sa.Uuid(), nullable=False),
        sa.Column("expires_at", src.lib.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", src.lib.db.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", src.lib.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_refresh_tokens_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refresh_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_refresh_tokens_token_hash")),
    )
    with op.batch_alter_table("refresh_tokens", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_refresh_tokens_family_id"), ["family_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_refresh_tokens_user_id"), ["user_id"], unique=False)

    op.create_table(
        "messages",
        sa.Column("chat_id", sa.Uuid(), nullable=False),
        sa.Column("parent_msg_id", sa.Uuid(), nullable=True),
        sa.Column(
            "role",
            sa.Enum("USER", "ASSISTANT", name="messagerole", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column(
            "parts",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "COMPLETE",
                "STREAMING",
                "INTERRUPTED",
                "FAILED",
                name="messagestatus",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("model", sa.String(length=200), nullable=True),
        sa.Column(
            "finish_reason",
            sa.Enum(
                "STOP",
                "LENGTH",
                "TOOL_LIMIT",
                "CANCELLED",
                "ERROR",
                name="finishreason",
                native_enum=False,
                length=16,
            ),
            nullable=True,
        ),
        sa.Column(
            "usage",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", src.lib.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", src.lib.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["chat_id"], ["chats.id"], name=op.f("fk_messages_chat_id_chats"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["parent_msg_id"],
            ["messages.id"],
            name=op.f("fk_messages_parent_msg_id_messages"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
    )
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_messages_chat_id_created_at"), ["chat_id", "created_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_messages_parent_msg_id"), ["parent_msg_id"], unique=False
        )

    op.create_table(
        "message_feedback",
        sa.Column("message_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column(
            "rating",
            sa.Enum("UP", "DOWN", name="rating", native_enum=False, length=8),
            nullable=False,
        ),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", src.lib.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", src.lib.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["messages.id"],
            name=op.f("fk_message_feedback_message_id_messages"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_message_feedback_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_feedback")),
        sa.UniqueConstraint(
            "message_id", "user_id", name=op.f("uq_message_feedback_message_id_user_id")
        ),
    )
    with op.batch_alter_table("message_feedback", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_message_feedback_user_id"), ["user_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("message_feedback", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_message_feedback_user_id"))

    op.drop_table("message_feedback")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_messages_parent_msg_id"))
        batch_op.drop_index(batch_op.f("ix_messages_chat_id_created_at"))

    op.drop_table("messages")
    with op.batch_alter_table("refresh_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_refresh_tokens_user_id"))
        batch_op.drop_index(batch_op.f("ix_refresh_tokens_family_id"))

    op.drop_table("refresh_tokens")
    with op.batch_alter_table("chats", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_chats_user_id_updated_at"))

    op.drop_table("chats")
    op.drop_table("users")

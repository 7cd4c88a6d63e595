"""Usage records: messages sent, counted for daily allowances, kept when chats are deleted.

Existing user messages are copied in, so allowances carry over the upgrade.

Revision ID: 9620b41fe850
Revises: ab3223561e5f
Create Date: 2026-11-26 07:29:02.240258
"""

from collections.abc import Sequence

import sqlalchemy as sa

import src.lib.db.types
from alembic import op

revision: str = "9620b41fe850"
down_revision: str | None = "ab3223561e5f"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "usage_records",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("created_at", src.lib.db.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_usage_records_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_records")),
    )
    with op.batch_alter_table("usage_records", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_usage_records_user_id_created_at"),
            ["user_id", "created_at"],
            unique=False,
        )

    op.execute(
        "INSERT INTO usage_records (id, user_id, created_at) "
        "SELECT messages.id, chats.user_id, messages.created_at FROM messages "
        "JOIN chats ON chats.id = messages.chat_id WHERE messages.role = 'USER'"
    )


def downgrade() -> None:
    with op.batch_alter_table("usage_records", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_usage_records_user_id_created_at"))

    op.drop_table("usage_records")

"""chats.title_pending: whether the model may still write the chat's title.

True for a chat created without a title (its title is "New chat", or the provisional one taken
from its first message) until the model writes one after its first reply or the owner renames
it. Existing chats keep their titles: false.

Revision ID: 7b1d9e3f5a20
Revises: 7b3d9e1f5a24
Create Date: 2026-12-01 19:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa

from alembic import op

revision: str = "7b1d9e3f5a20"
down_revision: str | None = "7b3d9e1f5a24"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the column, false for the chats there are."""
    op.add_column(
        "chats",
        sa.Column("title_pending", sa.Boolean(), server_default=sa.false(), nullable=False),
    )


def downgrade() -> None:
    """Drop the column (SQLite 3.35 and later drop it in place: no table copy)."""
    op.drop_column("chats", "title_pending")

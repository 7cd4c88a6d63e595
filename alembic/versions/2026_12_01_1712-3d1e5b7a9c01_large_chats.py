"""Large chats: counts kept on chats, one page index, no self-cascade, live replies indexed.

- chats.message_count, filled from the existing messages and then kept by a trigger on every
  insert into messages (a statement-level trigger on PostgreSQL), so that no read counts rows.
- messages (chat_id, created_at, id) replaces (chat_id, created_at): a page, or the newest
  message, of each chat is read in index order and stops at its LIMIT.
- messages.parent_msg_id loses ON DELETE CASCADE: a chat's messages go all at once with their
  chat, while the cascade along a chain recursed once per message (SQLite stops at 1,000).
- A partial index on (chat_id, updated_at) of STREAMING replies only, for the live-reply count
  at every chatStream start and for the orphan check.

On SQLite the foreign key change rebuilds the messages table (Alembic's batch mode). Its DROP
TABLE would delete every row first, running the foreign key actions (feedback would cascade
away), so foreign keys are off meanwhile and checked once the table is back.

Revision ID: 3d1e5b7a9c01
Revises: 9620b41fe850
Create Date: 2026-12-01 17:12:47.469943
"""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import sqlalchemy as sa

from alembic import op

revision: str = "3d1e5b7a9c01"
down_revision: str | None = "9620b41fe850"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STREAMING = sa.text("status = 'STREAMING'")

SQLITE_COUNT_TRIGGER = """
CREATE TRIGGER messages_count_in_chat AFTER INSERT ON messages
BEGIN
    UPDATE chats SET message_count = message_count + 1 WHERE id = NEW.chat_id;
END
"""
POSTGRESQL_COUNT_FUNCTION = """
CREATE FUNCTION messages_count_in_chat() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE chats SET message_count = chats.message_count + added.count
    FROM (SELECT chat_id, count(*) AS count FROM new_messages GROUP BY chat_id) AS added
    WHERE chats.id = added.chat_id;
    RETURN NULL;
END
$$
"""
POSTGRESQL_COUNT_TRIGGER = """
CREATE TRIGGER messages_count_in_chat AFTER INSERT ON messages
REFERENCING NEW TABLE AS new_messages
FOR EACH STATEMENT EXECUTE FUNCTION messages_count_in_chat()
"""


def _on_sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


@contextmanager
def _sqlite_foreign_keys_off() -> Iterator[None]:
    """Foreign keys off on SQLite while the block rebuilds tables, then checked and back on.

    The pragma has no effect inside a transaction: it is set between two (autocommit).
    """
    if not _on_sqlite():
        yield
        return
    with op.get_context().autocommit_block():
        op.execute("PRAGMA foreign_keys=OFF")
    yield
    broken = op.get_bind().exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise RuntimeError(f"foreign keys broken by the migration: {broken[:5]}")
    with op.get_context().autocommit_block():
        op.execute("PRAGMA foreign_keys=ON")


def _parent_foreign_key(ondelete: str | None) -> None:
    with op.batch_alter_table("messages") as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_messages_parent_msg_id_messages"), type_="foreignkey"
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_messages_parent_msg_id_messages"),
            "messages",
            ["parent_msg_id"],
            ["id"],
            ondelete=ondelete,
        )


def upgrade() -> None:
    with _sqlite_foreign_keys_off():
        _parent_foreign_key(ondelete=None)
    op.drop_index(op.f("ix_messages_chat_id_created_at"), table_name="messages")
    op.create_index(
        op.f("ix_messages_chat_id_created_at_id"), "messages", ["chat_id", "created_at", "id"]
    )
    op.create_index(
        "ix_messages_streaming_chat_id_updated_at",
        "messages",
        ["chat_id", "updated_at"],
        postgresql_where=STREAMING,
        sqlite_where=STREAMING,
    )

    op.add_column(
        "chats",
        sa.Column("message_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
    )
    op.execute(
        "UPDATE chats SET message_count = "
        "(SELECT count(*) FROM messages WHERE messages.chat_id = chats.id)"
    )
    if _on_sqlite():
        op.execute(SQLITE_COUNT_TRIGGER)
    else:
        op.execute(POSTGRESQL_COUNT_FUNCTION)
        op.execute(POSTGRESQL_COUNT_TRIGGER)


def downgrade() -> None:
    op.execute("DROP TRIGGER messages_count_in_chat" + ("" if _on_sqlite() else " ON messages"))
    if not _on_sqlite():
        op.execute("DROP FUNCTION messages_count_in_chat()")
    with _sqlite_foreign_keys_off():
        with op.batch_alter_table("chats") as batch_op:
            batch_op.drop_column("message_count")
        op.drop_index(
            "ix_messages_streaming_chat_id_updated_at",
            table_name="messages",
            postgresql_where=STREAMING,
            sqlite_where=STREAMING,
        )
        op.drop_index(op.f("ix_messages_chat_id_created_at_id"), table_name="messages")
        op.create_index(
            op.f("ix_messages_chat_id_created_at"), "messages", ["chat_id", "created_at"]
        )
        _parent_foreign_key(ondelete="CASCADE")

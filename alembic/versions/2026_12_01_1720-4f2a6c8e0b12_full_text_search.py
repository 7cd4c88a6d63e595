"""Full-text search of message text, kept in step by the database; existing rows indexed.

- SQLite: `messages_fts`, an external-content FTS5 table over `messages.text` (its rowids are
  the messages' rowids), filled by triggers after every INSERT, DELETE (cascades included) and
  UPDATE of the text, then rebuilt from the rows already there. A later migration that
  recreates `messages` (a batch "move and copy") must recreate the triggers and rebuild it.
- PostgreSQL: `messages.search_vector`, a stored generated tsvector (`'simple'` config, no
  stemming: the text with every run of non-alphanumeric characters made a space, so that words
  split as in SQLite), computed for the existing rows when the column is added, with a GIN index.

The models do not declare these objects; `src.lib.db.fulltext.include_name` keeps them out of
autogenerate. Self-contained: the DDL is written here, not imported.

Revision ID: 4f2a6c8e0b12
Revises: 3d1e5b7a9c01
Create Date: 2026-12-01 17:00:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "4f2a6c8e0b12"
down_revision: str | None = "3d1e5b7a9c01"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_UPGRADE = [
    "CREATE VIRTUAL TABLE messages_fts USING fts5("
    "text, content='messages', content_rowid='rowid', "
    "tokenize='unicode61 remove_diacritics 0')",
    "CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN "
    "INSERT INTO messages_fts (rowid, text) VALUES (new.rowid, new.text); "
    "END",
    "CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN "
    "INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.rowid, old.text); "
    "END",
    "CREATE TRIGGER messages_fts_update AFTER UPDATE OF text ON messages "
    "WHEN old.text IS NOT new.text BEGIN "
    "INSERT INTO messages_fts (messages_fts, rowid, text) VALUES ('delete', old.rowid, old.text); "
    "INSERT INTO messages_fts (rowid, text) VALUES (new.rowid, new.text); "
    "END",
    "INSERT INTO messages_fts (messages_fts) VALUES ('rebuild')",
]
SQLITE_DOWNGRADE = [
    "DROP TRIGGER messages_fts_update",
    "DROP TRIGGER messages_fts_delete",
    "DROP TRIGGER messages_fts_insert",
    "DROP TABLE messages_fts",
]
POSTGRESQL_UPGRADE = [
    "ALTER TABLE messages ADD COLUMN search_vector tsvector GENERATED ALWAYS AS "
    "(to_tsvector('simple'::regconfig, regexp_replace(text, '[^[:alnum:]]+', ' ', 'g'))) STORED",
    "CREATE INDEX ix_messages_search_vector ON messages USING gin (search_vector)",
    "ANALYZE messages",
]
POSTGRESQL_DOWNGRADE = [
    "DROP INDEX ix_messages_search_vector",
    "ALTER TABLE messages DROP COLUMN search_vector",
]


def _run(statements: dict[str, list[str]]) -> None:
    for statement in statements[op.get_bind().dialect.name]:
        op.execute(statement)


def upgrade() -> None:
    _run({"sqlite": SQLITE_UPGRADE, "postgresql": POSTGRESQL_UPGRADE})


def downgrade() -> None:
    _run({"sqlite": SQLITE_DOWNGRADE, "postgresql": POSTGRESQL_DOWNGRADE})

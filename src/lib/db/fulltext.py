"""The full-text index of message text: one interface over SQLite FTS5 and PostgreSQL.

- SQLite: `messages_fts`, an external-content FTS5 table over `messages.text` (tokenizer
  `unicode61 remove_diacritics 0`), kept in step by triggers on `messages`.
- PostgreSQL: `messages.search_vector`, a stored generated tsvector of the text with every run
  of characters other than letters and digits replaced by a space (`to_tsvector('simple', ...)`,
  so words split as in SQLite: `main.py` is `main` and `py`), with a GIN index.

Migration 4f2a6c8e0b12 creates them, and the database keeps them in step with every write
(ORM inserts, Core UPDATEs of replies, imports, deletes and cascades). A word is what
`src.lib.words` calls one; terms are matched as whole words, all of them in one message.

Offers:
- matching: a condition on `messages`: the text holds every term.
- ranked: (message id, score) of the matching messages; a higher score is a better match
  (-bm25 on SQLite, ts_rank normalised by length on PostgreSQL).
- fts5_query: terms quoted for FTS5 MATCH (its operators and syntax become plain words).
- include_name: Alembic's hook that keeps these objects, which the models cannot declare, out
  of autogenerate's comparison.
"""

import uuid
from collections.abc import Mapping, Sequence

from sqlalchemy import ColumnElement, Float, Select, column, func, literal_column, select, table
from sqlalchemy.ext.asyncio import AsyncSession

from src.lib.db.models import Message

FTS_TABLE = "messages_fts"
SEARCH_VECTOR = "search_vector"
SEARCH_INDEX = "ix_messages_search_vector"

_fts = table(FTS_TABLE, column("rowid"), column(FTS_TABLE), column("rank", Float))
_rowid: ColumnElement[int] = literal_column("messages.rowid")
_vector: ColumnElement[object] = literal_column(f"messages.{SEARCH_VECTOR}")
_RANK_BY_LENGTH = 1  # ts_rank normalisation: divide by 1 + log(number of words)


def fts5_query(terms: Sequence[str]) -> str:
    """An FTS5 MATCH expression requiring every term, each a quoted string."""
    return " ".join('"' + term.replace('"', '""') + '"' for term in terms)


def _tsquery(terms: Sequence[str]) -> ColumnElement[object]:
    return func.plainto_tsquery(literal_column("'simple'"), " ".join(terms))


def _fts_match(terms: Sequence[str]) -> ColumnElement[bool]:
    return _fts.c[FTS_TABLE].match(fts5_query(terms))


def _on_sqlite(db: AsyncSession) -> bool:
    return db.get_bind().dialect.name == "sqlite"


def matching(db: AsyncSession, terms: Sequence[str]) -> ColumnElement[bool]:
    """A condition on `messages`: its text holds every term.

    Args:
        db: The session the statement is for (its dialect picks the index).
        terms: At least one word, as `src.lib.words.search_terms` makes them.
    """
    if _on_sqlite(db):
        return _rowid.in_(select(_fts.c.rowid).where(_fts_match(terms)))
    return _vector.bool_op("@@")(_tsquery(terms))


def ranked(db: AsyncSession, terms: Sequence[str]) -> Select[tuple[uuid.UUID, float]]:
    """(id, score) of every message whose text holds every term; higher scores rank first.

    Args:
        db: The session the statement is for (its dialect picks the index).
        terms: At least one word, as `src.lib.words.search_terms` makes them.
    """
    if _on_sqlite(db):
        return (
            select(Message.id, (-_fts.c.rank).label("score"))
            .select_from(_fts)
            .join(Message, _rowid == _fts.c.rowid)
            .where(_fts_match(terms))
        )
    score = func.ts_rank(_vector, _tsquery(terms), _RANK_BY_LENGTH, type_=Float)
    return select(Message.id, score.label("score")).where(matching(db, terms))


def include_name(name: str | None, type_: str, parent_names: Mapping[str, str | None]) -> bool:
    """Alembic `include_name` hook: False for the full-text objects, True for the rest."""
    if type_ == "table":
        return not (name == FTS_TABLE or (name or "").startswith(f"{FTS_TABLE}_"))
    return not (type_ == "column" and name == SEARCH_VECTOR) and not (
        type_ == "index" and name == SEARCH_INDEX
    )

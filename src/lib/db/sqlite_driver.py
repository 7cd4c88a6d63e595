"""aiosqlite connections that run each statement in one hand-off to their thread.

Offers `connect`: an async creator for SQLAlchemy (`create_async_engine(async_creator=...)`).

aiosqlite runs every sqlite3 call on a thread of its own; each call is a queue hand-off to that
thread and a wake-up of the event loop when it is done. SQLAlchemy's aiosqlite adapter makes
four such calls per statement (open a cursor, execute, fetch the rows, close the cursor), and
on a reply's start those hand-offs, not SQLite, were the largest cost of the database work.
Here the cursor is a plain object: `execute` opens, runs, fetches and closes the sqlite3
cursor in one call on the thread, and the rest answers from what that call kept.
"""

import sqlite3
from collections.abc import Iterable, Sequence
from functools import partial
from typing import Any

import aiosqlite

type Row = tuple[Any, ...]
type Description = tuple[tuple[Any, ...], ...] | None


def _run(
    connection: sqlite3.Connection, sql: str, parameters: Any, many: bool
) -> tuple[Description, int, int | None, list[Row]]:
    """Run a statement on the connection's thread: (description, rowcount, lastrowid, rows)."""
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(sql, parameters)
        else:
            cursor.execute(sql, parameters)
        rows = cursor.fetchall() if cursor.description else []
        return cursor.description, cursor.rowcount, cursor.lastrowid, rows
    finally:
        cursor.close()


class _Cursor:
    """The part of aiosqlite's cursor that SQLAlchemy uses, one hand-off per statement."""

    arraysize = 1

    def __init__(self, connection: "OneHopConnection") -> None:
        self._connection = connection
        self.description: Description = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self._rows: list[Row] = []

    async def __aenter__(self) -> "_Cursor":
        return self

    async def execute(self, sql: str, parameters: Sequence[Any] = ()) -> "_Cursor":
        """Run one statement and keep its rows."""
        return await self._run(sql, parameters, many=False)

    async def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> "_Cursor":
        """Run one statement for each set of parameters."""
        return await self._run(sql, parameters, many=True)

    async def fetchall(self) -> list[Row]:
        """The rows not fetched yet."""
        rows, self._rows = self._rows, []
        return rows

    async def fetchmany(self, size: int | None = None) -> list[Row]:
        """The next `size` rows (`arraysize` by default)."""
        count = self.arraysize if size is None else size
        rows, self._rows = self._rows[:count], self._rows[count:]
        return rows

    async def fetchone(self) -> Row | None:
        """The next row, if any."""
        return self._rows.pop(0) if self._rows else None

    async def close(self) -> None:
        """Nothing to release: the sqlite3 cursor was closed after its statement."""
        self._rows = []

    async def _run(self, sql: str, parameters: Any, many: bool) -> "_Cursor":
        connection = self._connection
        execute: Any = connection._execute  # unannotated in aiosqlite
        self.description, self.rowcount, self.lastrowid, self._rows = await execute(
            _run, connection._conn, sql, parameters, many
        )
        return self


class OneHopConnection(aiosqlite.Connection):
    """An aiosqlite connection whose cursors run each statement in one hand-off.

    A commit or rollback with no transaction open (pysqlite opens one at the first write)
    makes no hand-off at all: SQLAlchemy rolls back every connection it gets back, and most
    units of work only read.
    """

    def cursor(self) -> _Cursor:  # type: ignore[override]  # a plain object, no hand-off
        """A cursor (nothing runs until its first `execute`)."""
        return _Cursor(self)

    @property
    def in_transaction(self) -> bool:
        """Whether a transaction is open: this connection has written since its last commit.

        SQLite then holds the database's write lock for it.
        """
        return self._conn.in_transaction

    async def commit(self) -> None:
        """Commit the open transaction, if any."""
        if self.in_transaction:
            await super().commit()

    async def rollback(self) -> None:
        """Roll back the open transaction, if any."""
        if self.in_transaction:
            await super().rollback()


async def connect(database: str, lock_wait_seconds: float) -> OneHopConnection:
    """An open connection to a SQLite file; a write waits that long for a lock."""
    connection = OneHopConnection(
        # read from the event loop's thread too (`in_transaction`), used from one at a time
        partial(sqlite3.connect, database, timeout=lock_wait_seconds, check_same_thread=False),
        iter_chunk_size=64,
    )
    connection._thread.daemon = True  # as SQLAlchemy's own aiosqlite connect does
    await connection
    return connection

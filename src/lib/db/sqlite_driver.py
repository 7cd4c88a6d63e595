"""aiosqlite connections whose statements run on the event loop, writers one at a time.

Offers `connect`: an async creator for SQLAlchemy (`create_async_engine(async_creator=...)`),
and `WriteGate`: the writers of one engine, one at a time.

aiosqlite runs every sqlite3 call on a thread of its own: a queue hand-off to that thread and
a wake-up of the event loop when it is done. On this kind of machine the hand-off costs about
200 µs of CPU, where the statements of a reply (reads and writes by key) take 5-50 µs; it was
the largest cost of a reply's database work. So here a statement runs on the event loop:
- a read (a SELECT, or a WITH that writes nothing) runs there within READ_BUDGET_SECONDS;
  one that takes longer (a search over many chats, the walk of a long thread) is
  interrupted, which changes nothing, and run again on the connection's thread, so that it
  does not hold up every other stream;
- a write of one row, or a few, runs there too; a batch of more rows (the partial saves of all
  running replies) and a DELETE (a chat's messages, the purge of idle guests: any number of
  rows) run on the thread, and so does the commit of their transaction;
- a write waits, without blocking the loop, for the `WriteGate` of its engine: the
  transactions that write go one at a time in a process, as SQLite runs them anyway, and none
  waits on SQLite's busy handler (which would block the loop, and with it the transaction
  holding the lock). Another process's lock is waited for with short asynchronous sleeps,
  up to the lock wait given to `connect`.
The cursor is a plain object: `execute` opens, runs, fetches and closes the sqlite3 cursor in
one call, and the rest answers from what that call kept.
"""

import asyncio
import re
import sqlite3
import time
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from typing import Any

import aiosqlite

type Row = tuple[Any, ...]
type Description = tuple[tuple[Any, ...], ...] | None
type Outcome = tuple[Description, int, int | None, list[Row]]

READ_BUDGET_SECONDS = 0.002
"""A read taking longer than this on the event loop goes on to the connection's thread."""
INLINE_MAX_ROWS = 8
"""A batch of more rows than this is written on the connection's thread."""
PROGRESS_STEPS = 1000
"""SQLite virtual machine steps between two checks of the read budget."""
FIRST_RETRY_SECONDS = 0.001
MAX_RETRY_SECONDS = 0.05
_WRITES = re.compile(r"\b(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)


class WriteGate:
    """The connections of one database that may write: one transaction at a time.

    A connection passes the gate before the first write of a transaction, and gives it back
    when the transaction ends (see `InlineConnection`).
    """

    def __init__(self) -> None:
        self._locks: dict[asyncio.AbstractEventLoop, asyncio.Lock] = {}

    def lock(self) -> asyncio.Lock:
        """The gate's lock for the running event loop."""
        loop = asyncio.get_running_loop()
        lock = self._locks.get(loop)
        if lock is None:
            self._locks = {
                known: held for known, held in self._locks.items() if not known.is_closed()
            }
            lock = self._locks[loop] = asyncio.Lock()
        return lock


def _run(connection: sqlite3.Connection, sql: str, parameters: Any, many: bool) -> Outcome:
    """Run a statement: (description, rowcount, lastrowid, rows)."""
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


def _first_word(sql: str) -> str:
    return sql.lstrip()[:7].upper()


def _is_read(sql: str) -> bool:
    """A SELECT, or a WITH that writes nothing (a recursive walk of a chat's messages)."""
    first = _first_word(sql)
    return first.startswith("SELECT") or (first.startswith("WITH") and not _WRITES.search(sql))


def _is_delete(sql: str) -> bool:
    return _first_word(sql).startswith("DELETE")


def _may_write(sql: str) -> bool:
    """Whether the statement may write rows (pysqlite then opens a transaction first)."""
    return _first_word(sql).startswith(("INSERT", "UPDATE", "DELETE", "REPLACE", "WITH"))


def _is_busy(error: sqlite3.OperationalError) -> bool:
    """Another connection holds the lock, and waiting may help (not a stale snapshot)."""
    code = error.sqlite_errorcode
    return code & 0xFF == sqlite3.SQLITE_BUSY and code != sqlite3.SQLITE_BUSY_SNAPSHOT


class _Cursor:
    """The part of aiosqlite's cursor that SQLAlchemy uses; each statement in one call."""

    arraysize = 1

    def __init__(self, connection: "InlineConnection") -> None:
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
        return await self._run(sql, list(parameters), many=True)

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
        outcome = await self._connection.run(sql, parameters, many)
        self.description, self.rowcount, self.lastrowid, self._rows = outcome
        return self


class InlineConnection(aiosqlite.Connection):
    """An aiosqlite connection that runs its statements on the event loop (module docstring).

    A commit or rollback with no transaction open (pysqlite opens one at the first write)
    does nothing: SQLAlchemy rolls back every connection it gets back, and most units of work
    only read.
    """

    def __init__(self, connector: Any, gate: WriteGate, lock_wait_seconds: float) -> None:
        super().__init__(connector, iter_chunk_size=64)
        self._gate = gate
        self._lock_wait_seconds = lock_wait_seconds
        self._holds_gate: asyncio.Lock | None = None
        self._read_deadline = float("inf")
        self._batched = False
        """The open transaction wrote on the thread (a batch, a delete): it ends there too."""

    def cursor(self) -> _Cursor:  # type: ignore[override]  # a plain object, no hand-off
        """A cursor (nothing runs until its first `execute`)."""
        return _Cursor(self)

    @property
    def in_transaction(self) -> bool:
        """Whether a transaction is open: this connection has written since its last commit.

        SQLite then holds the database's write lock for it.
        """
        return self._conn.in_transaction

    def watch_reads(self) -> None:
        """Let reads on the event loop be interrupted past their budget (once, at connect)."""
        self._conn.set_progress_handler(self._past_budget, PROGRESS_STEPS)

    async def run(self, sql: str, parameters: Any, many: bool) -> Outcome:
        """Run a statement where its kind runs (module docstring)."""
        if _is_read(sql) and not many:
            return await self.read(sql, parameters)
        if _may_write(sql):
            return await self.write(sql, parameters, many)
        # PRAGMA, DDL, SAVEPOINT...: no gate (DDL takes SQLite's lock for itself)
        return await self.retrying_busy(partial(_run, self._conn, sql, parameters, many))

    async def read(self, sql: str, parameters: Any) -> Outcome:
        """A read, on the event loop within its budget, else on the connection's thread."""
        try:
            return await self.retrying_busy(partial(self._read_within_budget, sql, parameters))
        except sqlite3.OperationalError as error:
            if error.sqlite_errorcode != sqlite3.SQLITE_INTERRUPT:
                raise
        execute: Any = self._execute  # unannotated in aiosqlite
        outcome: Outcome = await execute(_run, self._conn, sql, parameters, False)
        return outcome

    async def write(self, sql: str, parameters: Any, many: bool) -> Outcome:
        """A statement that may write, once this connection holds the gate."""
        if self._holds_gate is None:
            lock = self._gate.lock()
            if lock.locked():
                try:
                    await asyncio.wait_for(lock.acquire(), self._lock_wait_seconds)
                except TimeoutError:
                    raise sqlite3.OperationalError("database is locked") from None
            else:
                await lock.acquire()  # at once
            self._holds_gate = lock
        on_thread = (many and len(parameters) > INLINE_MAX_ROWS) or _is_delete(sql)
        self._batched |= on_thread
        try:
            return await self.retrying_busy(
                partial(_run, self._conn, sql, parameters, many), on_thread
            )
        finally:
            self._release_unless_writing()

    async def commit(self) -> None:
        """Commit the open transaction, if any."""
        if self.in_transaction:
            try:
                await self.retrying_busy(self._conn.commit, self._batched)
            finally:
                self._release_unless_writing()

    async def rollback(self) -> None:
        """Roll back the open transaction, if any."""
        if self.in_transaction:
            try:
                await self.retrying_busy(self._conn.rollback, self._batched)
            finally:
                self._release_unless_writing()

    def stop(self) -> asyncio.Future[Any] | None:
        """Close the connection and its thread (`close` ends here too), giving the gate back."""
        self._release_unless_writing(closed=True)
        return super().stop()

    async def retrying_busy[T](self, call: Callable[[], T], on_thread: bool = False) -> T:
        """`call()`, on the connection's thread if asked; again while another process locks."""
        give_up_at = time.monotonic() + self._lock_wait_seconds
        delay = FIRST_RETRY_SECONDS
        execute: Any = self._execute  # unannotated in aiosqlite
        while True:
            try:
                return await execute(call) if on_thread else call()
            except sqlite3.OperationalError as error:
                if not _is_busy(error) or time.monotonic() + delay > give_up_at:
                    raise
            await asyncio.sleep(delay)
            delay = min(2 * delay, MAX_RETRY_SECONDS)

    def _read_within_budget(self, sql: str, parameters: Any) -> Outcome:
        self._read_deadline = time.perf_counter() + READ_BUDGET_SECONDS
        try:
            return _run(self._conn, sql, parameters, False)
        finally:
            self._read_deadline = float("inf")

    def _past_budget(self) -> bool:
        return time.perf_counter() > self._read_deadline

    def _release_unless_writing(self, closed: bool = False) -> None:
        """Give the gate back once no transaction is open."""
        if not closed and self._conn.in_transaction:
            return
        self._batched = False
        if self._holds_gate is not None:
            self._holds_gate.release()
            self._holds_gate = None


async def connect(database: str, lock_wait_seconds: float, gate: WriteGate) -> InlineConnection:
    """An open connection to a SQLite file; a write waits that long for a lock.

    SQLite's own busy handler is off (it would block the event loop): see the module docstring.
    """
    connection = InlineConnection(
        # used from the event loop's thread and from its own, one at a time
        partial(sqlite3.connect, database, timeout=0, check_same_thread=False),
        gate,
        lock_wait_seconds,
    )
    connection._thread.daemon = True  # as SQLAlchemy's own aiosqlite connect does
    await connection
    connection.watch_reads()
    return connection

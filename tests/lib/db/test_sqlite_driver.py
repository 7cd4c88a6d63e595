"""SQLite on the event loop: long reads go to the thread, writers wait without blocking it."""

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator
from contextlib import closing
from pathlib import Path

import pytest

from src.lib.db import sqlite_driver
from src.lib.db.sqlite_driver import InlineConnection, WriteGate
from tests.helpers import wait_until

LOCK_WAIT = 5.0
HEAVY_READ = "SELECT (SELECT count(*) FROM n a, n b, n c), thread()"
"""A read of a million rows (of three 100-row tables joined): well past the read budget."""


@pytest.fixture
def database(tmp_path: Path) -> str:
    """A SQLite file in WAL mode with a table `n` of 100 rows and an empty table `t`."""
    path = str(tmp_path / "driver.db")
    with closing(sqlite3.connect(path)) as setup, setup:
        setup.execute("PRAGMA journal_mode=WAL")
        setup.execute("CREATE TABLE n (i INTEGER)")
        setup.executemany("INSERT INTO n VALUES (?)", [(i,) for i in range(100)])
        setup.execute("CREATE TABLE t (i INTEGER)")
    return path


@pytest.fixture
async def gate_connections(database: str) -> AsyncIterator[list[InlineConnection]]:
    """Two connections to the database sharing one write gate, as one engine's do."""
    gate = WriteGate()
    connections = [await sqlite_driver.connect(database, LOCK_WAIT, gate) for _ in range(2)]
    for connection in connections:
        await connection.create_function("thread", 0, threading.get_ident)
    yield connections
    for connection in connections:
        await connection.close()


async def _one(connection: InlineConnection, sql: str) -> tuple[object, ...]:
    cursor = connection.cursor()
    await cursor.execute(sql)
    row = await cursor.fetchone()
    assert row is not None
    return row


async def _insert(connection: InlineConnection, value: int) -> None:
    await connection.cursor().execute("INSERT INTO t VALUES (?)", (value,))


async def test_a_short_read_runs_on_the_event_loop_and_a_long_one_on_the_thread(
    gate_connections: list[InlineConnection],
) -> None:
    connection = gate_connections[0]

    count, short_thread = await _one(connection, "SELECT count(*), thread() FROM n")
    joined, long_thread = await _one(connection, HEAVY_READ)

    assert (count, joined) == (100, 100**3)
    assert short_thread == threading.get_ident()
    assert long_thread not in {threading.get_ident(), None}


async def test_a_writer_waits_for_the_transaction_that_writes_while_the_loop_goes_on(
    gate_connections: list[InlineConnection],
) -> None:
    first, second = gate_connections
    await _insert(first, 1)  # its transaction is open: it holds the gate
    waiting = asyncio.create_task(_insert(second, 2))
    ticks = 0
    while ticks < 20:  # the loop is not blocked while the second writer waits
        await asyncio.sleep(0.005)
        ticks += 1
    assert not waiting.done()

    await first.commit()
    await waiting
    await second.commit()

    assert await _one(first, "SELECT group_concat(i) FROM t") == ("1,2",)


async def test_closing_a_connection_that_writes_lets_the_next_writer_in(
    gate_connections: list[InlineConnection],
) -> None:
    first, second = gate_connections
    await _insert(first, 1)
    waiting = asyncio.create_task(_insert(second, 2))
    await asyncio.sleep(0.01)
    assert not waiting.done()

    await first.close()  # its transaction is rolled back
    await asyncio.wait_for(waiting, LOCK_WAIT)
    await second.commit()

    assert await _one(second, "SELECT group_concat(i) FROM t") == ("2",)


async def test_another_process_lock_is_waited_for_without_blocking_the_loop(
    database: str,
) -> None:
    other = sqlite3.connect(database, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")  # another process's writer, as far as the driver knows
    connection = await sqlite_driver.connect(database, LOCK_WAIT, WriteGate())
    try:
        waiting = asyncio.create_task(_insert(connection, 3))
        beats = 0

        async def beat() -> bool:
            nonlocal beats
            beats += 1
            return beats >= 10

        await wait_until(beat)  # the loop runs other work meanwhile
        assert not waiting.done()
        other.execute("COMMIT")
        await asyncio.wait_for(waiting, LOCK_WAIT)
        await connection.commit()
        assert await _one(connection, "SELECT count(*) FROM t") == (1,)
    finally:
        other.close()
        await connection.close()


async def test_a_lock_held_past_the_wait_fails_the_write_as_locked(database: str) -> None:
    other = sqlite3.connect(database, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    connection = await sqlite_driver.connect(database, 0.2, WriteGate())
    try:
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            await _insert(connection, 4)
        await connection.rollback()
        other.execute("COMMIT")
        await _insert(connection, 5)  # the gate was given back with the failed transaction
        await connection.commit()
    finally:
        other.close()
        await connection.close()


async def test_a_large_batch_is_written_on_the_thread_and_a_small_one_on_the_loop(
    gate_connections: list[InlineConnection],
) -> None:
    connection = gate_connections[0]
    small, large = 2, sqlite_driver.INLINE_MAX_ROWS + 1
    insert = "INSERT INTO t VALUES (thread() + ?)"  # the thread's id, plus 0 (small) or 1

    await connection.cursor().executemany(insert, [(0,)] * small)
    await connection.cursor().executemany(insert, [(1,)] * large)
    await connection.commit()

    cursor = connection.cursor()
    await cursor.execute("SELECT i % 2, i - i % 2, count(*) FROM t GROUP BY 1, 2 ORDER BY 1")
    rows = await cursor.fetchall()
    loop_thread = threading.get_ident()
    assert [(batch, count) for batch, _, count in rows] == [(0, small), (1, large)]
    assert rows[0][1] == loop_thread - loop_thread % 2
    assert rows[1][1] != loop_thread - loop_thread % 2


async def test_a_delete_runs_on_the_thread(gate_connections: list[InlineConnection]) -> None:
    connection = gate_connections[0]
    cursor = connection.cursor()
    await cursor.execute("CREATE TABLE deleted_on (thread INTEGER)")
    await cursor.execute(
        "CREATE TRIGGER t_deleted AFTER DELETE ON t BEGIN"
        " INSERT INTO deleted_on VALUES (thread()); END"
    )
    await _insert(connection, 1)
    await connection.commit()

    await cursor.execute("DELETE FROM t")
    await connection.commit()

    (thread,) = await _one(connection, "SELECT thread FROM deleted_on")
    assert thread not in {threading.get_ident(), None}
    assert await _one(connection, "SELECT count(*) FROM t") == (0,)


async def test_a_long_recursive_read_goes_to_the_thread_without_the_gate(
    gate_connections: list[InlineConnection],
) -> None:
    first, second = gate_connections
    await _insert(first, 1)  # holds the gate: a read must not wait for it
    walk = (
        "WITH RECURSIVE walk(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM walk WHERE i < 300000)"
        " SELECT count(*), thread() FROM walk"
    )

    count, thread = await asyncio.wait_for(_one(second, walk), LOCK_WAIT)
    await first.rollback()

    assert count == 300000
    assert thread not in {threading.get_ident(), None}


async def test_a_long_read_interrupted_inside_a_transaction_leaves_the_transaction_whole(
    gate_connections: list[InlineConnection],
) -> None:
    connection = gate_connections[0]
    await _insert(connection, 7)

    joined, _ = await _one(connection, HEAVY_READ)  # interrupted on the loop, run on the thread
    await _insert(connection, 8)
    await connection.commit()

    assert joined == 100**3
    assert await _one(gate_connections[1], "SELECT group_concat(i) FROM t") == ("7,8",)

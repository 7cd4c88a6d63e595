"""Engine and session factory; SQLite gets foreign keys, WAL, a busy timeout and Unicode lower().

Engines never show statement parameters (emails, password hashes, message text) in their
echo log or in the text of their errors (`hide_parameters`).

A pooled PostgreSQL connection is checked before each use without a round trip: one the server
has closed (a restart, or its backend terminated) is replaced; only one idle for
`PING_IDLE_SECONDS` is pinged first (see `_check_liveness`).

A unit of work runs in an ORM session, or, on the hot path of a reply start, in a Core
connection of the same engine (`engine_of(factory).begin()`): no identity map, no flush, rows
as tuples. Repository steps that only run statements take either (`Database`).
"""

import time
from functools import partial
from pathlib import Path
from typing import Any

from sqlalchemy import event, exc, make_url
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection

from src.lib.db import sqlite_driver

POOL_WAIT_SECONDS = 90
"""How long a unit of work waits for a PostgreSQL connection before it fails."""

PING_IDLE_SECONDS = 30.0
"""A pooled PostgreSQL connection idle this long is pinged before it is used again."""

SQLITE_LOCK_WAIT_SECONDS = 10.0
"""How long a write to SQLite waits for the database's write lock before it fails."""

_IDLE_SINCE = "idle_since"

SessionFactory = async_sessionmaker[AsyncSession]

type Database = AsyncSession | AsyncConnection
"""Where a repository's Core statements run: an ORM session, or a Core connection."""


def engine_of(factory: SessionFactory) -> AsyncEngine:
    """The engine a session factory's sessions are bound to."""
    engine: AsyncEngine = factory.kw["bind"]
    return engine


def dialect_name(db: Database) -> str:
    """The name of the database's dialect: "postgresql" or "sqlite"."""
    if isinstance(db, AsyncConnection):
        return db.dialect.name
    return db.get_bind().dialect.name


def _unicode_lower(value: str | None) -> str | None:
    """SQL lower() with Unicode case rules (SQLite's own folds only A to Z)."""
    return value.lower() if value is not None else None


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.create_function("lower", 1, _unicode_lower, deterministic=True)
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")  # WAL: durable at checkpoints, never corrupt
    cursor.close()


def _mark_idle(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
    record.info[_IDLE_SINCE] = time.monotonic()


def _check_liveness(
    dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: PoolProxiedConnection
) -> None:
    """Hand out a pooled PostgreSQL connection only while it is alive.

    The check that `pool_pre_ping` makes costs three round trips (BEGIN, a query, ROLLBACK) on
    every checkout. Here a connection the server closed is already known closed to asyncpg,
    which read the server's goodbye: it is replaced with no round trip at all. A connection
    idle for `PING_IDLE_SECONDS` (whose peer may have gone away without a word) is pinged;
    when the ping fails, the whole pool is replaced, as `pool_pre_ping` does.

    Raises:
        DisconnectionError: The pool then connects anew (and retries the checkout).
    """
    idle_since = record.info.pop(_IDLE_SINCE, None)
    asyncpg_connection: Any = record.driver_connection
    if asyncpg_connection.is_closed():
        raise exc.DisconnectionError("the server closed the connection")
    if idle_since is None or time.monotonic() - idle_since < PING_IDLE_SECONDS:
        return
    try:
        dbapi_connection.ping()
    except Exception as error:  # any failure: the connection cannot be trusted
        raise exc.InvalidatePoolError("the idle connection did not answer") from error


def create_engine(url: str, echo: bool = False) -> AsyncEngine:
    """An async engine for the URL (sqlite+aiosqlite, its folder made, or postgresql+asyncpg)."""
    if url.startswith("sqlite"):
        database = make_url(url).database or ":memory:"
        pool: dict[str, int] = {}
        if database != ":memory:":  # (one connection, one database in memory)
            Path(database).parent.mkdir(parents=True, exist_ok=True)
            # as many connections as the default pool and its overflow, all kept: each new one
            # costs a thread, a connect and its pragmas
            pool = {"pool_size": 15, "max_overflow": 0}
        engine = create_async_engine(
            url,
            echo=echo,
            hide_parameters=True,
            async_creator=partial(
                sqlite_driver.connect, database, SQLITE_LOCK_WAIT_SECONDS, sqlite_driver.WriteGate()
            ),
            **pool,
        )
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    engine = create_async_engine(
        url,
        echo=echo,
        hide_parameters=True,
        pool_size=10,
        max_overflow=20,
        # a burst of reply starts queues for connections (and one user's starts for that
        # user's row, see ReplyAllowance): better a late start than a failed one
        pool_timeout=POOL_WAIT_SECONDS,
    )
    event.listen(engine.sync_engine.pool, "checkin", _mark_idle)
    event.listen(engine.sync_engine.pool, "checkout", _check_liveness)
    return engine


def create_session_factory(engine: AsyncEngine) -> SessionFactory:
    """Sessions that keep loaded attributes after commit (no lazy IO afterwards)."""
    return async_sessionmaker(engine, expire_on_commit=False)

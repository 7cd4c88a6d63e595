"""Pooled PostgreSQL connections: the server's closing is noticed before use, idle ones pinged."""

from collections.abc import AsyncIterator

import asyncpg  # type: ignore[import-untyped]  # asyncpg ships no type hints
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from src.lib.db import session
from src.lib.db.session import create_engine
from tests.conftest import POSTGRES_SERVER
from tests.helpers import wait_until


async def _backend_pid(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        pid = await connection.scalar(text("SELECT pg_backend_pid()"))
    assert isinstance(pid, int)
    return pid


@pytest.fixture
async def postgres_engine(postgres_database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine of its own over a PostgreSQL database (SQLite has no server to restart)."""
    engine = create_engine(postgres_database_url)
    yield engine
    await engine.dispose()


async def test_a_connection_the_server_closed_is_replaced_before_use(
    postgres_engine: AsyncEngine,
) -> None:
    async with postgres_engine.connect() as connection:
        first = await connection.scalar(text("SELECT pg_backend_pid()"))
        pooled = (await connection.get_raw_connection()).driver_connection
    assert pooled is not None
    admin = await asyncpg.connect(f"{POSTGRES_SERVER}/postgres")
    try:
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", first)
    finally:
        await admin.close()
    await wait_until(pooled.is_closed)  # as after a restart: the server said goodbye

    assert await _backend_pid(postgres_engine) != first


async def test_an_idle_connection_that_answers_its_ping_is_kept(
    postgres_engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = await _backend_pid(postgres_engine)
    monkeypatch.setattr(session, "PING_IDLE_SECONDS", 0.0)

    assert await _backend_pid(postgres_engine) == first

"""Repository fixtures: a migrated database of each backend, and a clean state for every test.

Every test that takes `db` or `session_factory` runs twice: on SQLite and on PostgreSQL (see
`database_url` in tests/conftest.py). The schema comes from the migrations, as in production.
After each test every row is deleted, children before parents.
"""

import asyncio
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from src.lib.db import models  # noqa: F401 - every table in Base.metadata
from src.lib.db.base import Base
from src.lib.db.migrate import upgrade_to_head
from src.lib.db.session import SessionFactory, create_engine, create_session_factory


@pytest.fixture(scope="session")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """An engine over the backend's database, migrated to the latest revision."""
    await asyncio.to_thread(upgrade_to_head, database_url)
    database_engine = create_engine(database_url)
    yield database_engine
    await database_engine.dispose()


@pytest.fixture
async def session_factory(engine: AsyncEngine) -> AsyncIterator[SessionFactory]:
    """Sessions over the migrated database; every row is deleted after the test."""
    factory = create_session_factory(engine)
    yield factory
    async with factory.begin() as db:
        for table in reversed(Base.metadata.sorted_tables):
            await db.execute(delete(table))


@pytest.fixture
async def db(session_factory: SessionFactory) -> AsyncIterator[AsyncSession]:
    """One session for the test; what it did not commit is rolled back at the end."""
    async with session_factory() as session:
        yield session

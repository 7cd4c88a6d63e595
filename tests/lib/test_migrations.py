"""Migrations: they match the models, and go down to base and up again, on both backends."""

import asyncio

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect

from alembic import command
from src.lib.db import models  # noqa: F401
from src.lib.db.base import Base
from src.lib.db.migrate import alembic_config, upgrade_to_head
from src.lib.db.session import create_engine

TABLES = {"users", "refresh_tokens", "chats", "messages", "message_feedback"}


def _diff(connection: Connection) -> list[object]:
    return list(compare_metadata(MigrationContext.configure(connection), Base.metadata))


def _tables(connection: Connection) -> set[str]:
    return set(inspect(connection).get_table_names()) - {"alembic_version"}


async def _inspect(url: str) -> tuple[set[str], list[object]]:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(_tables), await connection.run_sync(_diff)
    finally:
        await engine.dispose()


async def test_upgrade_matches_the_models_and_round_trips(empty_database_url: str) -> None:
    await asyncio.to_thread(upgrade_to_head, empty_database_url)
    tables, diff = await _inspect(empty_database_url)
    assert tables == TABLES
    assert diff == []

    await asyncio.to_thread(command.downgrade, alembic_config(empty_database_url), "base")
    assert (await _inspect(empty_database_url))[0] == set()

    await asyncio.to_thread(upgrade_to_head, empty_database_url)
    tables, diff = await _inspect(empty_database_url)
    assert (tables, diff) == (TABLES, [])

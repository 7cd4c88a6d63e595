"""Migration 4f2a6c8e0b12: the full-text index, with the messages already there indexed."""

import asyncio
import uuid
from datetime import UTC, datetime

from sqlalchemy import Connection, inspect, text
from sqlalchemy.ext.asyncio import AsyncEngine

from alembic import command
from src.lib.db import models  # noqa: F401
from src.lib.db.base import Base
from src.lib.db.migrate import alembic_config
from src.lib.db.repositories.message import MessageRepository
from src.lib.db.session import create_engine, create_session_factory

REVISION = "4f2a6c8e0b12"
BEFORE = f"{REVISION}-1"
OBJECTS = {
    "sqlite": {
        "messages_fts",
        "messages_fts_config",
        "messages_fts_data",
        "messages_fts_docsize",
        "messages_fts_idx",
        "messages_fts_insert",
        "messages_fts_delete",
        "messages_fts_update",
    },
    "postgresql": {"search_vector", "ix_messages_search_vector"},
}


def _search_objects(connection: Connection) -> set[str]:
    """The tables, triggers, columns and indexes of the full-text index that exist."""
    inspector = inspect(connection)
    names = set(inspector.get_table_names())
    names |= {column["name"] for column in inspector.get_columns("messages")}
    names |= {str(index["name"]) for index in inspector.get_indexes("messages")}
    if connection.dialect.name == "sqlite":
        triggers = text("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        names |= set(connection.execute(triggers).scalars())
    return {name for name in names if "messages_fts" in name or "search_vector" in name}


async def _add_rows(engine: AsyncEngine, user: uuid.UUID) -> uuid.UUID:
    """A user with a chat and two messages; returns the id of the one about otters."""
    now = datetime.now(UTC)
    chat, otters = uuid.uuid4(), uuid.uuid4()
    tables = Base.metadata.tables
    async with engine.begin() as connection:
        await connection.execute(
            tables["users"]
            .insert()
            .values(id=user, user_type="GUEST", is_active=True, created_at=now, updated_at=now)
        )
        await connection.execute(
            tables["chats"].insert().values(
                id=chat, user_id=user, title="t", visibility="PRIVATE",
                created_at=now, updated_at=now,
            )
        )  # fmt: skip
        for message_id, words in ((otters, "Sea otters hold hands"), (uuid.uuid4(), "Seals")):
            await connection.execute(
                tables["messages"].insert().values(
                    id=message_id, chat_id=chat, role="USER", parts=[], text=words,
                    status="COMPLETE", created_at=now, updated_at=now,
                )
            )  # fmt: skip
    return otters


async def _state(engine: AsyncEngine, user: uuid.UUID) -> tuple[set[str], list[uuid.UUID]]:
    """The full-text objects, and the user's messages found for "otters" (if searchable)."""
    async with engine.connect() as connection:
        objects = await connection.run_sync(_search_objects)
    if not objects:
        return objects, []
    async with create_session_factory(engine)() as db:
        found = await MessageRepository.search_own(db, user, "OTTERS", 10)
    return objects, [message.id for message in found]


async def test_the_migration_indexes_existing_messages_and_goes_down_and_up(
    empty_database_url: str,
) -> None:
    config = alembic_config(empty_database_url)
    await asyncio.to_thread(command.upgrade, config, BEFORE)
    engine = create_engine(empty_database_url)
    objects = OBJECTS[engine.dialect.name]
    user = uuid.uuid4()
    try:
        otters = await _add_rows(engine, user)
        assert await _state(engine, user) == (set(), [])

        await asyncio.to_thread(command.upgrade, config, REVISION)
        assert await _state(engine, user) == (objects, [otters])

        await asyncio.to_thread(command.downgrade, config, BEFORE)
        assert await _state(engine, user) == (set(), [])

        await asyncio.to_thread(command.upgrade, config, REVISION)
        assert await _state(engine, user) == (objects, [otters])
    finally:
        await engine.dispose()

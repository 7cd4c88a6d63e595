"""Alembic environment: runs migrations over an async engine.

The database URL comes from the `sqlalchemy.url` option when the caller sets it
(`src/lib/db/migrate.py`), else from the settings (DATABASE_URL, or SQLite in the data folder).
Autogenerate leaves out the full-text search objects, which the models cannot declare
(`src.lib.db.fulltext.include_name`).
"""

import asyncio

from sqlalchemy.engine import Connection

from alembic import context
from src.core.config import get_settings
from src.lib.db import models  # noqa: F401  (registers every table on the metadata)
from src.lib.db.base import Base
from src.lib.db.fulltext import include_name
from src.lib.db.session import create_engine

target_metadata = Base.metadata


def _database_url() -> str:
    url = context.config.get_main_option("sqlalchemy.url")
    return url or get_settings().resolved_database_url


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        include_name=include_name,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_online() -> None:
    engine = create_engine(_database_url())
    async with engine.connect() as connection:
        await connection.run_sync(_run)
    await engine.dispose()


if context.is_offline_mode():
    context.configure(url=_database_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_run_online())

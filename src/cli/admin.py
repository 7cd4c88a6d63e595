"""Operator commands: `migrate`, `create-user`, `deactivate-user`, `purge-guests`.

Offers (each reads the settings given, opens the database, and closes it before returning):
- migrate: apply the Alembic migrations.
- create_user / deactivate_user / purge_guests: the OperatorService actions.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from sqlalchemy import make_url

from src.api.auth.operators import OperatorService
from src.core.config import Settings
from src.core.security import PasswordHasher
from src.lib.db.migrate import upgrade_to_head
from src.lib.db.session import create_engine, create_session_factory


def migrate(settings: Settings) -> str:
    """Bring the configured database to the latest revision; returns its URL, password hidden."""
    upgrade_to_head(settings.resolved_database_url)
    return make_url(settings.resolved_database_url).render_as_string(hide_password=True)


@asynccontextmanager
async def operator_service(settings: Settings) -> AsyncIterator[OperatorService]:
    """An OperatorService over the configured database, closed when the block ends."""
    engine = create_engine(settings.resolved_database_url)
    hasher = PasswordHasher(
        settings.argon2_time_cost, settings.argon2_memory_kib, settings.argon2_parallelism
    )
    try:
        yield OperatorService(create_session_factory(engine), hasher)
    finally:
        await engine.dispose()


async def create_user(settings: Settings, email: str, password: str) -> str:
    """Create a regular account; returns its id.

    Raises:
        ValidationError: Malformed email or bad password length.
        ConflictError: The email is taken.
    """
    async with operator_service(settings) as service:
        return str((await service.create_user(email, password)).id)


async def deactivate_user(settings: Settings, email: str) -> str:
    """Deactivate an account; returns its id.

    Raises:
        NotFoundError: No account has this email.
    """
    async with operator_service(settings) as service:
        return str((await service.deactivate_user(email)).id)


async def purge_guests(settings: Settings, older_than_days: int) -> int:
    """Delete the guests idle for at least that many days, with their chats; how many."""
    async with operator_service(settings) as service:
        return await service.purge_idle_guests(timedelta(days=older_than_days))

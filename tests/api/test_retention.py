"""GUEST_RETENTION_DAYS: the server purges idle guests at start-up (then daily) by itself."""

import asyncio
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select

from main import create_app
from src.core.enums import UserType
from src.lib.db.migrate import upgrade_to_head
from src.lib.db.models import User
from src.lib.db.session import SessionFactory, create_engine, create_session_factory
from src.lib.db.types import utcnow
from tests.conftest import make_settings
from tests.helpers import wait_until


async def _add_guests(session_factory: SessionFactory, *ages_in_days: int) -> list[User]:
    """Guests last active that many days ago."""
    guests = []
    async with session_factory.begin() as db:
        for days in ages_in_days:
            moment = utcnow() - timedelta(days=days)
            guest = User(user_type=UserType.GUEST, created_at=moment, updated_at=moment)
            db.add(guest)
            guests.append(guest)
    return guests


async def test_the_server_purges_idle_guests_when_retention_is_set(
    empty_database_url: str, tmp_path: Path
) -> None:
    await asyncio.to_thread(upgrade_to_head, empty_database_url)
    engine = create_engine(empty_database_url)
    session_factory = create_session_factory(engine)
    try:
        _, recent = await _add_guests(session_factory, 8, 6)
        app = create_app(make_settings(empty_database_url, tmp_path, guest_retention_days=7))

        async def purged() -> bool:
            async with session_factory() as db:
                return set((await db.execute(select(User.id))).scalars()) == {recent.id}

        async with app.router.lifespan_context(app):
            await wait_until(purged, timeout=10)
    finally:
        await engine.dispose()

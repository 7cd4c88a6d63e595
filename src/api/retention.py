"""The server's daily purge of idle guests, when `GUEST_RETENTION_DAYS` is set.

Offers:
- guest_retention: a context manager for the lifespan that runs the purge at start-up, then
  every PURGE_INTERVAL_SECONDS, until it exits.
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from loguru import logger

from src.api.auth.operators import OperatorService
from src.api.runtime import Runtime

PURGE_INTERVAL_SECONDS = 24 * 60 * 60


async def _purge_daily(service: OperatorService, idle_for: timedelta) -> None:
    while True:
        try:
            purged = await service.purge_idle_guests(idle_for)
        except Exception:  # a database outage must not end the schedule
            logger.exception("the purge of idle guests failed; next try in a day")
        else:
            logger.info("purged {} guest(s) idle for {} day(s)", purged, idle_for.days)
        await asyncio.sleep(PURGE_INTERVAL_SECONDS)


@asynccontextmanager
async def guest_retention(runtime: Runtime) -> AsyncIterator[None]:
    """Purge idle guests daily while the block runs (nothing when the setting is unset).

    Every server process runs its own schedule; a purge is one idempotent statement.
    """
    days = runtime.settings.guest_retention_days
    if days is None:
        yield
        return
    service = OperatorService(runtime.session_factory, runtime.hasher)
    task = asyncio.create_task(_purge_daily(service, timedelta(days=days)))
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

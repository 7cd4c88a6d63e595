"""What a user may still do: the daily message allowance of their account type.

Operations:
- EntitlementService.for_user: the allowance, what was used in the last 24 hours, and when
  the oldest counted message leaves the window.

Steps for another service's transaction:
- entitlements_of: what `EntitlementService.for_user` reads, in the caller's session.
"""

import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from src.core.config import Settings
from src.core.enums import UserType
from src.lib.db.repositories.usage import UsageRepository
from src.lib.db.session import SessionFactory
from src.lib.db.types import utcnow

WINDOW = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class Entitlements:
    """A user's allowance in the current rolling 24-hour window."""

    max_messages_per_day: int
    messages_used_today: int
    retry_after_seconds: int

    @property
    def messages_remaining(self) -> int:
        """Messages the user may still send in the window."""
        return max(0, self.max_messages_per_day - self.messages_used_today)


async def entitlements_of(
    db: AsyncSession, settings: Settings, user_id: uuid.UUID, user_type: UserType
) -> Entitlements:
    """A user's daily allowance and use in the last 24 hours, read in the caller's session."""
    limit = (
        settings.guest_daily_messages
        if user_type == UserType.GUEST
        else settings.regular_daily_messages
    )
    now = utcnow()
    used, oldest = await UsageRepository.user_messages_since(db, user_id, now - WINDOW)
    retry_after = int((oldest + WINDOW - now).total_seconds()) + 1 if oldest else 0
    return Entitlements(limit, used, max(retry_after, 1))


class EntitlementService:
    """Reads of a user's allowance."""

    def __init__(self, session_factory: SessionFactory, settings: Settings) -> None:
        self.session_factory = session_factory
        self.settings = settings

    async def for_user(self, user_id: uuid.UUID, user_type: UserType) -> Entitlements:
        """A user's daily allowance and use in the last 24 hours."""
        async with self.session_factory() as db:
            return await entitlements_of(db, self.settings, user_id, user_type)

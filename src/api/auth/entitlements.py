"""What a user may still do: the daily allowance of replies, and replies generating at once.

Operations:
- EntitlementService.for_user: the allowance, what was used in the last 24 hours, and when
  the oldest counted reply leaves the window.

Steps for another service's transaction:
- entitlements_of: what `EntitlementService.for_user` reads, in the caller's session.
- ReplyAllowance: hold the user's limits for the transaction, then charge one reply to them.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from src.core.config import Settings
from src.core.enums import UserType
from src.core.exceptions import RateLimitedError
from src.lib.db.models import User
from src.lib.db.repositories.usage import UsageRepository
from src.lib.db.repositories.user import UserRepository
from src.lib.db.session import Database, SessionFactory
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
        """Replies the user may still ask for in the window."""
        return max(0, self.max_messages_per_day - self.messages_used_today)


async def entitlements_of(
    db: Database, settings: Settings, user_id: uuid.UUID, user_type: UserType
) -> Entitlements:
    """A user's daily allowance and use in the last 24 hours, read in the caller's session."""
    now = utcnow()
    used, oldest = await UsageRepository.user_messages_since(db, user_id, now - WINDOW)
    return _entitlements(settings, user_type, used, oldest, now)


def _daily_limit(settings: Settings, user_type: UserType) -> int:
    """How many replies a user of that type may ask for in the window."""
    if user_type == UserType.GUEST:
        return settings.guest_daily_messages
    return settings.regular_daily_messages


def _entitlements(
    settings: Settings, user_type: UserType, used: int, oldest: datetime | None, now: datetime
) -> Entitlements:
    """The allowance of a user who asked for `used` replies in the window, the oldest then."""
    retry_after = int((oldest + WINDOW - now).total_seconds()) + 1 if oldest else 0
    return Entitlements(_daily_limit(settings, user_type), used, max(retry_after, 1))


class ReplyAllowance:
    """One reply taken out of a user's limits, atomically, in the caller's transaction.

    `hold` locks the user's row (see `UserRepository.lock`) until the transaction ends, so
    that the starts of one user, in any process, check and charge one after another; `charge`
    checks the daily allowance and the cap on replies generating at once, and records the
    reply. The caller has saved the reply (STREAMING) in the same transaction and holds the
    lock last, just before its commit, so that starts queue on it for as short a time as can
    be; when the transaction is rolled back (a refused or failed start), the charge goes with
    it.
    """

    def __init__(self, db: Database, settings: Settings, user: User) -> None:
        self.db = db
        self.settings = settings
        self.user = user

    @classmethod
    async def hold(cls, db: Database, settings: Settings, user: User) -> "ReplyAllowance":
        """Lock the user's limits for the rest of the transaction."""
        await UserRepository.lock(db, user.id)
        return cls(db, settings, user)

    async def charge(self, reply_id: uuid.UUID) -> None:
        """Count the reply `reply_id` (saved STREAMING), within the allowance and the cap.

        One statement checks both and records the reply; only a refused charge reads, with
        the same bounds, which limit refused it.

        Raises:
            RateLimitedError: The daily allowance is spent, or the cap is reached.
        """
        settings, user = self.settings, self.user
        now = utcnow()
        since = now - WINDOW
        live_since = now - timedelta(seconds=settings.generation_lock_ttl_seconds)
        cap = settings.max_concurrent_replies
        if await UsageRepository.record_reply_within(
            self.db,
            user.id,
            since,
            _daily_limit(settings, user.user_type),
            live_since,
            cap,
            excluding=reply_id,
        ):
            return
        used, oldest = await UsageRepository.user_messages_since(self.db, user.id, since)
        allowance = _entitlements(settings, user.user_type, used, oldest, now)
        if allowance.messages_remaining <= 0:
            raise RateLimitedError(
                "The daily message limit is reached.", retry_after=allowance.retry_after_seconds
            )
        # the cap, then; the replies live at the check may have ended since
        raise RateLimitedError(f"At most {cap} replies can be generated at once.", retry_after=1)


class EntitlementService:
    """Reads of a user's allowance."""

    def __init__(self, session_factory: SessionFactory, settings: Settings) -> None:
        self.session_factory = session_factory
        self.settings = settings

    async def for_user(self, user_id: uuid.UUID, user_type: UserType) -> Entitlements:
        """A user's daily allowance and use in the last 24 hours."""
        async with self.session_factory() as db:
            return await entitlements_of(db, self.settings, user_id, user_type)

"""Live sync across devices; needs a signed-in user.

Subscriptions:
- userEvents: every change to the caller's chats (created, updated, deleted, a reply started
  and ended), whichever device or server process made it; nothing of other users, no tokens.
"""

from collections.abc import AsyncGenerator

import strawberry

from src.api.context import Info
from src.api.live.service import LiveService
from src.api.live.types import UserEvent, to_graphql


@strawberry.type
class LiveSubscription:
    """The caller's user events."""

    @strawberry.subscription(
        description="Changes to every chat of the caller, for every device of the caller."
    )
    async def user_events(self, info: Info) -> AsyncGenerator[UserEvent, None]:
        """Follow the caller's chats until the client completes the subscription."""
        user = await info.context.require_user()
        async for delivery in LiveService(info.context.runtime).events(user):
            yield to_graphql(delivery)

"""Live sync across devices; needs a signed-in user.

Subscriptions:
- userEvents: every change to the caller's chats (created, updated, deleted, a reply started
  and ended), whichever device or server process made it; nothing of other users, no tokens.
"""

from collections.abc import AsyncGenerator

import strawberry

from src.api.context import Context, Info
from src.api.live.service import LiveService
from src.api.live.types import UserEvent, to_graphql


@strawberry.type
class LiveSubscription:
    """The caller's user events."""

    @strawberry.subscription(
        description="Changes to every chat of the caller, for every device of the caller."
    )
    async def user_events(self, info: Info) -> AsyncGenerator[UserEvent, None]:
        """Follow the caller's chats until the client completes the subscription.

        The stream is returned rather than run here, so that it keeps the socket's context but
        not this resolver's `info` for as long as it waits; its errors still end the stream.
        """
        return _user_events(info.context)


async def _user_events(context: Context) -> AsyncGenerator[UserEvent, None]:
    user = await context.require_user()
    async for delivery in LiveService(context.runtime).events(user):
        yield to_graphql(delivery)

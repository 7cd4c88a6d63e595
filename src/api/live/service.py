"""Following the changes to a user's chats, for one device.

Operations:
- LiveService.events: the caller's user events, each with the current state of the chat it
  names (read when it is delivered); an event about a chat deleted meanwhile is skipped (its
  ChatDeleted follows).
"""

from collections.abc import AsyncIterator
from dataclasses import dataclass

from src.api.chats.service import ChatService
from src.api.runtime import Runtime
from src.core.exceptions import RateLimitedError
from src.lib.db.models import Chat, User
from src.lib.streaming.broker import SubscriberLaggedError
from src.lib.streaming.user_events import ChatCreated, ChatUpdated, UserEvent

LAGGED = "You fell too far behind your events; read your chats again and subscribe again."


@dataclass(frozen=True, slots=True)
class Delivery:
    """A user event as delivered: with its chat, read now, for ChatCreated and ChatUpdated."""

    event: UserEvent
    chat: Chat | None = None


class LiveService:
    """Reads of the user-event broker on behalf of a user."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.chats = ChatService(runtime)

    async def events(self, user: User) -> AsyncIterator[Delivery]:
        """The user's events from now on, until the caller stops.

        Raises:
            RateLimitedError: The device fell further behind than the broker keeps.
            BrokerUnavailableError: The broker stopped answering (SERVICE_UNAVAILABLE).
        """
        try:
            async for event in self.runtime.broker.user_events.subscribe(user.id):
                if not isinstance(event, ChatCreated | ChatUpdated):
                    yield Delivery(event)
                elif chat := await self.chats.find_owned(user.id, event.chat_id):
                    yield Delivery(event, chat)
        except SubscriberLaggedError as error:
            raise RateLimitedError(LAGGED, retry_after=0) from error

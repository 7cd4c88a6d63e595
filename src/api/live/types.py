"""GraphQL types of the user events: the UserEvent union and its members.

ChatCreated and ChatUpdated carry the chat as read when the event is delivered;
GenerationStarted reads its generation then too (the running one, or, when it has ended
meanwhile, what the event said with lastSeq -1: replay it all with chatEvents).
"""

from typing import Annotated

import strawberry

from src.api.chats.types import Chat, Generation
from src.api.context import Info
from src.api.live.service import Delivery
from src.core.enums import FinishReason, MessageStatus
from src.lib.streaming import user_events
from src.lib.streaming.broker import GenerationInfo


@strawberry.type
class ChatCreated:
    """A chat of the caller was created (by createChat, or by chatStream)."""

    chat: Chat


@strawberry.type(description="Title, visibility, current branch or last activity changed.")
class ChatUpdated:
    """A chat of the caller changed."""

    chat: Chat


@strawberry.type
class ChatDeleted:
    """A chat of the caller was deleted."""

    chat_id: strawberry.ID


@strawberry.type
class GenerationStarted:
    """A reply began in a chat of the caller."""

    chat_id: strawberry.ID
    event: strawberry.Private[user_events.GenerationStarted]

    @strawberry.field
    async def generation(self, info: Info) -> Generation:
        """The reply: as it runs now, or as it began when it has ended since."""
        event = self.event
        active = await info.context.loaders.active_generation.load(event.chat_id)
        if active is None or active.message_id != event.message_id:
            active = GenerationInfo(
                event.chat_id, event.message_id, event.model, event.started_at, last_seq=-1
            )
        return Generation.from_info(active)


@strawberry.type
class GenerationEnded:
    """A reply in a chat of the caller ended and is saved."""

    chat_id: strawberry.ID
    message_id: strawberry.ID
    status: MessageStatus
    finish_reason: FinishReason | None


UserEvent = Annotated[
    ChatCreated | ChatUpdated | ChatDeleted | GenerationStarted | GenerationEnded,
    strawberry.union("UserEvent"),
]


def to_graphql(delivery: Delivery) -> UserEvent:
    """The GraphQL object of a delivered user event."""
    event, chat = delivery.event, delivery.chat
    chat_id = strawberry.ID(str(event.chat_id))
    match event:
        case user_events.ChatDeleted():
            return ChatDeleted(chat_id=chat_id)
        case user_events.GenerationStarted():
            return GenerationStarted(chat_id=chat_id, event=event)
        case user_events.GenerationEnded():
            return GenerationEnded(
                chat_id=chat_id,
                message_id=strawberry.ID(str(event.message_id)),
                status=event.status,
                finish_reason=event.finish_reason,
            )
    assert chat is not None  # the service reads the chat of every ChatCreated and ChatUpdated
    if isinstance(event, user_events.ChatCreated):
        return ChatCreated(chat=Chat.from_model(chat))
    return ChatUpdated(chat=Chat.from_model(chat))

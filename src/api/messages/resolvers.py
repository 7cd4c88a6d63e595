"""Message operations; every one needs a signed-in user.

Messages are read through the `Chat` fields (`messages`, `thread`, `lastMessage`) and `node`;
they are written by the streaming feature.

Mutations:
- rateMessage: set or clear the caller's rating of a message they may read.
"""

import strawberry

from src.api.common.types import parse_id
from src.api.context import Info
from src.api.messages.service import MessageService
from src.api.messages.types import Message
from src.core.enums import Rating


@strawberry.type
class MessageMutation:
    """Message mutations."""

    @strawberry.mutation(description="A null rating clears the feedback.")
    async def rate_message(
        self,
        info: Info,
        message_id: strawberry.ID,
        rating: Rating | None = None,
    ) -> Message:
        """Rate a message the caller may read (own chat, or PUBLIC)."""
        user = await info.context.require_user()
        message_pk = parse_id(message_id, "messageId")
        service = MessageService(info.context.runtime.session_factory)
        message = await service.rate(user.id, message_pk, rating)
        return Message.from_model(message)

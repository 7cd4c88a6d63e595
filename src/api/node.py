"""Relay object identification.

Queries:
- node: a Chat or Message the caller may read, or the caller's own User; null otherwise.
"""

import strawberry

from src.api.auth.types import User
from src.api.chats.service import ChatService
from src.api.chats.types import Chat
from src.api.common.types import Node, parse_id
from src.api.context import Info
from src.api.messages.service import MessageService
from src.api.messages.types import Message


@strawberry.type
class NodeQuery:
    """The `node` query."""

    @strawberry.field
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        """Any object by id, when the caller may see it."""
        user = await info.context.require_user()
        node_id = parse_id(id, "id")
        if node_id == user.id:
            return User.from_model(user)
        runtime = info.context.runtime
        session_factory = runtime.session_factory
        chats = ChatService(session_factory, runtime.broker.user_events)
        chat = await chats.find_readable(user.id, node_id)
        if chat:
            return Chat.from_model(chat)
        message = await MessageService(session_factory).find_readable(user.id, node_id)
        return Message.from_model(message) if message else None

"""Chat operations; every one needs a signed-in user.

Queries:
- chat: one chat the caller may read (own, or PUBLIC), or null.
- chats: the caller's own chats, most recently updated first, optionally searched.

Mutations:
- createChat: a new chat; idempotent on a client-generated id.
- updateChat: rename the caller's chat or change its visibility.
- deleteChat: delete the caller's chat with its messages and their feedback; stop its reply.
- switchBranch: choose the message whose branch every device of the owner shows.
"""

from contextlib import suppress

import strawberry

from src.api.chats.service import ChatService
from src.api.chats.types import Chat, ChatConnection, CreateChatInput, UpdateChatInput
from src.api.common.pagination import PageRequest
from src.api.common.types import parse_id
from src.api.context import Info
from src.lib.streaming.broker import BrokerUnavailableError

CHATS_PAGE_SIZE = 20


def _chats(info: Info) -> ChatService:
    runtime = info.context.runtime
    return ChatService(runtime.session_factory, runtime.broker.user_events)


@strawberry.type
class ChatQuery:
    """Chat queries."""

    @strawberry.field(
        description="Null when it does not exist or the caller may not see it "
        "(not owner and not PUBLIC)."
    )
    async def chat(self, info: Info, id: strawberry.ID) -> Chat | None:
        """A chat the caller may read."""
        user = await info.context.require_user()
        chat_id = parse_id(id, "id")
        chat = await _chats(info).find_readable(user.id, chat_id)
        return Chat.from_model(chat) if chat else None

    @strawberry.field(
        description="The caller's chats, most recently updated first. "
        "search matches titles containing it and chats with a message holding all its words."
    )
    async def chats(
        self,
        info: Info,
        first: int | None = CHATS_PAGE_SIZE,
        after: str | None = None,
        search: str | None = None,
    ) -> ChatConnection:
        """A page of the caller's own chats."""
        user = await info.context.require_user()
        request = PageRequest.parse(first, after, default_size=CHATS_PAGE_SIZE)
        rows = await _chats(info).list_chats(user.id, search, request.after, request.fetch)
        return ChatConnection.build(rows, request, user.id, search, rows.total)


@strawberry.type
class ChatMutation:
    """Chat mutations."""

    @strawberry.mutation
    async def create_chat(self, info: Info, input: CreateChatInput | None = None) -> Chat:
        """Create a chat, or return the caller's chat with the same client id."""
        user = await info.context.require_user()
        input = input or CreateChatInput()
        chat_id = parse_id(input.id, "id") if input.id is not None else None
        chat = await _chats(info).create(user.id, input.title, input.visibility, chat_id)
        return Chat.from_model(chat)

    @strawberry.mutation
    async def update_chat(self, info: Info, id: strawberry.ID, input: UpdateChatInput) -> Chat:
        """Rename the caller's chat or change its visibility."""
        user = await info.context.require_user()
        chat_id = parse_id(id, "id")
        chat = await _chats(info).update(user.id, chat_id, input.title, input.visibility)
        return Chat.from_model(chat)

    @strawberry.mutation(
        description="Deletes the chat and all its messages; returns the deleted id."
    )
    async def delete_chat(self, info: Info, id: strawberry.ID) -> strawberry.ID:
        """Delete the caller's chat, stopping its running reply if it has one."""
        user = await info.context.require_user()
        chat_id = parse_id(id, "id")
        await _chats(info).delete(user.id, chat_id)
        with suppress(BrokerUnavailableError):  # the reply's saves then change nothing
            await info.context.runtime.generations.stop(chat_id)
        return strawberry.ID(str(chat_id))

    @strawberry.mutation(
        description="Makes leafId (any message of the chat) the chat's current leaf, "
        "for every device of the owner."
    )
    async def switch_branch(
        self, info: Info, chat_id: strawberry.ID, leaf_id: strawberry.ID
    ) -> Chat:
        """Set the current leaf of the caller's chat."""
        user = await info.context.require_user()
        chat_pk, leaf_pk = parse_id(chat_id, "chatId"), parse_id(leaf_id, "leafId")
        chat = await _chats(info).switch_branch(user.id, chat_pk, leaf_pk)
        return Chat.from_model(chat)

"""GraphQL types of chats: Chat, Generation, ChatConnection, the chat inputs and Visibility.

The fields that read messages go through the request's DataLoaders, so a page of chats costs
a fixed number of statements however many chats and messages it shows.
"""

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Self

import strawberry

from src.api.chats.service import ChatService
from src.api.common.pagination import Edge, PageInfo, PageRequest, paginate
from src.api.common.types import Node, parse_id
from src.api.context import Info
from src.api.messages.service import empty_thread, thread_fetch_size, thread_page
from src.api.messages.types import Message, MessageConnection, ToolCallPart, tool_call_from_dict
from src.core.enums import Visibility
from src.lib.db.models import Chat as ChatModel
from src.lib.parts import awaiting_approval
from src.lib.streaming.broker import GenerationInfo


@strawberry.type
class Generation:
    """A reply being generated."""

    message_id: strawberry.ID
    model: strawberry.ID
    started_at: datetime
    last_seq: int = strawberry.field(
        description="Seq of the last event emitted so far; resume with chatEvents(afterSeq)."
    )

    @strawberry.field(
        description="Tool calls of this reply that wait for the owner's decision (decideToolCall)."
    )
    async def pending_approvals(self, info: Info) -> list[ToolCallPart]:
        """The reply's tool calls saved as AWAITING_APPROVAL."""
        message = await info.context.loaders.message.load(uuid.UUID(self.message_id))
        parts = message.parts if message is not None else []
        return [tool_call_from_dict(part) for part in awaiting_approval(parts)]

    @classmethod
    def from_info(cls, info: GenerationInfo) -> Self:
        """Build from the broker's description of the generation."""
        return cls(
            message_id=strawberry.ID(str(info.message_id)),
            model=strawberry.ID(info.model),
            started_at=info.started_at,
            last_seq=info.last_seq,
        )


@strawberry.type
class Chat(Node):
    """A conversation: a tree of messages, one branch of which is shown."""

    id: strawberry.ID
    title: str
    visibility: Visibility
    created_at: datetime
    updated_at: datetime
    current_leaf_id: strawberry.ID | None = strawberry.field(
        description="The branch being shown: set by switchBranch, moved by every new message; "
        "null when empty."
    )
    message_count: int
    pk: strawberry.Private[uuid.UUID]
    leaf_pk: strawberry.Private[uuid.UUID | None]

    @classmethod
    def from_model(cls, chat: ChatModel) -> Self:
        """Build from the ORM row."""
        leaf = chat.current_leaf_id
        return cls(
            id=strawberry.ID(str(chat.id)),
            title=chat.title,
            visibility=chat.visibility,
            created_at=chat.created_at,
            updated_at=chat.updated_at,
            current_leaf_id=strawberry.ID(str(leaf)) if leaf else None,
            message_count=chat.message_count,
            pk=chat.id,
            leaf_pk=leaf,
        )

    @strawberry.field(description="Every message of the chat, all branches, oldest first.")
    async def messages(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> MessageConnection:
        """A page of the messages; 100 when neither `first` nor `last` is given."""
        request = PageRequest.parse(first, after, last, before)
        rows = await info.context.loaders.messages.load((self.pk, request))
        return MessageConnection.build(rows, request, self.message_count)

    @strawberry.field(
        description="The path from the root to leafId (default: currentLeafId), oldest first. "
        "last: only the messages nearest the leaf, at most the server's limit; without it, a "
        "longer path than that limit is refused (BAD_USER_INPUT, field last). before: a message "
        "of that path, which the page ends just above (BAD_USER_INPUT, field before, when it "
        "is not on the path); the first message of a page is the next page's before."
    )
    async def thread(
        self,
        info: Info,
        leaf_id: strawberry.ID | None = None,
        last: int | None = None,
        before: strawberry.ID | None = None,
    ) -> list[Message]:
        """A page of the branch ending at a message of this chat; NOT_FOUND for any other."""
        leaf = self.leaf_pk if leaf_id is None else parse_id(leaf_id, "leafId")
        before_pk = None if before is None else parse_id(before, "before")
        max_messages = info.context.runtime.settings.max_thread_messages
        limit = thread_fetch_size(last, max_messages)
        page = (
            empty_thread()
            if leaf is None
            else await info.context.loaders.thread.load(((self.pk, leaf), (limit, before_pk)))
        )
        path = thread_page(page, last, before_pk, max_messages)
        return [Message.from_model(message) for message in path]

    @strawberry.field
    async def last_message(self, info: Info) -> Message | None:
        """The newest message of the chat, whatever its branch."""
        message = await info.context.loaders.last_message.load(self.pk)
        return Message.from_model(message) if message else None

    @strawberry.field(description="The reply being generated right now, if any.")
    async def active_generation(self, info: Info) -> Generation | None:
        """The reply being generated right now, if any."""
        active = await info.context.loaders.active_generation.load(self.pk)
        return None if active is None else Generation.from_info(active)


@strawberry.type
class ChatConnection:
    """A page of the caller's chats, most recently updated first."""

    edges: list[Edge[Chat]]
    page_info: PageInfo
    user_pk: strawberry.Private[uuid.UUID]
    search: strawberry.Private[str | None]
    total: strawberry.Private[int | None]

    @classmethod
    def build(
        cls,
        rows: Sequence[ChatModel],
        request: PageRequest,
        user_id: uuid.UUID,
        search: str | None,
        total: int | None,
    ) -> Self:
        """The page of `rows`, as fetched for `request`, of a user's (searched) chats.

        `total` is how many chats match over all pages when the page's query counted them.
        """
        edges, page_info = paginate(
            rows, request, lambda row: (row.updated_at, row.id), Chat.from_model
        )
        return cls(edges=edges, page_info=page_info, user_pk=user_id, search=search, total=total)

    @strawberry.field
    async def total_count(self, info: Info) -> int:
        """How many chats match, over all pages: as a search's page counted them, else counted."""
        if self.total is not None:
            return self.total
        service = ChatService(info.context.runtime)
        return await service.count_chats(self.user_pk, self.search)


@strawberry.input
class CreateChatInput:
    """A new chat."""

    id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Client-generated UUID; creating the same id twice returns the existing "
        "chat (idempotent).",
    )
    title: str | None = strawberry.field(default=None, description="At most 200 characters.")
    visibility: Visibility | None = Visibility.PRIVATE


@strawberry.input
class UpdateChatInput:
    """Changes to a chat; a field left out (or null) stays as it is."""

    title: str | None = None
    visibility: Visibility | None = None

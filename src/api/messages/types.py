"""GraphQL types of messages: Message, its parts, TokenUsage, MessageConnection, the enums.

Parts (the MessagePart union) come from the snake_case JSON documents of `src.lib.parts`.
"""

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any, Self

import strawberry
from strawberry.scalars import JSON

from src.api.common.pagination import Edge, PageInfo, PageRequest, paginate
from src.api.common.types import Node
from src.api.context import Info
from src.core.enums import FinishReason, MessageRole, MessageStatus, Rating, ToolCallState
from src.lib.db.models import Message as MessageModel


@strawberry.type
class TokenUsage:
    """Tokens a generation read and wrote."""

    input_tokens: int
    output_tokens: int

    @classmethod
    def from_dict(cls, usage: dict[str, int] | None) -> Self | None:
        """Build from the stored {"input_tokens", "output_tokens"} document; None for None."""
        if usage is None:
            return None
        return cls(
            input_tokens=usage.get("input_tokens", 0), output_tokens=usage.get("output_tokens", 0)
        )


@strawberry.type
class TextPart:
    """Text written by the user or the model."""

    text: str


@strawberry.type
class FilePart:
    """A file referenced by URL."""

    url: str
    media_type: str
    name: str | None


@strawberry.type
class ToolCallPart:
    """A tool call made by the model."""

    tool_call_id: str
    tool_name: str
    arguments: JSON
    state: ToolCallState


@strawberry.type
class ToolResultPart:
    """The result of a tool call (an error result when `isError`)."""

    tool_call_id: str
    tool_name: str
    result: JSON
    is_error: bool


MessagePart = Annotated[
    TextPart | FilePart | ToolCallPart | ToolResultPart, strawberry.union("MessagePart")
]


def tool_call_from_dict(part: dict[str, Any]) -> ToolCallPart:
    """The GraphQL part of a stored tool_call part."""
    return ToolCallPart(
        tool_call_id=part["tool_call_id"],
        tool_name=part["tool_name"],
        arguments=JSON(part["arguments"]),
        state=ToolCallState(part["state"]),
    )


def part_from_dict(part: dict[str, Any]) -> MessagePart | None:
    """The GraphQL part of a stored part; None for a type this API does not know."""
    match part.get("type"):
        case "text":
            return TextPart(text=part["text"])
        case "file":
            return FilePart(url=part["url"], media_type=part["media_type"], name=part.get("name"))
        case "tool_call":
            return tool_call_from_dict(part)
        case "tool_result":
            return ToolResultPart(
                tool_call_id=part["tool_call_id"],
                tool_name=part["tool_name"],
                result=JSON(part["result"]),
                is_error=part["is_error"],
            )
    return None


@strawberry.type
class Message(Node):
    """One message of a chat's tree."""

    id: strawberry.ID
    chat_id: strawberry.ID
    parent_id: strawberry.ID | None
    role: MessageRole
    parts: list[MessagePart]
    text: str = strawberry.field(description="All text parts joined.")
    status: MessageStatus
    model: strawberry.ID | None
    finish_reason: FinishReason | None
    usage: TokenUsage | None
    created_at: datetime
    pk: strawberry.Private[uuid.UUID]

    @classmethod
    def from_model(cls, message: MessageModel) -> Self:
        """Build from the ORM row."""
        parent = message.parent_msg_id
        return cls(
            id=strawberry.ID(str(message.id)),
            chat_id=strawberry.ID(str(message.chat_id)),
            parent_id=strawberry.ID(str(parent)) if parent else None,
            role=message.role,
            parts=[p for part in message.parts if (p := part_from_dict(part)) is not None],
            text=message.text,
            status=message.status,
            model=strawberry.ID(message.model) if message.model else None,
            finish_reason=message.finish_reason,
            usage=TokenUsage.from_dict(message.usage),
            created_at=message.created_at,
            pk=message.id,
        )

    @strawberry.field(description="Direct replies under this message (branches), oldest first.")
    async def child_ids(self, info: Info) -> list[strawberry.ID]:
        """Ids of the direct replies."""
        children = await info.context.loaders.child_ids.load(self.pk)
        return [strawberry.ID(str(child)) for child in children]

    @strawberry.field(description="The current user's feedback on this message.")
    async def rating(self, info: Info) -> Rating | None:
        """The caller's rating."""
        user = await info.context.require_user()
        rating: Rating | None = await info.context.loaders.rating.load((self.pk, user.id))
        return rating


@strawberry.type
class MessageConnection:
    """A page of a chat's messages, oldest first."""

    edges: list[Edge[Message]]
    page_info: PageInfo
    total_count: int

    @classmethod
    def build(cls, rows: Sequence[MessageModel], request: PageRequest, total_count: int) -> Self:
        """The page of `rows`, as fetched for `request`, of a chat holding `total_count`."""
        edges, page_info = paginate(
            rows, request, lambda row: (row.created_at, row.id), Message.from_model
        )
        return cls(edges=edges, page_info=page_info, total_count=total_count)

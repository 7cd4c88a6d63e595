"""GraphQL types of stream events, and their conversion from the broker's events.

`to_graphql` is on the per-token path: TextDelta conversion is a plain constructor call, and
messages (StreamStarted.userMessage, StreamFinished.message) are loaded only when asked for.
"""

import uuid
from collections.abc import Callable
from typing import Annotated, Any

import strawberry

from src.api.common.types import JSON
from src.api.context import Info
from src.api.messages.types import Message, TokenUsage
from src.core.enums import FinishReason
from src.core.exceptions import NotFoundError
from src.lib.streaming import events


async def _load_message(info: Info, message_id: uuid.UUID) -> Message | None:
    message = await info.context.loaders.message.load(message_id)
    return Message.from_model(message) if message else None


@strawberry.type
class StreamStarted:
    """The first event of a generation."""

    seq: int
    chat_id: strawberry.ID
    assistant_message_id: strawberry.ID
    model: strawberry.ID
    user_message_id: strawberry.Private[uuid.UUID | None]

    @strawberry.field(
        description="Null when the generation regenerates an existing message's reply."
    )
    async def user_message(self, info: Info) -> Message | None:
        """The user message this reply answers."""
        if self.user_message_id is None:
            return None
        return await _load_message(info, self.user_message_id)


@strawberry.type
class TextDelta:
    """Text appended to the reply."""

    seq: int
    message_id: strawberry.ID
    delta: str


@strawberry.type
class ToolCallEvent:
    """The model calls a tool."""

    seq: int
    message_id: strawberry.ID
    tool_call_id: str
    tool_name: str
    arguments: JSON


@strawberry.type
class ToolApprovalRequested:
    """A tool call waits for the chat owner's decision (decideToolCall)."""

    seq: int
    message_id: strawberry.ID
    tool_call_id: str
    tool_name: str
    arguments: JSON


@strawberry.type
class ToolResultEvent:
    """A tool's result, fed back to the model."""

    seq: int
    message_id: strawberry.ID
    tool_call_id: str
    result: JSON
    is_error: bool


@strawberry.type
class StreamFinished:
    """The last event of a generation that ended normally, was stopped, or hit a limit."""

    seq: int
    finish_reason: FinishReason
    usage: TokenUsage | None
    message_id: strawberry.Private[uuid.UUID]

    @strawberry.field(description="The assistant message as saved.")
    async def message(self, info: Info) -> Message:
        """The saved reply."""
        message = await _load_message(info, self.message_id)
        if message is None:  # deleted with its chat since
            raise NotFoundError()
        return message


@strawberry.type
class StreamFailed:
    """The last event of a generation that failed."""

    seq: int
    message_id: strawberry.ID
    code: str
    error_message: str = strawberry.field(
        description="Fit to show to the user; never a stack trace."
    )


StreamEvent = Annotated[
    StreamStarted
    | TextDelta
    | ToolCallEvent
    | ToolApprovalRequested
    | ToolResultEvent
    | StreamFinished
    | StreamFailed,
    strawberry.union("StreamEvent"),
]


def _id(value: uuid.UUID) -> strawberry.ID:
    return strawberry.ID(str(value))


def _started(e: events.StreamStarted) -> StreamStarted:
    return StreamStarted(
        seq=e.seq,
        chat_id=_id(e.chat_id),
        assistant_message_id=_id(e.assistant_message_id),
        model=strawberry.ID(e.model),
        user_message_id=e.user_message_id,
    )


def _delta(e: events.TextDelta) -> TextDelta:
    return TextDelta(seq=e.seq, message_id=_id(e.message_id), delta=e.delta)


def _tool_call(e: events.ToolCallEvent) -> ToolCallEvent:
    return ToolCallEvent(
        seq=e.seq,
        message_id=_id(e.message_id),
        tool_call_id=e.tool_call_id,
        tool_name=e.tool_name,
        arguments=JSON(e.arguments),
    )


def _approval_requested(e: events.ToolApprovalRequested) -> ToolApprovalRequested:
    return ToolApprovalRequested(
        seq=e.seq,
        message_id=_id(e.message_id),
        tool_call_id=e.tool_call_id,
        tool_name=e.tool_name,
        arguments=JSON(e.arguments),
    )


def _tool_result(e: events.ToolResultEvent) -> ToolResultEvent:
    return ToolResultEvent(
        seq=e.seq,
        message_id=_id(e.message_id),
        tool_call_id=e.tool_call_id,
        result=JSON(e.result),
        is_error=e.is_error,
    )


def _finished(e: events.StreamFinished) -> StreamFinished:
    usage = e.usage
    return StreamFinished(
        seq=e.seq,
        finish_reason=FinishReason(e.finish_reason),
        usage=TokenUsage(input_tokens=usage["input_tokens"], output_tokens=usage["output_tokens"])
        if usage
        else None,
        message_id=e.message_id,
    )


def _failed(e: events.StreamFailed) -> StreamFailed:
    return StreamFailed(
        seq=e.seq, message_id=_id(e.message_id), code=e.code, error_message=e.error_message
    )


_CONVERTERS: dict[type, Callable[[Any], Any]] = {
    events.TextDelta: _delta,
    events.StreamStarted: _started,
    events.ToolCallEvent: _tool_call,
    events.ToolApprovalRequested: _approval_requested,
    events.ToolResultEvent: _tool_result,
    events.StreamFinished: _finished,
    events.StreamFailed: _failed,
}


def to_graphql(event: events.StreamEvent) -> StreamEvent:
    """The GraphQL object of a broker event."""
    converted: StreamEvent = _CONVERTERS[type(event)](event)
    return converted

"""The events of one generation (one streamed assistant reply) and their wire format.

`seq` starts at 0 for every generation and grows by one per event. Every event carries the
generation's assistant message id (`StreamStarted.assistant_message_id`, the others'
`message_id`; `StreamStarted.message_id` is an alias), and that id identifies the generation.

Offers:
- `StreamStarted`, `TextDelta`, `ToolCallEvent`, `ToolApprovalRequested`, `ToolResultEvent`,
  `StreamFinished`, `StreamFailed` and their union `StreamEvent`.
- `is_terminal(event)`: whether the event ends its generation.
- `encode_event(event)` / `decode_event(data)`: compact JSON with a type tag, for brokers that
  cross process boundaries. `TextDelta`, the per-token event, has a hand-written fast path.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from uuid import UUID


@dataclass(frozen=True, slots=True)
class StreamStarted:
    """The first event (seq 0) of a generation.

    Attributes:
        seq: Position of the event in its generation.
        chat_id: The chat the reply belongs to.
        assistant_message_id: The assistant message being generated (identifies the generation).
        user_message_id: The user message answered, or None when regenerating.
        model: The model generating the reply.
    """

    seq: int
    chat_id: UUID
    assistant_message_id: UUID
    user_message_id: UUID | None
    model: str

    @property
    def message_id(self) -> UUID:
        """The generation's assistant message id, under the name the other events use."""
        return self.assistant_message_id


@dataclass(frozen=True, slots=True)
class TextDelta:
    """A piece of the reply's text.

    Attributes:
        seq: Position of the event in its generation (of the last piece when merged).
        message_id: The generation's assistant message id.
        delta: The text to append.
    """

    seq: int
    message_id: UUID
    delta: str


@dataclass(frozen=True, slots=True)
class ToolCallEvent:
    """The model calls a tool.

    Attributes:
        seq: Position of the event in its generation.
        message_id: The generation's assistant message id.
        tool_call_id: The call's id, repeated by its result.
        tool_name: The tool called.
        arguments: The call's arguments (JSON object).
    """

    seq: int
    message_id: UUID
    tool_call_id: str
    tool_name: str
    arguments: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ToolApprovalRequested:
    """A tool call waits for the chat owner's decision (`decideToolCall`).

    Attributes:
        seq: Position of the event in its generation.
        message_id: The generation's assistant message id.
        tool_call_id: The call waiting.
        tool_name: The tool called.
        arguments: The call's arguments (JSON object).
    """

    seq: int
    message_id: UUID
    tool_call_id: str
    tool_name: str
    arguments: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ToolResultEvent:
    """A tool call's result.

    Attributes:
        seq: Position of the event in its generation.
        message_id: The generation's assistant message id.
        tool_call_id: The id of the call answered.
        tool_name: The tool called.
        result: The result (any JSON value).
        is_error: Whether the tool failed (the result then describes the failure).
    """

    seq: int
    message_id: UUID
    tool_call_id: str
    tool_name: str
    result: Any
    is_error: bool


@dataclass(frozen=True, slots=True)
class StreamFinished:
    """The last event of a generation that ended normally (or was stopped).

    Attributes:
        seq: Position of the event in its generation.
        message_id: The generation's assistant message id.
        finish_reason: Why the reply ended.
        usage: Token counts, when the provider reported them.
    """

    seq: int
    message_id: UUID
    finish_reason: str
    usage: dict[str, int] | None


@dataclass(frozen=True, slots=True)
class StreamFailed:
    """The last event of a generation that failed.

    Attributes:
        seq: Position of the event in its generation.
        message_id: The generation's assistant message id.
        code: Stable error code.
        error_message: Message fit for the user.
    """

    seq: int
    message_id: UUID
    code: str
    error_message: str


StreamEvent = (
    StreamStarted
    | TextDelta
    | ToolCallEvent
    | ToolApprovalRequested
    | ToolResultEvent
    | StreamFinished
    | StreamFailed
)


def is_terminal(event: StreamEvent) -> bool:
    """Tell whether `event` ends its generation.

    Args:
        event: Any stream event.

    Returns:
        True for `StreamFinished` and `StreamFailed`.
    """
    return isinstance(event, StreamFinished | StreamFailed)


# ASCII-only output: a lone surrogate in model text must not break the UTF-8 encoding later.
_dumps = json.JSONEncoder(separators=(",", ":")).encode
_quote = json.encoder.encode_basestring_ascii


@lru_cache(maxsize=4096)
def _uuid(text: str) -> UUID:
    """Parse a UUID, cached: a generation repeats its message id in every event."""
    return UUID(text)


def _optional_uuid(text: str | None) -> UUID | None:
    return None if text is None else _uuid(text)


def encode_event(event: StreamEvent) -> str:
    """Encode an event as compact JSON with a type tag `t`.

    Args:
        event: The event to encode; tool arguments and results must be JSON values.

    Returns:
        The JSON text.
    """
    if type(event) is TextDelta:
        return f'{{"t":"d","s":{event.seq},"m":"{event.message_id}","d":{_quote(event.delta)}}}'
    return _dumps(_encoders[type(event)](event))


def decode_event(data: str | bytes) -> StreamEvent:
    """Decode an event encoded by `encode_event`.

    Args:
        data: The JSON text (or its UTF-8 bytes).

    Returns:
        The event.

    Raises:
        ValueError: If the data is not an encoded event.
    """
    try:
        fields = json.loads(data)
        return _decoders[fields["t"]](fields)
    except (KeyError, TypeError) as error:
        raise ValueError(f"not an encoded stream event: {data!r:.200}") from error


_encoders: dict[type, Callable[[Any], dict[str, Any]]] = {
    StreamStarted: lambda e: {
        "t": "s",
        "s": e.seq,
        "c": str(e.chat_id),
        "m": str(e.assistant_message_id),
        "u": None if e.user_message_id is None else str(e.user_message_id),
        "model": e.model,
    },
    ToolCallEvent: lambda e: {
        "t": "c",
        "s": e.seq,
        "m": str(e.message_id),
        "id": e.tool_call_id,
        "name": e.tool_name,
        "args": e.arguments,
    },
    ToolApprovalRequested: lambda e: {
        "t": "a",
        "s": e.seq,
        "m": str(e.message_id),
        "id": e.tool_call_id,
        "name": e.tool_name,
        "args": e.arguments,
    },
    ToolResultEvent: lambda e: {
        "t": "r",
        "s": e.seq,
        "m": str(e.message_id),
        "id": e.tool_call_id,
        "name": e.tool_name,
        "result": e.result,
        "error": e.is_error,
    },
    StreamFinished: lambda e: {
        "t": "f",
        "s": e.seq,
        "m": str(e.message_id),
        "reason": e.finish_reason,
        "usage": e.usage,
    },
    StreamFailed: lambda e: {
        "t": "x",
        "s": e.seq,
        "m": str(e.message_id),
        "code": e.code,
        "error": e.error_message,
    },
}

_decoders: dict[str, Callable[[dict[str, Any]], StreamEvent]] = {
    "d": lambda f: TextDelta(f["s"], _uuid(f["m"]), f["d"]),
    "s": lambda f: StreamStarted(
        f["s"], _uuid(f["c"]), _uuid(f["m"]), _optional_uuid(f["u"]), f["model"]
    ),
    "c": lambda f: ToolCallEvent(f["s"], _uuid(f["m"]), f["id"], f["name"], f["args"]),
    "a": lambda f: ToolApprovalRequested(f["s"], _uuid(f["m"]), f["id"], f["name"], f["args"]),
    "r": lambda f: ToolResultEvent(
        f["s"], _uuid(f["m"]), f["id"], f["name"], f["result"], f["error"]
    ),
    "f": lambda f: StreamFinished(f["s"], _uuid(f["m"]), f["reason"], f["usage"]),
    "x": lambda f: StreamFailed(f["s"], _uuid(f["m"]), f["code"], f["error"]),
}

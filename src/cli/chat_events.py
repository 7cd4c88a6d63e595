"""The events of a reply as the chat client sees them, and the subscriptions that carry them.

Offers:
- Started, Delta, ToolCall, ToolResult, Finished, Failed (Event: any of them); parse_event.
- CHAT_STREAM, CHAT_EVENTS: the chatStream and chatEvents subscriptions, selecting what
  parse_event reads.
"""

from dataclasses import dataclass
from typing import Any

EVENT_FIELDS = """
  __typename
  ... on StreamStarted { seq assistantMessageId model }
  ... on TextDelta { seq messageId delta }
  ... on ToolCallEvent { seq messageId toolName arguments }
  ... on ToolResultEvent { seq messageId result isError }
  ... on StreamFinished {
    seq finishReason usage { outputTokens } message { id status text }
  }
  ... on StreamFailed { seq messageId code errorMessage }
"""
CHAT_STREAM = f"""
subscription Stream($input: ChatStreamInput!) {{ chatStream(input: $input) {{ {EVENT_FIELDS} }} }}
"""
CHAT_EVENTS = f"""
subscription Events($chatId: ID!, $afterSeq: Int) {{
  chatEvents(chatId: $chatId, afterSeq: $afterSeq) {{ {EVENT_FIELDS} }}
}}
"""


@dataclass(frozen=True, slots=True)
class Started:
    """The reply began: its assistant message and model."""

    seq: int
    message_id: str
    model: str


@dataclass(frozen=True, slots=True)
class Delta:
    """More text of the reply."""

    seq: int
    message_id: str
    text: str


@dataclass(frozen=True, slots=True)
class ToolCall:
    """The model called a tool."""

    seq: int
    message_id: str
    name: str
    arguments: Any


@dataclass(frozen=True, slots=True)
class ToolResult:
    """A tool answered."""

    seq: int
    message_id: str
    result: Any
    is_error: bool


@dataclass(frozen=True, slots=True)
class Finished:
    """The reply ended and is saved: why it ended, and the saved text."""

    seq: int
    message_id: str
    finish_reason: str
    status: str
    text: str
    output_tokens: int | None


@dataclass(frozen=True, slots=True)
class Failed:
    """The reply failed."""

    seq: int
    message_id: str
    code: str
    message: str


Event = Started | Delta | ToolCall | ToolResult | Finished | Failed


def parse_event(data: dict[str, Any]) -> Event:
    """The event of one StreamEvent result (as selected by EVENT_FIELDS)."""
    kind, seq = data["__typename"], data["seq"]
    if kind == "StreamStarted":
        return Started(seq, data["assistantMessageId"], data["model"])
    if kind == "TextDelta":
        return Delta(seq, data["messageId"], data["delta"])
    if kind == "ToolCallEvent":
        return ToolCall(seq, data["messageId"], data["toolName"], data["arguments"])
    if kind == "ToolResultEvent":
        return ToolResult(seq, data["messageId"], data["result"], data["isError"])
    if kind == "StreamFinished":
        message, usage = data["message"], data["usage"]
        tokens = usage["outputTokens"] if usage else None
        return Finished(
            seq, message["id"], data["finishReason"], message["status"], message["text"], tokens
        )
    return Failed(seq, data["messageId"], data["code"], data["errorMessage"])

"""Message parts: the JSON documents stored in `messages.parts`, shared by every layer.

A message is a list of parts, each a dict with a `type`:
- text:        {"type": "text", "text": str}
- file:        {"type": "file", "url": str, "media_type": str, "name": str | None}
- tool_call:   {"type": "tool_call", "tool_call_id": str, "tool_name": str, "arguments": dict,
                "state": a ToolCallState value}
- tool_result: {"type": "tool_result", "tool_call_id": str, "tool_name": str,
                "result": JSON value, "is_error": bool}

Also offers `tool_call_part` (builds a tool_call part), `awaiting_approval` and `text_of`.
"""

from typing import Any, Literal, NotRequired, TypedDict

from src.core.enums import ToolCallState

PartType = Literal["text", "file", "tool_call", "tool_result"]


class TextPart(TypedDict):
    """Text written by the user or the model."""

    type: Literal["text"]
    text: str


class FilePart(TypedDict):
    """A file referenced by URL."""

    type: Literal["file"]
    url: str
    media_type: str
    name: NotRequired[str | None]


class ToolCallPart(TypedDict):
    """A tool call made by the model."""

    type: Literal["tool_call"]
    tool_call_id: str
    tool_name: str
    arguments: dict[str, Any]
    state: ToolCallState


class ToolResultPart(TypedDict):
    """The result of a tool call (an error result when `is_error`)."""

    type: Literal["tool_result"]
    tool_call_id: str
    tool_name: str
    result: Any
    is_error: bool


Part = TextPart | FilePart | ToolCallPart | ToolResultPart


def tool_call_part(
    tool_call_id: str, tool_name: str, arguments: dict[str, Any], state: ToolCallState
) -> dict[str, Any]:
    """A tool_call part (see the module docstring)."""
    return {
        "type": "tool_call",
        "tool_call_id": tool_call_id,
        "tool_name": tool_name,
        "arguments": arguments,
        "state": state.value,
    }


def awaiting_approval(parts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The tool_call parts that wait for the owner's decision."""
    waiting = ToolCallState.AWAITING_APPROVAL.value
    return [p for p in parts if p.get("type") == "tool_call" and p["state"] == waiting]


def text_of(parts: list[dict[str, Any]]) -> str:
    """All text parts joined, as stored in `messages.text` and shown as `Message.text`."""
    return "".join(part["text"] for part in parts if part.get("type") == "text")

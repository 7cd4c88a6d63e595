"""Message parts: the JSON documents stored in `messages.parts`, shared by every layer.

A message is a list of parts, each a dict with a `type`:
- text:        {"type": "text", "text": str}
- file:        {"type": "file", "url": str, "media_type": str, "name": str | None}
- tool_call:   {"type": "tool_call", "tool_call_id": str, "tool_name": str, "arguments": dict}
- tool_result: {"type": "tool_result", "tool_call_id": str, "tool_name": str,
                "result": JSON value, "is_error": bool}
"""

from typing import Any, Literal, NotRequired, TypedDict

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


class ToolResultPart(TypedDict):
    """The result of a tool call (an error result when `is_error`)."""

    type: Literal["tool_result"]
    tool_call_id: str
    tool_name: str
    result: Any
    is_error: bool


Part = TextPart | FilePart | ToolCallPart | ToolResultPart


def text_of(parts: list[dict[str, Any]]) -> str:
    """All text parts joined, as stored in `messages.text` and shown as `Message.text`."""
    return "".join(part["text"] for part in parts if part.get("type") == "text")

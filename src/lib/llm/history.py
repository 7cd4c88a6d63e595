"""What the model sees of a chat: the system prompt and the newest turns that fit a budget.

Offers:
- build_history: a thread of stored messages (parts) -> provider messages.

A user message becomes one `user` message: its text, with each file as a line
`[file: name (media_type) url]`. An assistant message's parts, stored in the order they came,
make steps (a step ends after its tool results): each step becomes an `assistant` message (its
text and tool calls) followed by one `tool` message per call with its result. Calls without a
stored result (a reply cut short) are left out, as are results without their call.

The budget counts the characters of the thread's messages (text, tool names and arguments), not
the system prompt. Whole stored messages are dropped, oldest first, so a tool call never loses
its result; the last user message and everything after it are always kept, even beyond the
budget; and the kept part always opens with a user message.

A stored message's `text` (its text parts joined) never counts for more here than the message
does, so the thread may be read only back to the first message, going up from the newest, at
which those texts add up to more than the budget (and at least to the last user message):
nothing above it could be kept. Callers read no more than that of a long chat.
"""

import json
from typing import Any

from src.lib.llm.types import ChatMessage, ToolCallRequest, tool_message


def _file_mention(part: dict[str, Any]) -> str:
    name = part.get("name") or "unnamed"
    return f"[file: {name} ({part.get('media_type', '')}) {part.get('url', '')}]"


def _user_messages(parts: list[dict[str, Any]]) -> list[ChatMessage]:
    segments: list[str] = []
    after_text = False
    for part in parts:
        kind = part.get("type")
        if kind == "text" and after_text:
            segments[-1] += part["text"]
        elif kind == "text":
            segments.append(part["text"])
        elif kind == "file":
            segments.append(_file_mention(part))
        after_text = kind == "text"
    return [ChatMessage(role="user", content="\n".join(segments))]


def _assistant_messages(parts: list[dict[str, Any]]) -> list[ChatMessage]:
    results = {part["tool_call_id"]: part for part in parts if part.get("type") == "tool_result"}
    messages: list[ChatMessage] = []
    texts: list[str] = []
    calls: list[ToolCallRequest] = []

    def end_step() -> None:
        if texts or calls:
            messages.append(ChatMessage("assistant", "".join(texts) or None, list(calls)))
        for call in calls:
            messages.append(tool_message(call.id, call.name, results[call.id]["result"]))
        texts.clear()
        calls.clear()

    after_results = False
    for part in parts:
        kind = part.get("type")
        if kind in ("text", "tool_call") and after_results:
            end_step()
        after_results = kind == "tool_result"
        if kind == "text":
            texts.append(part["text"])
        elif kind == "tool_call" and part["tool_call_id"] in results:
            calls.append(
                ToolCallRequest(part["tool_call_id"], part["tool_name"], part["arguments"])
            )
    end_step()
    return messages


def _size(messages: list[ChatMessage]) -> int:
    return sum(
        len(message.content or "")
        + sum(len(call.name) + len(json.dumps(call.arguments)) for call in message.tool_calls)
        for message in messages
    )


def build_history(
    system_prompt: str | None,
    thread: list[tuple[str, list[dict[str, Any]]]],
    budget_chars: int,
) -> list[ChatMessage]:
    """The provider messages for a thread.

    Args:
        system_prompt: The system message; None or empty for none.
        thread: `(role, parts)` of the stored messages from the root to the parent of the reply,
            oldest first; role is "USER" or "ASSISTANT".
        budget_chars: The most characters of thread messages to send (see the module docstring).

    Returns:
        The system message (if any), then the kept turns, oldest first.
    """
    turns = [
        _user_messages(parts) if role == "USER" else _assistant_messages(parts)
        for role, parts in thread
    ]
    roles = [role for role, _ in thread]
    start = max((i for i, role in enumerate(roles) if role == "USER"), default=len(turns))
    used = sum(_size(turn) for turn in turns[start:])
    while start > 0 and used + _size(turns[start - 1]) <= budget_chars:
        start -= 1
        used += _size(turns[start])
    while start < len(roles) and roles[start] != "USER":
        start += 1
    system = [ChatMessage(role="system", content=system_prompt)] if system_prompt else []
    return system + [message for turn in turns[start:] for message in turn]

"""GraphQL operations and helpers shared by the streaming tests."""

import uuid
from collections.abc import AsyncIterator
from typing import Any

from tests.ws import GraphQLSocket, open_socket

EVENT_FIELDS = """
  __typename
  ... on StreamStarted { seq chatId assistantMessageId model userMessage { id role text } }
  ... on TextDelta { seq messageId delta }
  ... on ToolCallEvent { seq messageId toolCallId toolName arguments }
  ... on ToolApprovalRequested { seq messageId toolCallId toolName arguments }
  ... on ToolResultEvent { seq messageId toolCallId result isError }
  ... on StreamFinished {
    seq finishReason usage { inputTokens outputTokens }
    message {
      id parentId role status text finishReason model
      parts {
        __typename
        ... on TextPart { text }
        ... on ToolCallPart { toolCallId toolName arguments state }
        ... on ToolResultPart { toolCallId toolName result isError }
      }
    }
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
STOP = "mutation Stop($chatId: ID!) { stopGeneration(chatId: $chatId) }"
CHAT = """
query Chat($id: ID!) {
  chat(id: $id) {
    id title currentLeafId messageCount
    activeGeneration { messageId model lastSeq startedAt }
    thread { id role status text parentId finishReason }
  }
}
"""


def message_input(
    chat_id: uuid.UUID | str, text: str, message_id: str | None = None, **extra: Any
) -> dict[str, Any]:
    """A chatStream input with one text part."""
    message: dict[str, Any] = {"parts": [{"text": text}]}
    if message_id:
        message["id"] = message_id
    return {"chatId": str(chat_id), "message": message, **extra}


async def stream_reply(
    server_url: str,
    token: str,
    stream_input: dict[str, Any],
    protocol: str = "graphql-transport-ws",
) -> list[dict[str, Any]]:
    """Every event of one chatStream, until it completes."""
    async with open_socket(server_url, token, protocol) as socket:
        await socket.subscribe("1", CHAT_STREAM, {"input": stream_input})
        return await socket.collect("1", "chatStream")


def streamed_text(events: list[dict[str, Any]]) -> str:
    """The text carried by the TextDelta events."""
    return "".join(e["delta"] for e in events if e["__typename"] == "TextDelta")


async def watch_until_finished(
    socket: GraphQLSocket, op_id: str, replies: int = 1
) -> list[dict[str, Any]]:
    """The chatEvents events of an operation up to the StreamFinished of `replies` replies."""
    events: list[dict[str, Any]] = []
    async for data in socket.events(op_id):
        events.append(data["chatEvents"])
        replies -= events[-1]["__typename"] == "StreamFinished"
        if replies == 0:
            return events
    raise AssertionError("the watch ended early")


async def until_terminal(events: AsyncIterator[dict[str, Any]]) -> dict[str, Any]:
    """The first StreamFinished or StreamFailed of a chatEvents subscription's events."""
    async for data in events:
        if data["chatEvents"]["__typename"] in {"StreamFinished", "StreamFailed"}:
            event: dict[str, Any] = data["chatEvents"]
            return event
    raise AssertionError("the watch ended without a terminal event")


APPROVAL_QUESTION = "What is 6 * 7?"  # the demo model calls the calculator
DECIDE = """
mutation Decide($chatId: ID!, $toolCallId: String!, $approve: Boolean!, $reason: String) {
  decideToolCall(chatId: $chatId, toolCallId: $toolCallId, approve: $approve, reason: $reason)
}
"""
PENDING = """
query Pending($id: ID!) {
  chat(id: $id) {
    activeGeneration { messageId pendingApprovals { toolCallId toolName arguments state } }
  }
}
"""


def approval_input(chat_id: uuid.UUID | str, text: str = APPROVAL_QUESTION) -> dict[str, Any]:
    """A chatStream input whose calculator calls wait for the owner's approval."""
    config = {"approvalRequiredTools": ["calculator"]}
    return message_input(chat_id, text, chatModelConfig=config)


async def until_event(events: AsyncIterator[dict[str, Any]], typename: str) -> list[dict[str, Any]]:
    """The events of one operation up to the first of `typename` (included)."""
    taken: list[dict[str, Any]] = []
    async for data in events:
        taken.append(next(iter(data.values())))
        if taken[-1]["__typename"] == typename:
            return taken
    raise AssertionError(f"the operation ended before {typename}")

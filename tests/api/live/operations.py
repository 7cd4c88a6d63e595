"""GraphQL operations and helpers shared by the userEvents and title tests."""

import uuid
from typing import Any

from fastapi import FastAPI

from tests.ws import GraphQLSocket

USER_EVENTS = """
subscription Live {
  userEvents {
    __typename
    ... on ChatCreated { chat { id title visibility messageCount } }
    ... on ChatUpdated { chat { id title visibility currentLeafId messageCount } }
    ... on ChatDeleted { chatId }
    ... on GenerationStarted { chatId generation { messageId model startedAt lastSeq } }
    ... on GenerationEnded { chatId messageId status finishReason }
  }
}
"""
CREATE = """
mutation Create($input: CreateChatInput) { createChat(input: $input) { id title } }
"""
UPDATE = """
mutation Update($id: ID!, $input: UpdateChatInput!) {
  updateChat(id: $id, input: $input) { id title visibility }
}
"""
DELETE = "mutation Delete($id: ID!) { deleteChat(id: $id) }"
SWITCH = """
mutation Switch($chatId: ID!, $leafId: ID!) {
  switchBranch(chatId: $chatId, leafId: $leafId) { id }
}
"""
TITLE = "query Title($id: ID!) { chat(id: $id) { title } }"


async def run(
    socket: GraphQLSocket, op_id: str, query: str, variables: dict[str, Any]
) -> dict[str, Any]:
    """Run a query or mutation over the socket; return its data."""
    await socket.subscribe(op_id, query, variables)
    results = [data async for data in socket.events(op_id)]
    assert len(results) == 1, results
    return results[0]


async def take(socket: GraphQLSocket, op_id: str, count: int) -> list[dict[str, Any]]:
    """The next `count` userEvents of an operation."""
    results = socket.events(op_id)
    return [(await anext(results))["userEvents"] for _ in range(count)]


def subscribers(app: FastAPI, user_id: str) -> int:
    """How many userEvents subscriptions of the user the app serves."""
    count: int = app.state.runtime.broker.user_events.subscriber_count(uuid.UUID(user_id))
    return count


def kinds(events: list[dict[str, Any]]) -> list[str]:
    """The type names of events."""
    return [event["__typename"] for event in events]

"""Message fields (parts, text, usage, status) and ratings."""

import uuid
from typing import Any

from fastapi import FastAPI

from src.core.enums import MessageRole, Visibility
from tests.api.chats.operations import RATE_MESSAGE
from tests.api.conftest import OwnedChat
from tests.factories import add_message, create_chat, sign_up
from tests.helpers import GraphQLClient

LAST_MESSAGE = """
query Last($id: ID!) {
  chat(id: $id) {
    messageCount
    lastMessage {
      id chatId parentId childIds role text status model finishReason rating createdAt
      usage { inputTokens outputTokens }
      parts {
        __typename
        ... on TextPart { text }
        ... on FilePart { url mediaType name }
        ... on ToolCallPart { toolCallId toolName arguments }
        ... on ToolResultPart { toolCallId toolName result isError }
      }
    }
  }
}
"""
PARTS: list[dict[str, Any]] = [
    {"type": "text", "text": "Here is "},
    {"type": "file", "url": "https://example.com/a.png", "media_type": "image/png", "name": None},
    {
        "type": "tool_call",
        "tool_call_id": "c1",
        "tool_name": "add",
        "arguments": {"a": 1},
        "state": "DONE",
    },
    {
        "type": "tool_result",
        "tool_call_id": "c1",
        "tool_name": "add",
        "result": {"sum": [1, "x", None]},
        "is_error": False,
    },
    {"type": "text", "text": "the answer."},
    {"type": "reasoning", "text": "a part type this API does not know"},
]


async def test_a_message_shows_its_parts_text_and_usage(
    client: GraphQLClient, app: FastAPI, ada_chat: OwnedChat
) -> None:
    ada, chat_id = ada_chat
    question = await add_message(app, chat_id, "question")
    answer = await add_message(
        app,
        chat_id,
        parent_id=question,
        role=MessageRole.ASSISTANT,
        parts=PARTS,
        usage={"input_tokens": 12, "output_tokens": 34},
    )
    data = await client.data(LAST_MESSAGE, {"id": chat_id}, token=ada.token)
    message = data["chat"]["lastMessage"]
    assert data["chat"]["messageCount"] == 2
    assert message.pop("createdAt")
    assert message == {
        "id": answer,
        "chatId": chat_id,
        "parentId": question,
        "childIds": [],
        "role": "ASSISTANT",
        "text": "Here is the answer.",
        "status": "COMPLETE",
        "model": "demo",
        "finishReason": "STOP",
        "rating": None,
        "usage": {"inputTokens": 12, "outputTokens": 34},
        "parts": [
            {"__typename": "TextPart", "text": "Here is "},
            {
                "__typename": "FilePart",
                "url": "https://example.com/a.png",
                "mediaType": "image/png",
                "name": None,
            },
            {
                "__typename": "ToolCallPart",
                "toolCallId": "c1",
                "toolName": "add",
                "arguments": {"a": 1},
            },
            {
                "__typename": "ToolResultPart",
                "toolCallId": "c1",
                "toolName": "add",
                "result": {"sum": [1, "x", None]},
                "isError": False,
            },
            {"__typename": "TextPart", "text": "the answer."},
        ],
    }


async def test_a_user_message_has_no_model_usage_or_parent(
    client: GraphQLClient, app: FastAPI, ada_chat: OwnedChat
) -> None:
    ada, chat_id = ada_chat
    await add_message(app, chat_id, "hi")
    message = (await client.data(LAST_MESSAGE, {"id": chat_id}, token=ada.token))["chat"][
        "lastMessage"
    ]
    assert (message["role"], message["parentId"], message["model"], message["usage"]) == (
        "USER",
        None,
        None,
        None,
    )
    assert message["parts"] == [{"__typename": "TextPart", "text": "hi"}]


async def rating_of(client: GraphQLClient, token: str, message_id: str, rating: str | None) -> str:
    data = await client.data(RATE_MESSAGE, {"messageId": message_id, "rating": rating}, token=token)
    assert data["rateMessage"]["id"] == message_id
    value: str = data["rateMessage"]["rating"]
    return value


async def test_rate_message_sets_changes_and_clears_the_rating(
    client: GraphQLClient, app: FastAPI, ada_chat: OwnedChat
) -> None:
    ada, chat_id = ada_chat
    message_id = await add_message(app, chat_id)
    assert await rating_of(client, ada.token, message_id, "UP") == "UP"
    assert await rating_of(client, ada.token, message_id, "DOWN") == "DOWN"
    assert await rating_of(client, ada.token, message_id, None) is None
    assert await rating_of(client, ada.token, message_id, None) is None
    await rating_of(client, ada.token, message_id, "UP")
    omitted = await client.data(
        "mutation Clear($id: ID!) { rateMessage(messageId: $id) { rating } }",
        {"id": message_id},
        token=ada.token,
    )
    assert omitted == {"rateMessage": {"rating": None}}


async def test_two_ratings_in_one_request_each_see_their_own_write(
    client: GraphQLClient, app: FastAPI, ada_chat: OwnedChat
) -> None:
    ada, chat_id = ada_chat
    message_id = await add_message(app, chat_id)
    data = await client.data(
        """
        mutation Twice($id: ID!) {
          up: rateMessage(messageId: $id, rating: UP) { rating }
          down: rateMessage(messageId: $id, rating: DOWN) { rating }
        }
        """,
        {"id": message_id},
        token=ada.token,
    )
    assert data == {"up": {"rating": "UP"}, "down": {"rating": "DOWN"}}


async def test_ratings_are_per_user_on_a_public_chat(client: GraphQLClient, app: FastAPI) -> None:
    ada, bob = await sign_up(client, "ada"), await sign_up(client, "bob")
    chat_id = await create_chat(app, ada, visibility=Visibility.PUBLIC)
    message_id = await add_message(app, chat_id)
    assert await rating_of(client, ada.token, message_id, "UP") == "UP"
    assert await rating_of(client, bob.token, message_id, "DOWN") == "DOWN"
    for person, rating in ((ada, "UP"), (bob, "DOWN")):
        data = await client.data(LAST_MESSAGE, {"id": chat_id}, token=person.token)
        assert data["chat"]["lastMessage"]["rating"] == rating


async def test_rate_message_checks_the_id(client: GraphQLClient) -> None:
    ada = await sign_up(client, "ada")
    bad = await client.error(RATE_MESSAGE, {"messageId": "x", "rating": "UP"}, token=ada.token)
    assert bad["extensions"] == {"code": "BAD_USER_INPUT", "field": "messageId"}
    unknown = await client.error(
        RATE_MESSAGE, {"messageId": str(uuid.uuid4()), "rating": "UP"}, token=ada.token
    )
    assert unknown["extensions"] == {"code": "NOT_FOUND"}
    anonymous = await client.error(RATE_MESSAGE, {"messageId": str(uuid.uuid4()), "rating": "UP"})
    assert anonymous["extensions"] == {"code": "UNAUTHENTICATED"}

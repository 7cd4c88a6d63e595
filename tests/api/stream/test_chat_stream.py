"""chatStream over real WebSockets: whole replies, tools, branches, idempotency, limits."""

import uuid
from typing import Any

import pytest
from fastapi import FastAPI

from src.lib.db.models import UsageRecord
from src.lib.db.types import generate_uuid7
from tests.api.stream.operations import (
    CHAT,
    CHAT_STREAM,
    message_input,
    stream_reply,
    streamed_text,
)
from tests.helpers import GraphQLClient
from tests.ws import OperationError, open_socket

PROTOCOLS = ["graphql-transport-ws", "graphql-ws"]


def _check_sequence(events: list[dict[str, Any]]) -> None:
    # Strictly increasing from 0; gaps only where a lagging reader got deltas merged.
    seqs = [e["seq"] for e in events]
    assert seqs[0] == 0 and seqs == sorted(set(seqs))
    assert events[0]["__typename"] == "StreamStarted"
    assert events[-1]["__typename"] in {"StreamFinished", "StreamFailed"}


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_a_whole_reply_streams_and_is_saved(
    client: GraphQLClient, server_url: str, protocol: str
) -> None:
    auth = await client.register()
    chat_id = uuid.uuid4()
    events = await stream_reply(
        server_url, auth["accessToken"], message_input(chat_id, "Hello there, model"), protocol
    )
    _check_sequence(events)
    started, finished = events[0], events[-1]
    assert started["chatId"] == str(chat_id)
    assert started["model"] == "demo"
    assert started["userMessage"]["text"] == "Hello there, model"
    assert finished["__typename"] == "StreamFinished"
    assert finished["finishReason"] == "STOP"
    message = finished["message"]
    assert message["id"] == started["assistantMessageId"]
    assert message["status"] == "COMPLETE" and message["role"] == "ASSISTANT"
    assert message["parentId"] == started["userMessage"]["id"]
    assert "demo" in message["text"].lower()
    assert streamed_text(events) == message["text"]
    assert len(streamed_text(events).split()) > 3
    assert finished["usage"]["outputTokens"] > 0

    chat = (await client.data(CHAT, {"id": str(chat_id)}, auth["accessToken"]))["chat"]
    assert chat["title"] == "Hello there, model"
    assert chat["currentLeafId"] == message["id"]
    assert chat["activeGeneration"] is None
    assert [m["role"] for m in chat["thread"]] == ["USER", "ASSISTANT"]
    assert chat["thread"][1]["text"] == message["text"]


async def test_tool_calls_and_results_stream_and_are_saved(
    client: GraphQLClient, server_url: str
) -> None:
    auth = await client.register()
    events = await stream_reply(
        server_url, auth["accessToken"], message_input(uuid.uuid4(), "What is 12*(3+4)?")
    )
    _check_sequence(events)
    call = next(e for e in events if e["__typename"] == "ToolCallEvent")
    result = next(e for e in events if e["__typename"] == "ToolResultEvent")
    assert call["toolName"] == "calculator"
    assert result["toolCallId"] == call["toolCallId"] and result["isError"] is False
    assert result["result"]["result"] == 84
    message = events[-1]["message"]
    kinds = [p["__typename"] for p in message["parts"]]
    assert "ToolCallPart" in kinds and "ToolResultPart" in kinds
    assert kinds.index("ToolCallPart") < kinds.index("ToolResultPart")
    assert "84" in message["text"]


async def test_the_time_tool_takes_a_time_zone(client: GraphQLClient, server_url: str) -> None:
    auth = await client.register()
    events = await stream_reply(
        server_url,
        auth["accessToken"],
        message_input(uuid.uuid4(), "What time is it in Asia/Tokyo?"),
    )
    call = next(e for e in events if e["__typename"] == "ToolCallEvent")
    assert call["toolName"] == "current_time"
    assert call["arguments"]["timezone"] == "Asia/Tokyo"


async def test_tools_can_be_restricted(client: GraphQLClient, server_url: str) -> None:
    auth = await client.register()
    events = await stream_reply(
        server_url,
        auth["accessToken"],
        message_input(uuid.uuid4(), "What is 2+2?", chatModelConfig={"tools": []}),
    )
    assert not [e for e in events if e["__typename"] == "ToolCallEvent"]
    assert events[-1]["finishReason"] == "STOP"


async def test_regenerate_and_edit_make_branches(client: GraphQLClient, server_url: str) -> None:
    auth = await client.register()
    token, chat_id = auth["accessToken"], uuid.uuid4()
    first = await stream_reply(server_url, token, message_input(chat_id, "First question"))
    user_id = first[0]["userMessage"]["id"]
    first_reply = first[-1]["message"]["id"]

    regenerated = await stream_reply(
        server_url, token, {"chatId": str(chat_id), "parentId": user_id}
    )
    assert regenerated[0]["userMessage"] is None
    second_reply = regenerated[-1]["message"]
    assert second_reply["parentId"] == user_id and second_reply["id"] != first_reply

    edited = await stream_reply(
        server_url, token, message_input(chat_id, "First question, edited", parentId=None)
    )
    assert edited[0]["userMessage"]["id"] != user_id

    children = await client.data(
        "query C($id: ID!) { node(id: $id) { ... on Message { childIds } } }",
        {"id": user_id},
        token,
    )
    assert children["node"]["childIds"] == [first_reply, second_reply["id"]]
    chat = (await client.data(CHAT, {"id": str(chat_id)}, token))["chat"]
    assert chat["messageCount"] == 5
    assert chat["thread"][0]["text"] == "First question, edited"


async def test_a_reply_follows_the_current_leaf_by_default(
    client: GraphQLClient, server_url: str
) -> None:
    auth = await client.register()
    token, chat_id = auth["accessToken"], uuid.uuid4()
    first = await stream_reply(server_url, token, message_input(chat_id, "one"))
    second = await stream_reply(server_url, token, message_input(chat_id, "two"))
    assert second[-1]["message"]["parentId"] == second[0]["userMessage"]["id"]
    thread = (await client.data(CHAT, {"id": str(chat_id)}, token))["chat"]["thread"]
    assert [m["id"] for m in thread][:2] == [
        first[0]["userMessage"]["id"],
        first[-1]["message"]["id"],
    ]
    assert len(thread) == 4


async def test_the_same_message_id_twice_creates_one_message_and_replays(
    client: GraphQLClient, server_url: str
) -> None:
    auth = await client.register()
    token, chat_id, message_id = auth["accessToken"], uuid.uuid4(), str(generate_uuid7())
    first = await stream_reply(server_url, token, message_input(chat_id, "Hi", message_id))
    again = await stream_reply(server_url, token, message_input(chat_id, "Hi", message_id))
    assert [e["__typename"] for e in again] == ["StreamStarted", "StreamFinished"]
    assert again[-1]["message"]["id"] == first[-1]["message"]["id"]
    assert again[-1]["message"]["text"] == first[-1]["message"]["text"]
    chat = (await client.data(CHAT, {"id": str(chat_id)}, token))["chat"]
    assert chat["messageCount"] == 2
    me = await client.data("{ me { entitlements { messagesUsedToday } } }", token=token)
    assert me["me"]["entitlements"]["messagesUsedToday"] == 1


async def test_a_second_stream_in_a_busy_chat_is_a_conflict(
    client: GraphQLClient, server_url: str
) -> None:
    auth = await client.register()
    token, chat_id = auth["accessToken"], uuid.uuid4()
    async with open_socket(server_url, token) as socket:
        await socket.subscribe("1", CHAT_STREAM, {"input": message_input(chat_id, "word " * 80)})
        started = await anext(socket.events("1"))
        assert started["chatStream"]["__typename"] == "StreamStarted"
        await socket.subscribe("2", CHAT_STREAM, {"input": message_input(chat_id, "again")})
        with pytest.raises(OperationError) as error:
            await socket.collect("2", "chatStream")
        assert error.value.code == "CONFLICT"
        events = await socket.collect("1", "chatStream")
        assert events[-1]["__typename"] == "StreamFinished"
    chat = (await client.data(CHAT, {"id": str(chat_id)}, token))["chat"]
    assert chat["messageCount"] == 2


USED_TODAY = "{ me { entitlements { messagesUsedToday messagesRemaining } } }"


async def test_the_daily_limit_gives_rate_limited_and_deleting_chats_gives_nothing_back(
    client: GraphQLClient, server_url: str, app: FastAPI
) -> None:
    guest = await client.guest()
    token, chat_id = guest["accessToken"], uuid.uuid4()
    for text in ("one", "two"):
        await stream_reply(server_url, token, message_input(chat_id, text))
    await client.data("mutation D($id: ID!) { deleteChat(id: $id) }", {"id": str(chat_id)}, token)
    used = (await client.data(USED_TODAY, token=token))["me"]["entitlements"]
    assert used == {"messagesUsedToday": 2, "messagesRemaining": 18}

    async with app.state.runtime.session_factory.begin() as db:
        for _ in range(18):  # the rest of the guest's 20, as if sent in other chats
            db.add(UsageRecord(user_id=uuid.UUID(guest["user"]["id"])))
    with pytest.raises(OperationError) as error:
        await stream_reply(server_url, token, message_input(uuid.uuid4(), "one more"))
    assert error.value.code == "RATE_LIMITED"
    assert error.value.errors[0]["extensions"]["retryAfter"] > 0
    chats = await client.data("{ chats { totalCount } }", token=token)
    assert chats["chats"]["totalCount"] == 0


def _bad(parts: list[dict[str, Any]] | None = None, **extra: Any) -> dict[str, Any]:
    message = {"parts": [{"text": "hi"}] if parts is None else parts}
    return {"chatId": str(uuid.uuid4()), "message": message} | extra


def _config(**config: Any) -> dict[str, Any]:
    return _bad(chatModelConfig=config)


LOCAL_FILE = {"file": {"url": "file:///etc/passwd", "mediaType": "text/plain"}}
CAT = {"file": {"url": "https://example.com/cat.png", "mediaType": "image/png", "name": "cat.png"}}


@pytest.mark.parametrize(
    ("stream_input", "field"),
    [
        (_bad(chatId="nope"), "input.chatId"),
        (_bad(parts=[]), "input.message.parts"),
        (_bad(parts=[{"text": " "}]), "input.message.parts"),
        ({"chatId": str(uuid.uuid4())}, "input.parentId"),
        (_bad(parts=[LOCAL_FILE]), "input.message.parts.file.url"),
        (_config(model="gpt-nope"), "input.chatModelConfig.model"),
        (_config(tools=["rm_rf"]), "input.chatModelConfig.tools"),
        (_config(temperature=9), "input.chatModelConfig.temperature"),
    ],
)
async def test_bad_input_is_bad_user_input_and_creates_nothing(
    client: GraphQLClient, server_url: str, stream_input: dict[str, Any], field: str
) -> None:
    auth = await client.register()
    with pytest.raises(OperationError) as error:
        await stream_reply(server_url, auth["accessToken"], stream_input)
    assert error.value.errors[0]["extensions"] == {"code": "BAD_USER_INPUT", "field": field}
    chats = await client.data("{ chats { totalCount } }", token=auth["accessToken"])
    assert chats["chats"]["totalCount"] == 0


async def test_a_part_with_two_fields_breaks_one_of(client: GraphQLClient, server_url: str) -> None:
    auth = await client.register()
    bad = _bad(parts=[{"text": "a", **CAT}])
    with pytest.raises(OperationError) as error:
        await stream_reply(server_url, auth["accessToken"], bad)
    assert error.value.code == "BAD_USER_INPUT"


FILE_PARTS = """
query N($id: ID!) {
  node(id: $id) { ... on Message { parts { __typename ... on FilePart { url mediaType name } } } }
}
"""


async def test_a_file_part_is_saved_with_the_message(
    client: GraphQLClient, server_url: str
) -> None:
    auth = await client.register()
    events = await stream_reply(
        server_url, auth["accessToken"], _bad(parts=[{"text": "Look"}, CAT])
    )
    user_id = events[0]["userMessage"]["id"]
    node = await client.data(FILE_PARTS, {"id": user_id}, auth["accessToken"])
    assert node["node"]["parts"][1] == {"__typename": "FilePart", **CAT["file"]}


async def test_a_strangers_chat_cannot_be_streamed_into(
    client: GraphQLClient, server_url: str
) -> None:
    owner = await client.register("owner@example.com")
    stranger = await client.register("stranger@example.com")
    chat_id = uuid.uuid4()
    await stream_reply(server_url, owner["accessToken"], message_input(chat_id, "mine"))
    with pytest.raises(OperationError) as error:
        await stream_reply(server_url, stranger["accessToken"], message_input(chat_id, "theirs"))
    assert error.value.code == "NOT_FOUND"
    chat = (await client.data(CHAT, {"id": str(chat_id)}, owner["accessToken"]))["chat"]
    assert chat["messageCount"] == 2


async def test_the_length_limit_ends_with_length(client: GraphQLClient, server_url: str) -> None:
    auth = await client.register()
    events = await stream_reply(
        server_url,
        auth["accessToken"],
        message_input(uuid.uuid4(), "Tell me a story", chatModelConfig={"maxOutputTokens": 3}),
    )
    assert events[-1]["finishReason"] == "LENGTH"
    assert len(streamed_text(events).split()) == 3


async def test_a_provider_failure_mid_stream_saves_what_arrived(
    client: GraphQLClient, server_url: str
) -> None:
    auth = await client.register()
    chat_id = uuid.uuid4()
    events = await stream_reply(
        server_url, auth["accessToken"], message_input(chat_id, "Please [[fail]] now")
    )
    _check_sequence(events)
    failed = events[-1]
    assert failed["__typename"] == "StreamFailed"
    assert failed["code"] == "PROVIDER_UNAVAILABLE"
    assert "Traceback" not in failed["errorMessage"]
    partial = streamed_text(events)
    assert partial
    thread = (await client.data(CHAT, {"id": str(chat_id)}, auth["accessToken"]))["chat"]["thread"]
    assert thread[-1]["status"] == "FAILED"
    assert thread[-1]["finishReason"] == "ERROR"
    assert thread[-1]["text"] == partial

"""Tool calls that wait for the chat owner's approval, over real WebSockets on both databases.

The demo model calls `calculator` for "What is 6 * 7?"; `approvalRequiredTools: ["calculator"]`
makes that call wait for `decideToolCall`.
"""

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from main import create_app
from tests.api.conftest import OwnedChat
from tests.api.stream.operations import (
    CHAT_EVENTS,
    CHAT_STREAM,
    DECIDE,
    PENDING,
    STOP,
    approval_input,
    until_event,
)
from tests.conftest import make_settings, serve
from tests.factories import sign_up
from tests.helpers import GraphQLClient
from tests.ws import OperationError, open_socket

CALL_ID = "call_demo_1"


def _decision(chat: OwnedChat, approve: bool, reason: str | None = None) -> dict[str, Any]:
    return {"chatId": chat.chat_id, "toolCallId": CALL_ID, "approve": approve, "reason": reason}


async def _decide(client: GraphQLClient, chat: OwnedChat, approve: bool, **reason: str) -> bool:
    data = await client.data(DECIDE, _decision(chat, approve, **reason), chat.owner.token)
    decided: bool = data["decideToolCall"]
    return decided


def _parts(finished: dict[str, Any], typename: str) -> list[dict[str, Any]]:
    return [p for p in finished["message"]["parts"] if p["__typename"] == typename]


async def _rest(events: AsyncIterator[dict[str, Any]]) -> list[dict[str, Any]]:
    return [next(iter(data.values())) async for data in events]


async def test_an_approved_call_runs_and_the_reply_completes(
    client: GraphQLClient, server_url: str, ada_chat: OwnedChat
) -> None:
    token = ada_chat.owner.token
    async with open_socket(server_url, token) as socket:
        await socket.subscribe("1", CHAT_STREAM, {"input": approval_input(ada_chat.chat_id)})
        events = socket.events("1")
        before = await until_event(events, "ToolApprovalRequested")
        request = before[-1]
        pending = (await client.data(PENDING, {"id": ada_chat.chat_id}, token))["chat"]
        assert await _decide(client, ada_chat, approve=True)
        after = await _rest(events)

    call = {"toolCallId": CALL_ID, "toolName": "calculator", "arguments": {"expression": "6 * 7"}}
    assert before[-2] == {"__typename": "ToolCallEvent", "seq": request["seq"] - 1,
                          "messageId": request["messageId"], **call}  # fmt: skip
    assert request == {"__typename": "ToolApprovalRequested", "seq": request["seq"],
                       "messageId": request["messageId"], **call}  # fmt: skip
    assert pending["activeGeneration"] == {
        "messageId": request["messageId"],
        "pendingApprovals": [{**call, "state": "AWAITING_APPROVAL"}],
    }
    result = next(e for e in after if e["__typename"] == "ToolResultEvent")
    assert (result["result"], result["isError"]) == ({"expression": "6 * 7", "result": 42}, False)
    finished = after[-1]
    assert finished["__typename"] == "StreamFinished"
    assert finished["message"]["status"] == "COMPLETE"
    assert "42" in finished["message"]["text"]
    assert [p["state"] for p in _parts(finished, "ToolCallPart")] == ["DONE"]
    assert not await _decide(client, ada_chat, approve=True)  # nothing waits any more


async def test_a_declined_call_tells_the_model_the_reason_and_the_reply_goes_on(
    client: GraphQLClient, server_url: str, ada_chat: OwnedChat
) -> None:
    async with open_socket(server_url, ada_chat.owner.token) as socket:
        await socket.subscribe("1", CHAT_STREAM, {"input": approval_input(ada_chat.chat_id)})
        events = socket.events("1")
        await until_event(events, "ToolApprovalRequested")
        assert await _decide(client, ada_chat, approve=False, reason="not with my numbers")
        after = await _rest(events)

    declined = {"error": "The user declined this tool call: not with my numbers"}
    result = next(e for e in after if e["__typename"] == "ToolResultEvent")
    assert (result["result"], result["isError"]) == (declined, True)
    finished = after[-1]
    assert finished["message"]["status"] == "COMPLETE"
    assert "declined" in finished["message"]["text"]  # the model went on and answered
    assert [p["state"] for p in _parts(finished, "ToolCallPart")] == ["DECLINED"]
    assert [p["result"] for p in _parts(finished, "ToolResultPart")] == [declined]


async def test_no_decision_within_the_timeout_counts_as_declined(
    app: Any, database_url: str, tmp_path: Path, ada_chat: OwnedChat
) -> None:
    settings = make_settings(database_url, tmp_path, tool_approval_timeout_seconds=0.3)
    impatient = create_app(settings)
    async with (
        impatient.router.lifespan_context(impatient),
        serve(impatient) as url,
        open_socket(url, ada_chat.owner.token) as socket,
    ):
        await socket.subscribe("1", CHAT_STREAM, {"input": approval_input(ada_chat.chat_id)})
        events = await socket.collect("1", "chatStream")

    assert "ToolApprovalRequested" in [e["__typename"] for e in events]
    finished = events[-1]
    assert finished["message"]["status"] == "COMPLETE"
    [call] = _parts(finished, "ToolCallPart")
    [result] = _parts(finished, "ToolResultPart")
    assert call["state"] == "DECLINED"
    assert result["result"] == {
        "error": "The user declined this tool call: no decision within 0.3 seconds"
    }


async def test_stop_ends_a_reply_that_waits(
    client: GraphQLClient, server_url: str, ada_chat: OwnedChat
) -> None:
    token = ada_chat.owner.token
    async with open_socket(server_url, token) as socket:
        await socket.subscribe("1", CHAT_STREAM, {"input": approval_input(ada_chat.chat_id)})
        events = socket.events("1")
        await until_event(events, "ToolApprovalRequested")
        assert (await client.data(STOP, {"chatId": ada_chat.chat_id}, token))["stopGeneration"]
        after = await _rest(events)

    finished = after[-1]
    assert finished["finishReason"] == "CANCELLED"
    assert finished["message"]["status"] == "INTERRUPTED"
    assert [p["state"] for p in _parts(finished, "ToolCallPart")] == ["DECLINED"]
    assert not await _decide(client, ada_chat, approve=True)


async def test_a_strangers_decision_is_not_found_like_a_random_chat(
    client: GraphQLClient, server_url: str, ada_chat: OwnedChat
) -> None:
    bob = await sign_up(client, "bob")
    async with open_socket(server_url, ada_chat.owner.token) as socket:
        await socket.subscribe("1", CHAT_STREAM, {"input": approval_input(ada_chat.chat_id)})
        events = socket.events("1")
        await until_event(events, "ToolApprovalRequested")
        stranger = await client.error(DECIDE, _decision(ada_chat, True), bob.token)
        random = _decision(ada_chat, True) | {"chatId": str(uuid.uuid4())}
        unknown = await client.error(DECIDE, random, ada_chat.owner.token)
        other_call = _decision(ada_chat, True) | {"toolCallId": "call_other"}
        not_waiting = await client.data(DECIDE, other_call, ada_chat.owner.token)
        assert not_waiting["decideToolCall"] is False
        assert await _decide(client, ada_chat, approve=True)  # the call still waited
        after = await _rest(events)

    assert stranger["extensions"]["code"] == unknown["extensions"]["code"] == "NOT_FOUND"
    assert after[-1]["message"]["status"] == "COMPLETE"


async def test_a_client_that_reconnects_gets_the_request_replayed_and_approves(
    client: GraphQLClient, server_url: str, ada_chat: OwnedChat
) -> None:
    token = ada_chat.owner.token
    async with open_socket(server_url, token) as socket:
        await socket.subscribe("1", CHAT_STREAM, {"input": approval_input(ada_chat.chat_id)})
        await until_event(socket.events("1"), "ToolApprovalRequested")
    # the client is gone; the reply still waits

    async with open_socket(server_url, token) as socket:
        await socket.subscribe("2", CHAT_EVENTS, {"chatId": ada_chat.chat_id})
        events = socket.events("2")
        replayed = await until_event(events, "ToolApprovalRequested")
        assert await _decide(client, ada_chat, approve=True)
        after = await until_event(events, "StreamFinished")

    assert replayed[0]["__typename"] == "StreamStarted"
    assert replayed[-1]["toolCallId"] == CALL_ID
    assert [p["state"] for p in _parts(after[-1], "ToolCallPart")] == ["DONE"]
    assert "42" in after[-1]["message"]["text"]


async def test_an_unknown_tool_to_approve_is_a_validation_error(
    server_url: str, ada_chat: OwnedChat
) -> None:
    stream_input = approval_input(ada_chat.chat_id)
    stream_input["chatModelConfig"]["approvalRequiredTools"] = ["rm_rf"]
    async with open_socket(server_url, ada_chat.owner.token) as socket:
        await socket.subscribe("1", CHAT_STREAM, {"input": stream_input})
        with pytest.raises(OperationError) as refused:
            await socket.collect("1", "chatStream")
    assert refused.value.code == "BAD_USER_INPUT"
    assert refused.value.errors[0]["extensions"]["field"] == (
        "input.chatModelConfig.approvalRequiredTools"
    )

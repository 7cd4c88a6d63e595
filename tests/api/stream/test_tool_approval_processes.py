"""A decision sent to another server process reaches the reply that waits for it.

Two real server processes (`main.py`) share a PostgreSQL database and Redis. A reply that
waits for approval runs on A; `decideToolCall` goes to B; the reply on A goes on.
"""

import uuid

import httpx
import pytest

from tests.api.stream.operations import (
    CHAT_STREAM,
    DECIDE,
    PENDING,
    approval_input,
    until_event,
)
from tests.helpers import GraphQLClient
from tests.processes import ServerProcess
from tests.ws import open_socket


@pytest.mark.parametrize("empty_database_url", ["postgresql"], indirect=True)
async def test_a_decision_sent_to_another_process_lets_the_reply_go_on(
    two_processes: tuple[ServerProcess, ServerProcess],
) -> None:
    a, b = two_processes
    async with httpx.AsyncClient(base_url=b.http_url) as http:
        client_b = GraphQLClient(http)
        token = (await client_b.register())["accessToken"]
        chat_id = str(uuid.uuid4())
        async with open_socket(a.ws_url, token) as on_a:
            await on_a.subscribe("1", CHAT_STREAM, {"input": approval_input(chat_id)})
            events = on_a.events("1")
            request = (await until_event(events, "ToolApprovalRequested"))[-1]
            chat = (await client_b.data(PENDING, {"id": chat_id}, token))["chat"]
            decision = {"chatId": chat_id, "toolCallId": request["toolCallId"], "approve": True}
            decided = (await client_b.data(DECIDE, decision, token))["decideToolCall"]
            finished = (await until_event(events, "StreamFinished"))[-1]

    assert [c["toolCallId"] for c in chat["activeGeneration"]["pendingApprovals"]] == [
        request["toolCallId"]
    ]
    assert decided is True
    assert finished["message"]["status"] == "COMPLETE"
    assert "42" in finished["message"]["text"]
    states = [p["state"] for p in finished["message"]["parts"] if "state" in p]
    assert states == ["DONE"]

"""userEvents across two real server processes (`main.py`) sharing PostgreSQL and Redis."""

import asyncio
import uuid
from typing import Any

import httpx
import pytest

from tests.api.live.operations import CREATE, DELETE, UPDATE, USER_EVENTS, kinds, take
from tests.api.stream.operations import CHAT_STREAM, message_input
from tests.helpers import GraphQLClient
from tests.processes import ServerProcess
from tests.ws import GraphQLSocket, open_socket

QUESTION = "Which birds migrate across the Sahara every autumn"
WARM_UP_ATTEMPTS = 100
WARM_UP_WAIT_SECONDS = 0.5


async def follow_from_now(
    device: GraphQLSocket, client: GraphQLClient, token: str, chat_id: str
) -> None:
    """Rename a chat until the device sees it: its userEvents then miss nothing after that."""
    for attempt in range(WARM_UP_ATTEMPTS):
        await client.data(UPDATE, {"id": chat_id, "input": {"title": f"warm-up {attempt}"}}, token)
        try:
            async with asyncio.timeout(WARM_UP_WAIT_SECONDS):
                await take(device, "live", 1)
        except TimeoutError:
            continue  # renamed before the subscription began: try again
        return
    raise AssertionError("the device never followed its user's events")


async def events_about(
    device: GraphQLSocket, chat_id: str, ending: list[str]
) -> list[dict[str, Any]]:
    """The device's next events about a chat, up to a run of events of the `ending` kinds."""
    events: list[dict[str, Any]] = []
    while kinds(events)[-len(ending) :] != ending:
        (event,) = await take(device, "live", 1)
        if (event.get("chatId") or event["chat"]["id"]) == chat_id:
            events.append(event)
    return events


@pytest.mark.parametrize("empty_database_url", ["postgresql"], indirect=True)
async def test_a_device_on_one_process_follows_changes_made_on_another(
    two_processes: tuple[ServerProcess, ServerProcess],
) -> None:
    a, b = two_processes
    chat_id = str(uuid.uuid4())
    async with httpx.AsyncClient(base_url=b.http_url) as http:
        client = GraphQLClient(http)
        token = (await client.register())["accessToken"]
        warm_up = (await client.data(CREATE, {}, token))["createChat"]["id"]
        async with open_socket(a.ws_url, token) as phone, open_socket(b.ws_url, token) as laptop:
            await phone.subscribe("live", USER_EVENTS, {})
            await follow_from_now(phone, client, token, warm_up)

            asking = {"input": message_input(chat_id, QUESTION)}
            await laptop.subscribe("reply", CHAT_STREAM, asking)
            reply = await laptop.collect("reply", "chatStream")
            seen = await events_about(phone, chat_id, ["GenerationEnded", "ChatUpdated"])
            await client.data(UPDATE, {"id": chat_id, "input": {"title": "Birds"}}, token)
            await client.data(DELETE, {"id": chat_id}, token)
            seen += await events_about(phone, chat_id, ["ChatDeleted"])

    assert kinds(seen) == [
        "ChatCreated",
        "GenerationStarted",
        "GenerationEnded",
        "ChatUpdated",
        "ChatUpdated",
        "ChatDeleted",
    ]
    assert seen[1]["generation"]["messageId"] == reply[0]["assistantMessageId"]
    assert seen[3]["chat"]["title"] == "Which birds migrate across the Sahara"
    assert seen[4]["chat"]["title"] == "Birds"

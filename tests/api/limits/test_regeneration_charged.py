"""Every model reply counts against the daily allowance, regenerations included."""

import uuid

from fastapi import FastAPI

from tests.api.limits.races import (
    GUEST_ALLOWANCE,
    finish_all,
    sockets,
    spend,
    start_all,
    usage_of,
)
from tests.api.stream.operations import message_input, stream_reply
from tests.helpers import GraphQLClient
from tests.ws import OperationError

USED_TODAY = "{ me { entitlements { messagesUsedToday messagesRemaining } } }"


def _regenerate(chat_id: uuid.UUID, user_message_id: str) -> dict[str, str]:
    return {"chatId": str(chat_id), "parentId": user_message_id}


async def test_each_regeneration_is_charged_until_the_allowance_is_spent(
    client: GraphQLClient, server_url: str, app: FastAPI
) -> None:
    guest = await client.guest()
    guest_id, token, chat_id = guest["user"]["id"], guest["accessToken"], uuid.uuid4()
    await spend(app, guest_id, GUEST_ALLOWANCE - 3)
    asked = await stream_reply(server_url, token, message_input(chat_id, "a question"))
    question = asked[0]["userMessage"]["id"]
    for _ in range(2):
        again = await stream_reply(server_url, token, _regenerate(chat_id, question))
        assert again[-1]["__typename"] == "StreamFinished"
    used = (await client.data(USED_TODAY, token=token))["me"]["entitlements"]
    assert used == {"messagesUsedToday": GUEST_ALLOWANCE, "messagesRemaining": 0}

    try:
        await stream_reply(server_url, token, _regenerate(chat_id, question))
    except OperationError as error:
        assert error.code == "RATE_LIMITED"
    else:
        raise AssertionError("a regeneration past the allowance was started")
    assert await usage_of(app, guest_id) == GUEST_ALLOWANCE


async def test_simultaneous_regenerations_with_one_reply_left_start_one(
    client: GraphQLClient, server_url: str, app: FastAPI
) -> None:
    guest = await client.guest()
    guest_id, token, chat_id = guest["user"]["id"], guest["accessToken"], uuid.uuid4()
    await spend(app, guest_id, GUEST_ALLOWANCE - 2)
    asked = await stream_reply(server_url, token, message_input(chat_id, "a question"))
    question = asked[0]["userMessage"]["id"]
    async with sockets(server_url, [token] * 4) as open_sockets:
        answers = await start_all(open_sockets, [_regenerate(chat_id, question)] * 4)
        await finish_all(open_sockets, answers)
    # the chat takes one reply at a time: the others are refused as busy (CONFLICT) or, when
    # the one that started has charged first, as over the allowance
    assert answers.count("StreamStarted") == 1
    assert set(answers) - {"StreamStarted"} <= {"CONFLICT", "RATE_LIMITED"}
    assert await usage_of(app, guest_id) == GUEST_ALLOWANCE

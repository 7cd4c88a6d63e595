"""userEvents on one server: every device of a user follows its chats; other users see nothing."""

import uuid

from fastapi import FastAPI

from src.lib.streaming.user_events import ChatDeleted, ChatUpdated
from tests.api.conftest import OwnedChat
from tests.api.live.operations import (
    CREATE,
    DELETE,
    SWITCH,
    UPDATE,
    USER_EVENTS,
    kinds,
    run,
    subscribers,
    take,
)
from tests.api.stream.operations import CHAT_STREAM, message_input
from tests.factories import add_message
from tests.helpers import GraphQLClient, wait_until
from tests.ws import open_socket


async def test_a_second_device_sees_every_change_in_order_and_a_stranger_nothing(
    app: FastAPI, client: GraphQLClient, server_url: str
) -> None:
    ada, bob = await client.register(), await client.register("bob@example.com")
    chat_id = str(uuid.uuid4())
    async with (
        open_socket(server_url, ada["accessToken"]) as laptop,
        open_socket(server_url, ada["accessToken"]) as phone,
        open_socket(server_url, bob["accessToken"]) as stranger,
    ):
        await phone.subscribe("live", USER_EVENTS, {})
        await stranger.subscribe("live", USER_EVENTS, {})
        await wait_until(
            lambda: subscribers(app, ada["user"]["id"]) == subscribers(app, bob["user"]["id"]) == 1
        )

        await run(laptop, "create", CREATE, {"input": {"id": chat_id, "title": "Plans"}})
        await run(laptop, "share", UPDATE, {"id": chat_id, "input": {"visibility": "PUBLIC"}})
        await laptop.subscribe("reply", CHAT_STREAM, {"input": message_input(chat_id, "Hi")})
        reply = await laptop.collect("reply", "chatStream")
        seen = await take(phone, "live", 5)
        await run(laptop, "delete", DELETE, {"id": chat_id})
        seen += await take(phone, "live", 1)

        bobs = await client.data(CREATE, {"input": {"title": "Bob's"}}, bob["accessToken"])
        strangers_first = await take(stranger, "live", 1)

    assert kinds(seen) == [
        "ChatCreated",
        "ChatUpdated",  # visibility
        "ChatUpdated",  # the question moved the current branch and the last activity
        "GenerationStarted",
        "GenerationEnded",  # no title event: the owner titled the chat
        "ChatDeleted",
    ]
    created, shared, asked, started, ended, deleted = seen
    assert created["chat"] == {
        "id": chat_id,
        "title": "Plans",
        "visibility": "PRIVATE",
        "messageCount": 0,
    }
    assert shared["chat"]["visibility"] == "PUBLIC"
    assert asked["chat"]["messageCount"] >= 1
    reply_id = reply[0]["assistantMessageId"]
    assert started["chatId"] == chat_id
    assert started["generation"]["messageId"] == reply_id
    assert started["generation"]["model"] == "demo"
    assert ended == {
        "__typename": "GenerationEnded",
        "chatId": chat_id,
        "messageId": reply_id,
        "status": "COMPLETE",
        "finishReason": "STOP",
    }
    assert deleted == {"__typename": "ChatDeleted", "chatId": chat_id}
    assert strangers_first == [
        {
            "__typename": "ChatCreated",
            "chat": {
                "id": bobs["createChat"]["id"],
                "title": "Bob's",
                "visibility": "PRIVATE",
                "messageCount": 0,
            },
        }
    ]


async def test_creating_the_same_chat_again_announces_nothing(
    app: FastAPI, client: GraphQLClient, server_url: str
) -> None:
    ada = await client.register()
    token, chat_id = ada["accessToken"], str(uuid.uuid4())
    async with open_socket(server_url, token) as phone:
        await phone.subscribe("live", USER_EVENTS, {})
        await wait_until(lambda: subscribers(app, ada["user"]["id"]) == 1)
        for _ in range(2):
            await client.data(CREATE, {"input": {"id": chat_id, "title": "Once"}}, token)
        await client.data(DELETE, {"id": chat_id}, token)
        seen = await take(phone, "live", 2)
    assert kinds(seen) == ["ChatCreated", "ChatDeleted"]


async def test_an_event_whose_chat_is_gone_at_delivery_is_skipped(
    app: FastAPI, client: GraphQLClient, server_url: str
) -> None:
    ada = await client.register()
    user_id, gone = uuid.UUID(ada["user"]["id"]), uuid.uuid4()
    async with open_socket(server_url, ada["accessToken"]) as phone:
        await phone.subscribe("live", USER_EVENTS, {})
        await wait_until(lambda: subscribers(app, ada["user"]["id"]) == 1)
        events = app.state.runtime.broker.user_events
        await events.publish(user_id, ChatUpdated(gone))  # no such chat when it is delivered
        await events.publish(user_id, ChatDeleted(gone))
        seen = await take(phone, "live", 1)
    assert seen == [{"__typename": "ChatDeleted", "chatId": str(gone)}]


async def test_switching_branches_is_announced_with_the_new_leaf(
    app: FastAPI, client: GraphQLClient, server_url: str, ada_chat: OwnedChat
) -> None:
    owner, chat_id = ada_chat
    first = await add_message(app, chat_id, "first")
    await add_message(app, chat_id, "second", parent_id=first)
    async with open_socket(server_url, owner.token) as phone:
        await phone.subscribe("live", USER_EVENTS, {})
        await wait_until(lambda: subscribers(app, owner.id) == 1)
        await client.data(SWITCH, {"chatId": chat_id, "leafId": first}, owner.token)
        seen = await take(phone, "live", 1)
    assert seen == [
        {
            "__typename": "ChatUpdated",
            "chat": {
                "id": chat_id,
                "title": "Chat",
                "visibility": "PRIVATE",
                "currentLeafId": first,
                "messageCount": 2,
            },
        }
    ]

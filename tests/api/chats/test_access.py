"""Ownership: another user's private chat and its messages look exactly like random ids.

A PUBLIC chat is readable by anyone signed in, never writable by anyone but its owner.
"""

import uuid
from typing import Any

import pytest
from fastapi import FastAPI

from src.core.enums import Rating, Visibility
from tests.api.chats.operations import (
    CHAT,
    CHATS,
    CREATE_CHAT,
    DELETE_CHAT,
    NODE,
    RATE_MESSAGE,
    SWITCH_BRANCH,
    THREAD,
    UPDATE_CHAT,
)
from tests.factories import Person, add_conversation, create_chat, rate, sign_up
from tests.helpers import GraphQLClient

READ_ALL = """
query ReadAll($id: ID!) {
  chat(id: $id) {
    title currentLeafId messageCount lastMessage { id rating }
    messages { totalCount edges { node { id text childIds rating } } }
    thread { id }
  }
}
"""


def operations(chat: str, message: str, own_chat: str) -> list[tuple[str, dict[str, Any]]]:
    """Every operation of this feature, aimed at a chat and a message."""
    return [
        (CHAT, {"id": chat}),
        (READ_ALL, {"id": chat}),
        (NODE, {"id": chat}),
        (NODE, {"id": message}),
        (UPDATE_CHAT, {"id": chat, "input": {"title": "mine now"}}),
        (UPDATE_CHAT, {"id": chat, "input": {"visibility": "PUBLIC"}}),
        (DELETE_CHAT, {"id": chat}),
        (SWITCH_BRANCH, {"chatId": chat, "leafId": message}),
        (SWITCH_BRANCH, {"chatId": own_chat, "leafId": message}),
        (THREAD, {"id": own_chat, "leafId": message}),
        (RATE_MESSAGE, {"messageId": message, "rating": "DOWN"}),
        (RATE_MESSAGE, {"messageId": message, "rating": None}),
        (CHATS, {"search": "secret"}),
    ]


async def snapshot(client: GraphQLClient, owner: Person, chat_id: str) -> dict[str, Any]:
    return await client.data(READ_ALL, {"id": chat_id}, token=owner.token)


async def make_private_chat(app: FastAPI, owner: Person) -> tuple[str, list[str]]:
    chat_id = await create_chat(app, owner, f"secret of {owner.id}")
    messages = await add_conversation(app, chat_id, turns=2)
    await rate(app, owner, messages[1], Rating.UP)
    return chat_id, messages


async def test_each_users_private_chats_look_like_random_ids_to_the_other(
    client: GraphQLClient, app: FastAPI
) -> None:
    ada, bob = await sign_up(client, "ada"), await sign_up(client, "bob")
    chats = {person: await make_private_chat(app, person) for person in (ada, bob)}
    before = {person: await snapshot(client, person, chats[person][0]) for person in (ada, bob)}

    for owner, intruder in ((ada, bob), (bob, ada)):
        chat_id, messages = chats[owner]
        own_chat = chats[intruder][0]
        real = operations(chat_id, messages[1], own_chat)
        fake = operations(str(uuid.uuid4()), str(uuid.uuid4()), own_chat)
        for (operation, variables), (_, random_variables) in zip(real, fake, strict=True):
            got = await client.post(operation, variables, token=intruder.token)
            expected = await client.post(operation, random_variables, token=intruder.token)
            assert got == expected, operation

    after = {person: await snapshot(client, person, chats[person][0]) for person in (ada, bob)}
    assert after == before


async def test_hidden_objects_give_null_or_not_found(client: GraphQLClient, app: FastAPI) -> None:
    ada, bob = await sign_up(client, "ada"), await sign_up(client, "bob")
    chat_id, messages = await make_private_chat(app, ada)
    own_chat = await create_chat(app, bob)
    results = [
        await client.post(operation, variables, token=bob.token)
        for operation, variables in operations(chat_id, messages[1], own_chat)
    ]
    codes = [[e["extensions"]["code"] for e in body.get("errors", [])] for body in results]
    assert codes == [[], [], [], [], *[["NOT_FOUND"]] * 8, []]
    assert [body["data"] for body in results[:4]] == [{"chat": None}] * 2 + [{"node": None}] * 2
    assert results[-1]["data"]["chats"]["edges"] == []


async def test_a_public_chat_is_readable_but_not_writable_by_others(
    client: GraphQLClient, app: FastAPI
) -> None:
    ada, bob = await sign_up(client, "ada"), await sign_up(client, "bob")
    chat_id = await create_chat(app, ada, "shared secret", Visibility.PUBLIC)
    messages = await add_conversation(app, chat_id, turns=1)

    read = await client.data(READ_ALL, {"id": chat_id}, token=bob.token)
    assert read["chat"]["title"] == "shared secret"
    assert [m["id"] for m in read["chat"]["thread"]] == messages
    node = await client.data(NODE, {"id": messages[0]}, token=bob.token)
    assert node["node"]["chatId"] == chat_id
    rated = await client.data(
        RATE_MESSAGE, {"messageId": messages[1], "rating": "UP"}, token=bob.token
    )
    assert rated["rateMessage"]["rating"] == "UP"

    for operation, variables in operations(chat_id, messages[0], await create_chat(app, bob))[4:10]:
        error = await client.error(operation, variables, token=bob.token)
        assert error["extensions"] == {"code": "NOT_FOUND"}, operation
    listed = await client.data(CHATS, {"search": "secret"}, token=bob.token)
    assert listed["chats"]["edges"] == []
    after = await client.data(READ_ALL, {"id": chat_id}, token=ada.token)
    assert after["chat"]["title"] == "shared secret"
    assert after["chat"]["lastMessage"]["rating"] is None


@pytest.mark.parametrize("visibility", [Visibility.PRIVATE, Visibility.PUBLIC])
async def test_create_chat_on_another_users_id_is_a_conflict_and_changes_nothing(
    client: GraphQLClient, app: FastAPI, visibility: Visibility
) -> None:
    ada, bob = await sign_up(client, "ada"), await sign_up(client, "bob")
    chat_id = await create_chat(app, ada, "secret", visibility)
    before = await snapshot(client, ada, chat_id)
    error = await client.error(
        CREATE_CHAT, {"input": {"id": chat_id, "title": "mine"}}, token=bob.token
    )
    assert error["extensions"] == {"code": "CONFLICT"}
    assert "secret" not in error["message"]
    assert await snapshot(client, ada, chat_id) == before

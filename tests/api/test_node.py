"""node(id): chats and messages the caller may read, the caller's own user, null otherwise."""

import uuid

from fastapi import FastAPI

from tests.api.chats.operations import NODE
from tests.factories import add_message, create_chat, sign_up
from tests.helpers import GraphQLClient


async def test_node_finds_chats_messages_and_the_caller(
    client: GraphQLClient, app: FastAPI
) -> None:
    ada = await sign_up(client, "ada")
    chat_id = await create_chat(app, ada, "Plans")
    message_id = await add_message(app, chat_id, "hello")

    async def node(node_id: str) -> object:
        return (await client.data(NODE, {"id": node_id}, token=ada.token))["node"]

    assert await node(chat_id) == {"__typename": "Chat", "id": chat_id, "title": "Plans"}
    assert await node(message_id) == {
        "__typename": "Message",
        "id": message_id,
        "chatId": chat_id,
        "text": "hello",
    }
    assert await node(ada.id) == {"__typename": "User", "id": ada.id, "email": "ada@example.com"}


async def test_node_is_null_for_other_users_and_unknown_ids(client: GraphQLClient) -> None:
    ada, bob = await sign_up(client, "ada"), await sign_up(client, "bob")
    for node_id in (bob.id, str(uuid.uuid4())):
        assert await client.data(NODE, {"id": node_id}, token=ada.token) == {"node": None}


async def test_node_checks_the_id_and_the_caller(client: GraphQLClient) -> None:
    ada = await sign_up(client, "ada")
    bad = await client.error(NODE, {"id": "chat:1"}, token=ada.token)
    assert bad["extensions"] == {"code": "BAD_USER_INPUT", "field": "id"}
    anonymous = await client.error(NODE, {"id": ada.id})
    assert anonymous["extensions"] == {"code": "UNAUTHENTICATED"}

"""Creating, reading, renaming, sharing and deleting chats."""

import uuid
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from src.core.enums import Rating
from src.lib.db.models import Chat, Message, MessageFeedback
from tests.api.chats.operations import (
    CHAT,
    CHATS,
    CREATE_CHAT,
    DELETE_CHAT,
    SWITCH_BRANCH,
    UPDATE_CHAT,
)
from tests.api.conftest import OwnedChat
from tests.factories import add_conversation, add_thread, create_chat, rate, sign_up
from tests.helpers import GraphQLClient


async def test_a_new_chat_is_empty_private_and_titled_new_chat(client: GraphQLClient) -> None:
    ada = await sign_up(client, "ada")
    chat = (await client.data(CREATE_CHAT, token=ada.token))["createChat"]
    assert uuid.UUID(chat["id"]).version == 7
    del chat["id"], chat["createdAt"], chat["updatedAt"]
    assert chat == {
        "title": "New chat",
        "visibility": "PRIVATE",
        "currentLeafId": None,
        "messageCount": 0,
        "lastMessage": None,
        "activeGeneration": None,
    }


async def test_create_chat_trims_the_title_and_keeps_the_visibility(
    client: GraphQLClient,
) -> None:
    ada = await sign_up(client, "ada")
    chat = (
        await client.data(
            CREATE_CHAT,
            {"input": {"title": "  Trip to Rome \n", "visibility": "PUBLIC"}},
            token=ada.token,
        )
    )["createChat"]
    assert (chat["title"], chat["visibility"]) == ("Trip to Rome", "PUBLIC")
    read = (await client.data(CHAT, {"id": chat["id"]}, token=ada.token))["chat"]
    assert read == chat


async def test_a_title_of_200_characters_is_accepted(client: GraphQLClient) -> None:
    ada = await sign_up(client, "ada")
    data = await client.data(CREATE_CHAT, {"input": {"title": "t" * 200}}, token=ada.token)
    assert data["createChat"]["title"] == "t" * 200


@pytest.mark.parametrize("title", ["", "   ", "t" * 201])
async def test_a_bad_title_is_bad_user_input(
    client: GraphQLClient, title: str, ada_chat: OwnedChat
) -> None:
    ada, chat_id = ada_chat
    cases: list[tuple[str, dict[str, Any]]] = [
        (CREATE_CHAT, {"input": {"title": title}}),
        (UPDATE_CHAT, {"id": chat_id, "input": {"title": title}}),
    ]
    for operation, variables in cases:
        error = await client.error(operation, variables, token=ada.token)
        assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "title"}
        assert error["message"] == "Title must be 1 to 200 characters."


async def create_chat_via_api(client: GraphQLClient, token: str, **input: str) -> str:
    chat_id: str = (await client.data(CREATE_CHAT, {"input": input}, token=token))["createChat"][
        "id"
    ]
    return chat_id


async def test_create_chat_with_a_client_id_is_idempotent(client: GraphQLClient) -> None:
    ada = await sign_up(client, "ada")
    chat_id = str(uuid.uuid4())
    first = await client.data(
        CREATE_CHAT, {"input": {"id": chat_id, "title": "First"}}, token=ada.token
    )
    again = await client.data(
        CREATE_CHAT, {"input": {"id": chat_id, "title": "Second"}}, token=ada.token
    )
    assert first == again
    assert first["createChat"]["id"] == chat_id
    assert first["createChat"]["title"] == "First"


async def test_another_users_chat_id_is_a_conflict_revealing_nothing(
    client: GraphQLClient,
) -> None:
    ada, bob = await sign_up(client, "ada"), await sign_up(client, "bob")
    chat_id = await create_chat_via_api(client, ada.token, title="Secret plans")
    error = await client.error(
        CREATE_CHAT, {"input": {"id": chat_id, "title": "Mine"}}, token=bob.token
    )
    assert error == {
        "message": "This id cannot be used; create the chat with another id.",
        "locations": error["locations"],
        "path": ["createChat"],
        "extensions": {"code": "CONFLICT"},
    }
    chat = (await client.data(CHAT, {"id": chat_id}, token=ada.token))["chat"]
    assert chat["title"] == "Secret plans"


@pytest.mark.parametrize("bad_id", ["not-a-uuid", "", "1234"])
async def test_ids_that_are_not_uuids_are_bad_user_input(
    client: GraphQLClient, bad_id: str
) -> None:
    ada = await sign_up(client, "ada")
    cases: list[tuple[str, dict[str, Any]]] = [
        (CREATE_CHAT, {"input": {"id": bad_id}}),
        (CHAT, {"id": bad_id}),
        (UPDATE_CHAT, {"id": bad_id, "input": {"title": "x"}}),
        (DELETE_CHAT, {"id": bad_id}),
    ]
    for operation, variables in cases:
        error = await client.error(operation, variables, token=ada.token)
        assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "id"}


async def test_update_chat_changes_only_what_is_given(client: GraphQLClient) -> None:
    ada = await sign_up(client, "ada")
    created = (await client.data(CREATE_CHAT, {"input": {"title": "Old"}}, token=ada.token))[
        "createChat"
    ]
    renamed = (
        await client.data(
            UPDATE_CHAT, {"id": created["id"], "input": {"title": " New "}}, token=ada.token
        )
    )["updateChat"]
    assert (renamed["title"], renamed["visibility"]) == ("New", "PRIVATE")
    assert renamed["updatedAt"] > created["updatedAt"]
    shared = (
        await client.data(
            UPDATE_CHAT,
            {"id": created["id"], "input": {"visibility": "PUBLIC", "title": None}},
            token=ada.token,
        )
    )["updateChat"]
    assert (shared["title"], shared["visibility"]) == ("New", "PUBLIC")


async def test_delete_chat_removes_its_messages_and_ratings_in_one_go(
    client: GraphQLClient, app: FastAPI, ada_chat: OwnedChat
) -> None:
    ada, chat_id = ada_chat
    kept_chat_id = await create_chat(app, ada)
    messages = await add_conversation(app, chat_id, turns=2)
    kept = await add_conversation(app, kept_chat_id, turns=1)
    await rate(app, ada, messages[1], Rating.UP)
    await rate(app, ada, kept[1], Rating.DOWN)

    data = await client.data(DELETE_CHAT, {"id": chat_id}, token=ada.token)

    assert data == {"deleteChat": chat_id}
    assert (await client.data(CHAT, {"id": chat_id}, token=ada.token)) == {"chat": None}
    async with app.state.runtime.session_factory() as db:
        counts = [
            await db.scalar(select(func.count()).select_from(table))
            for table in (Chat, Message, MessageFeedback)
        ]
    assert counts == [1, 2, 1]
    error = await client.error(DELETE_CHAT, {"id": chat_id}, token=ada.token)
    assert error["extensions"] == {"code": "NOT_FOUND"}


async def test_delete_chat_deletes_a_thread_deeper_than_sqlites_trigger_limit(
    client: GraphQLClient, app: FastAPI, ada_chat: OwnedChat
) -> None:
    ada, chat_id = ada_chat
    thread = await add_thread(app, chat_id, 1_200)
    await rate(app, ada, thread[-1], Rating.UP)

    data = await client.data(DELETE_CHAT, {"id": chat_id}, token=ada.token)

    assert data == {"deleteChat": chat_id}
    async with app.state.runtime.session_factory() as db:
        assert await db.scalar(select(func.count()).select_from(Message)) == 0


@pytest.mark.parametrize(
    ("operation", "variables"),
    [
        (CREATE_CHAT, {}),
        (CHAT, {"id": str(uuid.uuid4())}),
        (UPDATE_CHAT, {"id": str(uuid.uuid4()), "input": {"title": "x"}}),
        (DELETE_CHAT, {"id": str(uuid.uuid4())}),
        (CHATS, {}),
        (SWITCH_BRANCH, {"chatId": str(uuid.uuid4()), "leafId": str(uuid.uuid4())}),
    ],
)
async def test_every_chat_operation_needs_a_signed_in_user(
    client: GraphQLClient, operation: str, variables: dict[str, object]
) -> None:
    error = await client.error(operation, variables)
    assert error["extensions"] == {"code": "UNAUTHENTICATED"}

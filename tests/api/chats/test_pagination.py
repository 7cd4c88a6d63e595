"""Keyset pagination of chats and messages: order, cursors, limits, stability under change."""

import base64
import uuid
from typing import Any

import pytest
from fastapi import FastAPI

from tests.api.chats.operations import CHATS, DELETE_CHAT, MESSAGES
from tests.api.conftest import OwnedChat
from tests.factories import Person, add_conversation, create_chat, sign_up
from tests.helpers import GraphQLClient


async def chats_page(client: GraphQLClient, person: Person, **variables: Any) -> dict[str, Any]:
    page: dict[str, Any] = (await client.data(CHATS, variables, token=person.token))["chats"]
    return page


def titles(page: dict[str, Any]) -> list[str]:
    return [edge["node"]["title"] for edge in page["edges"]]


async def test_chats_come_newest_first_in_pages_that_follow_each_other(
    client: GraphQLClient, app: FastAPI
) -> None:
    ada = await sign_up(client, "ada")
    for number in range(1, 6):
        await create_chat(app, ada, f"chat {number}")

    first = await chats_page(client, ada, first=2)
    second = await chats_page(client, ada, first=2, after=first["pageInfo"]["endCursor"])
    third = await chats_page(client, ada, first=2, after=second["pageInfo"]["endCursor"])

    assert [titles(first), titles(second), titles(third)] == [
        ["chat 5", "chat 4"],
        ["chat 3", "chat 2"],
        ["chat 1"],
    ]
    assert first["pageInfo"] == {
        "hasNextPage": True,
        "hasPreviousPage": False,
        "startCursor": first["edges"][0]["cursor"],
        "endCursor": first["edges"][1]["cursor"],
    }
    assert third["pageInfo"]["hasNextPage"] is False
    assert {first["totalCount"], second["totalCount"], third["totalCount"]} == {5}


async def test_the_default_page_holds_20_chats(client: GraphQLClient, app: FastAPI) -> None:
    ada = await sign_up(client, "ada")
    for number in range(21):
        await create_chat(app, ada, f"chat {number}")
    page = await chats_page(client, ada)
    assert (len(page["edges"]), page["pageInfo"]["hasNextPage"], page["totalCount"]) == (
        20,
        True,
        21,
    )


async def test_the_next_page_is_right_after_inserts_and_deletes(
    client: GraphQLClient, app: FastAPI
) -> None:
    ada = await sign_up(client, "ada")
    ids = [await create_chat(app, ada, f"chat {number}") for number in range(1, 6)]
    first = await chats_page(client, ada, first=2)

    await create_chat(app, ada, "chat 6")
    await client.data(DELETE_CHAT, {"id": ids[2]}, token=ada.token)
    await client.data(DELETE_CHAT, {"id": ids[3]}, token=ada.token)
    rest = await chats_page(client, ada, first=10, after=first["pageInfo"]["endCursor"])

    assert titles(first) == ["chat 5", "chat 4"]
    assert titles(rest) == ["chat 2", "chat 1"]
    assert rest["totalCount"] == 4


async def test_first_zero_gives_no_edges_but_tells_whether_there_are_any(
    client: GraphQLClient, ada_chat: OwnedChat
) -> None:
    page = await chats_page(client, ada_chat.owner, first=0)
    assert page == {
        "totalCount": 1,
        "edges": [],
        "pageInfo": {
            "hasNextPage": True,
            "hasPreviousPage": False,
            "startCursor": None,
            "endCursor": None,
        },
    }


def forged(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        ({"first": 101}, "first"),
        ({"first": -1}, "first"),
        ({"after": "not a cursor"}, "after"),
        ({"after": forged("2026-01-01T00:00:00+00:00|not-a-uuid")}, "after"),
        ({"after": forged(f"yesterday|{uuid.uuid4()}")}, "after"),
        ({"after": forged(f"2026-01-01T00:00:00|{uuid.uuid4()}")}, "after"),
        ({"after": "//8="}, "after"),
        ({"search": "s" * 201}, "search"),
    ],
)
async def test_bad_chats_arguments_are_bad_user_input(
    client: GraphQLClient, variables: dict[str, Any], field: str
) -> None:
    ada = await sign_up(client, "ada")
    error = await client.error(CHATS, variables, token=ada.token)
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": field}


async def test_a_page_of_100_is_allowed(client: GraphQLClient) -> None:
    ada = await sign_up(client, "ada")
    assert (await chats_page(client, ada, first=100))["edges"] == []


async def messages_page(
    client: GraphQLClient, person: Person, chat_id: str, **variables: Any
) -> dict[str, Any]:
    data = await client.data(MESSAGES, {"id": chat_id, **variables}, token=person.token)
    page: dict[str, Any] = data["chat"]["messages"]
    return page


def ids_of(page: dict[str, Any]) -> list[str]:
    return [edge["node"]["id"] for edge in page["edges"]]


async def test_messages_come_oldest_first_forwards_and_backwards(
    client: GraphQLClient, app: FastAPI, ada_chat: OwnedChat
) -> None:
    ada, chat_id = ada_chat
    ids = await add_conversation(app, chat_id, turns=3)

    everything = await messages_page(client, ada, chat_id)
    forwards = await messages_page(client, ada, chat_id, first=4)
    rest = await messages_page(client, ada, chat_id, after=forwards["pageInfo"]["endCursor"])
    newest = await messages_page(client, ada, chat_id, last=2)
    older = await messages_page(
        client, ada, chat_id, last=3, before=newest["pageInfo"]["startCursor"]
    )
    oldest = await messages_page(
        client, ada, chat_id, last=3, before=older["pageInfo"]["startCursor"]
    )

    assert ids_of(everything) == ids
    assert (ids_of(forwards), ids_of(rest)) == (ids[:4], ids[4:])
    assert (ids_of(newest), ids_of(older), ids_of(oldest)) == (ids[4:], ids[1:4], ids[:1])
    assert [p["pageInfo"]["hasNextPage"] for p in (everything, forwards, rest)] == [
        False,
        True,
        False,
    ]
    assert [p["pageInfo"]["hasPreviousPage"] for p in (newest, older, oldest)] == [
        True,
        True,
        False,
    ]
    assert {p["totalCount"] for p in (everything, forwards, rest, newest, older, oldest)} == {6}


async def test_messages_between_two_cursors(
    client: GraphQLClient, app: FastAPI, ada_chat: OwnedChat
) -> None:
    ada, chat_id = ada_chat
    ids = await add_conversation(app, chat_id, turns=3)
    cursors = [edge["cursor"] for edge in (await messages_page(client, ada, chat_id))["edges"]]
    between = await messages_page(client, ada, chat_id, after=cursors[0], before=cursors[4])
    assert ids_of(between) == ids[1:4]


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        ({"first": 101}, "first"),
        ({"last": 101}, "last"),
        ({"last": -5}, "last"),
        ({"first": 1, "last": 1}, "last"),
        ({"before": "?"}, "before"),
        ({"after": "?"}, "after"),
    ],
)
async def test_bad_messages_arguments_are_bad_user_input(
    client: GraphQLClient, variables: dict[str, Any], field: str, ada_chat: OwnedChat
) -> None:
    ada, chat_id = ada_chat
    error = await client.error(MESSAGES, {"id": chat_id, **variables}, token=ada.token)
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": field}
    assert error["path"] == ["chat", "messages"]

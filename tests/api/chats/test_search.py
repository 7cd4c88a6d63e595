"""chats(search:): case-insensitive, literal, over titles and message text, own chats only."""

import pytest
from fastapi import FastAPI

from src.core.enums import Visibility
from tests.api.chats.operations import CHATS
from tests.factories import add_message, create_chat, sign_up
from tests.helpers import GraphQLClient

TITLES = [
    "Holiday plans",
    "100% sure",
    "100 percent",
    "snake_case names",
    "snakeXcase names",
    "It's a quote",
    'Say "hi"',
    r"C:\temp files",
    "C:temp files",
    "a/b paths",
    "a//b paths",
]


async def search(client: GraphQLClient, token: str, text: str) -> list[str]:
    data = await client.data(CHATS, {"search": text, "first": 50}, token=token)
    return sorted(edge["node"]["title"] for edge in data["chats"]["edges"])


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("HOLIDAY", ["Holiday plans"]),
        ("holiday PLANS", ["Holiday plans"]),
        ("%", ["100% sure"]),
        ("0%", ["100% sure"]),
        ("_", ["snake_case names"]),
        ("e_c", ["snake_case names"]),
        ("'", ["It's a quote"]),
        ('"hi"', ['Say "hi"']),
        ("\\", [r"C:\temp files"]),
        (r"C:\t", [r"C:\temp files"]),
        ("/", ["a//b paths", "a/b paths"]),
        ("a/b", ["a/b paths"]),
        ("'; DROP TABLE chats; --", []),
    ],
)
async def test_search_matches_titles_literally_in_any_case(
    client: GraphQLClient, app: FastAPI, text: str, found: list[str]
) -> None:
    ada = await sign_up(client, "ada")
    for title in TITLES:
        await create_chat(app, ada, title)
    assert await search(client, ada.token, text) == found


async def test_search_matches_the_text_of_messages(client: GraphQLClient, app: FastAPI) -> None:
    ada = await sign_up(client, "ada")
    groceries = await create_chat(app, ada, "Groceries")
    await add_message(app, groceries, "Remember the MILK and 50% of the bread")
    other = await create_chat(app, ada, "Other")
    await add_message(
        app, other, parts=[{"type": "tool_call", "tool_call_id": "1", "tool_name": "milk"}]
    )
    assert await search(client, ada.token, "milk") == ["Groceries"]
    assert await search(client, ada.token, "50%") == ["Groceries"]
    data = await client.data(CHATS, {"search": "milk"}, token=ada.token)
    assert data["chats"]["totalCount"] == 1


async def test_search_finds_only_the_callers_own_chats(client: GraphQLClient, app: FastAPI) -> None:
    ada, bob = await sign_up(client, "ada"), await sign_up(client, "bob")
    await create_chat(app, ada, "Ada's recipes")
    bobs = await create_chat(app, bob, "Bob's recipes", Visibility.PUBLIC)
    await add_message(app, bobs, "more recipes")
    assert await search(client, ada.token, "recipes") == ["Ada's recipes"]
    assert await search(client, bob.token, "recipes") == ["Bob's recipes"]


async def test_a_blank_search_lists_every_chat(client: GraphQLClient, app: FastAPI) -> None:
    ada = await sign_up(client, "ada")
    for title in ("one", "two"):
        await create_chat(app, ada, title)
    assert await search(client, ada.token, "   ") == ["one", "two"]

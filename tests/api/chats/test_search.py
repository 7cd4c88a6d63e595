"""chats(search:): titles containing it (literal, any case) or a message with all its words.

Own chats only; the page's statement also counts the matches for totalCount.
"""

from typing import Any

import pytest
from fastapi import FastAPI

from src.core.enums import Visibility
from tests.api.chats.operations import CHATS
from tests.api.chats.test_dataloaders import counting_statements
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


async def test_a_message_matches_with_all_the_words_of_the_search(
    client: GraphQLClient, app: FastAPI
) -> None:
    ada = await sign_up(client, "ada")
    await add_message(app, await create_chat(app, ada, "Trip"), "Flights to LISBON, in May")
    await add_message(app, await create_chat(app, ada, "Other"), "Lisbonne in June")
    assert await search(client, ada.token, "may lisbon") == ["Trip"]
    assert await search(client, ada.token, "lisbon june") == []


async def test_total_count_counts_every_page_of_a_search(
    client: GraphQLClient, app: FastAPI
) -> None:
    ada = await sign_up(client, "ada")
    for n in range(3):
        await create_chat(app, ada, f"trip {n}")
    await add_message(app, await create_chat(app, ada, "Plans"), "a trip to Lisbon")
    await create_chat(app, ada, "Other")

    pages: list[dict[str, Any]] = []
    after = None
    for _ in range(3):
        variables = {"search": "trip", "first": 2, "after": after}
        pages.append((await client.data(CHATS, variables, token=ada.token))["chats"])
        after = pages[-1]["pageInfo"]["endCursor"] or after

    assert [len(page["edges"]) for page in pages] == [2, 2, 0]
    assert [page["totalCount"] for page in pages] == [4, 4, 4]


async def test_a_search_and_its_total_count_take_one_statement(
    client: GraphQLClient, app: FastAPI
) -> None:
    ada = await sign_up(client, "ada")
    await add_message(app, await create_chat(app, ada, "Trip"), "to Lisbon")

    with counting_statements(app) as statements:
        data = await client.data(CHATS, {"search": "lisbon"}, token=ada.token)

    assert data["chats"]["totalCount"] == 1
    assert len([s for s in statements if "messages_fts" in s or "search_vector" in s]) == 1

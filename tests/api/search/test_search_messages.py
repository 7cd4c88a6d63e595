"""searchMessages: words, best first, own chats only, every branch, snippets, pages, syntax."""

import base64
import uuid
from typing import Any

import pytest
from fastapi import FastAPI

from src.core.enums import MessageRole, MessageStatus, Visibility
from src.lib.db.repositories.reply import ReplyRepository
from tests.api.chats.operations import SWITCH_BRANCH, THREAD
from tests.api.conftest import OwnedChat
from tests.api.search.operations import SEARCH_MESSAGES
from tests.api.stream.operations import message_input, stream_reply
from tests.factories import Person, add_message, create_chat, sign_up
from tests.helpers import GraphQLClient

NAN_CURSOR = base64.urlsafe_b64encode(f"nan|{uuid.uuid4()}".encode()).decode()


async def search(
    client: GraphQLClient, person: Person, query: str, **arguments: Any
) -> dict[str, Any]:
    """The searchMessages connection for `person`."""
    data = await client.data(SEARCH_MESSAGES, {"query": query, **arguments}, token=person.token)
    connection: dict[str, Any] = data["searchMessages"]
    return connection


async def found(client: GraphQLClient, person: Person, query: str) -> list[str]:
    """The ids of the messages found, in order (first page of 100)."""
    connection = await search(client, person, query, first=100)
    return [edge["node"]["id"] for edge in connection["edges"]]


def marked(edge: dict[str, Any]) -> list[str]:
    """The words the ranges of a hit point at in its snippet."""
    snippet = edge["snippet"]
    return [snippet[r["start"] : r["start"] + r["length"]] for r in edge["matches"]]


async def test_hits_come_best_first_with_their_chat_snippet_and_matched_words(
    client: GraphQLClient, app: FastAPI, ada_chat: OwnedChat
) -> None:
    ada, chat_id = ada_chat
    once = await add_message(app, chat_id, "One apple pie with sauce")
    twice = await add_message(app, chat_id, "Apple pie with APPLE sauce", once)
    await add_message(app, chat_id, "Pear pie with pear sauce", twice)

    connection = await search(client, ada, "apple")

    assert [edge["node"]["id"] for edge in connection["edges"]] == [twice, once]
    best = connection["edges"][0]
    assert best["chat"] == {"id": chat_id, "title": "Chat"}
    assert best["node"]["chatId"] == chat_id
    assert best["snippet"] == "Apple pie with APPLE sauce"
    assert best["matches"] == [{"start": 0, "length": 5}, {"start": 15, "length": 5}]
    assert connection["pageInfo"] == {
        "hasNextPage": False,
        "hasPreviousPage": False,
        "startCursor": connection["edges"][0]["cursor"],
        "endCursor": connection["edges"][1]["cursor"],
    }


async def test_every_word_must_be_in_the_message_in_any_order_and_case(
    client: GraphQLClient, app: FastAPI, ada_chat: OwnedChat
) -> None:
    ada, chat_id = ada_chat
    both = await add_message(app, chat_id, "Sauce for the PIE")
    await add_message(app, chat_id, "pie alone")
    await add_message(app, chat_id, "pies and sauces")

    assert await found(client, ada, "pie sauce") == [both]
    assert await found(client, ada, "SAUCE, pie!") == [both]
    assert marked((await search(client, ada, "pie sauce"))["edges"][0]) == ["Sauce", "PIE"]


async def test_other_users_messages_never_match_even_in_public_chats(
    client: GraphQLClient, app: FastAPI
) -> None:
    ada, bob = await sign_up(client, "ada"), await sign_up(client, "bob")
    adas = await add_message(app, await create_chat(app, ada), "the secret recipe")
    bobs_public = await create_chat(app, bob, "Public", Visibility.PUBLIC)
    bobs = await add_message(app, bobs_public, "the secret recipe, shared")

    assert await found(client, ada, "secret recipe") == [adas]
    assert await found(client, bob, "secret recipe") == [bobs]
    assert await found(client, ada, "shared") == []


async def test_a_hit_on_another_branch_opens_that_branch(
    client: GraphQLClient, app: FastAPI, ada_chat: OwnedChat
) -> None:
    ada, chat_id = ada_chat
    question = await add_message(app, chat_id, "Which animal has stripes?")
    await add_message(app, chat_id, "A tiger.", question, MessageRole.ASSISTANT)
    other = await add_message(app, chat_id, "A zebra.", question, MessageRole.ASSISTANT)
    current = await add_message(app, chat_id, "Which animal has spots?")

    (hit,) = (await search(client, ada, "zebra"))["edges"]
    hit_id, hit_chat = hit["node"]["id"], hit["chat"]["id"]
    assert hit_id == other

    thread = await client.data(THREAD, {"id": hit_chat, "leafId": hit_id}, token=ada.token)
    assert thread["chat"]["currentLeafId"] == current
    assert [message["id"] for message in thread["chat"]["thread"]] == [question, other]
    switched = await client.data(
        SWITCH_BRANCH, {"chatId": hit_chat, "leafId": hit_id}, token=ada.token
    )
    assert switched["switchBranch"] == {
        "id": chat_id,
        "currentLeafId": other,
        "thread": [{"id": question}, {"id": other}],
    }


async def test_a_reply_is_found_by_the_text_its_saves_write(
    client: GraphQLClient, app: FastAPI, ada_chat: OwnedChat
) -> None:
    ada, chat_id = ada_chat
    question = await add_message(app, chat_id, "Tell me about stars")
    reply = await add_message(app, chat_id, "", question, MessageRole.ASSISTANT, parts=[])
    session_factory = app.state.runtime.session_factory

    async with session_factory.begin() as db:
        await ReplyRepository.save(db, uuid.UUID(reply), [{"type": "text", "text": "Quasars are"}])
    assert await found(client, ada, "quasars") == [reply]

    async with session_factory.begin() as db:
        await ReplyRepository.save(
            db,
            uuid.UUID(reply),
            [{"type": "text", "text": "Pulsars spin."}],
            MessageStatus.COMPLETE,
        )
    assert await found(client, ada, "quasars") == []
    assert await found(client, ada, "pulsars") == [reply]


async def test_a_streamed_reply_is_found(client: GraphQLClient, server_url: str) -> None:
    ada = await sign_up(client, "ada")
    events = await stream_reply(server_url, ada.token, message_input(uuid.uuid4(), "Hello"))
    reply = events[-1]["message"]
    assert "demo" in reply["text"].lower()

    assert await found(client, ada, "demo") == [reply["id"]]


async def test_pages_follow_each_other_exactly_through_equal_scores(
    client: GraphQLClient, app: FastAPI, ada_chat: OwnedChat
) -> None:
    ada, chat_id = ada_chat
    texts = ["kiwi kiwi kiwi", "kiwi kiwi melon", "kiwi melon melon"]
    ids = {text: [await add_message(app, chat_id, text) for _ in range(3)] for text in texts}
    expected = [message_id for text in texts for message_id in reversed(ids[text])]

    pages: list[list[str]] = []
    after = None
    while True:
        connection = await search(client, ada, "kiwi", first=2, after=after)
        pages.append([edge["node"]["id"] for edge in connection["edges"]])
        after = connection["pageInfo"]["endCursor"]
        if not connection["pageInfo"]["hasNextPage"]:
            break

    assert [len(page) for page in pages] == [2, 2, 2, 2, 1]
    assert [message_id for page in pages for message_id in page] == expected
    assert await found(client, ada, "kiwi") == expected
    after_last = await search(client, ada, "kiwi", after=after)
    assert after_last["edges"] == [] and after_last["pageInfo"]["hasNextPage"] is False


async def test_first_zero_tells_whether_there_are_hits(
    client: GraphQLClient, app: FastAPI, ada_chat: OwnedChat
) -> None:
    ada, chat_id = ada_chat
    await add_message(app, chat_id, "kiwi")

    connection = await search(client, ada, "kiwi", first=0)

    assert connection["edges"] == [] and connection["pageInfo"]["hasNextPage"] is True


async def test_the_snippet_of_a_long_message_shows_the_matched_words(
    client: GraphQLClient, app: FastAPI, ada_chat: OwnedChat
) -> None:
    ada, chat_id = ada_chat
    text = "lorem " * 80 + "the hidden TREASURE lies under the old hidden oak" + " ipsum" * 80
    await add_message(app, chat_id, text)

    (edge,) = (await search(client, ada, "treasure hidden"))["edges"]

    snippet = edge["snippet"]
    assert snippet.startswith("…lorem ") and snippet.endswith("ipsum…")
    assert len(snippet) <= 202
    assert snippet[1:-1] in text
    assert marked(edge) == ["hidden", "TREASURE", "hidden"]


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ('"near the', ["near", "the"]),
        ("NEAR(river bank)", ["bank", "near", "river"]),
        ("river*", ["river"]),
        ("-river", ["river"]),
        ("text:river", ["river", "text"]),
        ("river AND NOT bank", ["and", "bank", "not", "river"]),
        ("river OR", ["or", "river"]),
        ("^river + {bank}", ["bank", "river"]),
        ("'; DROP TABLE messages; --", ["drop", "messages", "table"]),
    ],
)
async def test_search_syntax_is_taken_as_plain_words(
    client: GraphQLClient, app: FastAPI, ada_chat: OwnedChat, query: str, words: list[str]
) -> None:
    ada, chat_id = ada_chat
    everything = await add_message(
        app, chat_id, "Near the river bank: text, and not or drop table messages"
    )
    await add_message(app, chat_id, "A lake")

    (edge,) = (await search(client, ada, query))["edges"]

    assert edge["node"]["id"] == everything
    assert sorted({word.lower() for word in marked(edge)}) == words


@pytest.mark.parametrize("query", ["", "   ", '"', "*", "-", ":", "%_%", "()", "…"])
async def test_a_query_without_words_finds_nothing(
    client: GraphQLClient, app: FastAPI, ada_chat: OwnedChat, query: str
) -> None:
    ada, chat_id = ada_chat
    await add_message(app, chat_id, 'punctuation " * - : % _ ( ) …')

    connection = await search(client, ada, query)

    assert connection["edges"] == [] and connection["pageInfo"]["hasNextPage"] is False


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"query": "x" * 201}, "query"),
        ({"query": "x", "first": 101}, "first"),
        ({"query": "x", "first": -1}, "first"),
        ({"query": "x", "after": "not a cursor"}, "after"),
        ({"query": "x", "after": NAN_CURSOR}, "after"),
    ],
)
async def test_bad_arguments_are_bad_user_input(
    client: GraphQLClient, app: FastAPI, arguments: dict[str, Any], field: str
) -> None:
    ada = await sign_up(client, "ada")
    error = await client.error(SEARCH_MESSAGES, arguments, token=ada.token)
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": field}


async def test_a_chats_cursor_is_not_a_search_cursor(
    client: GraphQLClient, app: FastAPI, ada_chat: OwnedChat
) -> None:
    ada, _ = ada_chat
    chats = await client.data("query { chats { pageInfo { endCursor } } }", token=ada.token)
    cursor = chats["chats"]["pageInfo"]["endCursor"]

    error = await client.error(SEARCH_MESSAGES, {"query": "x", "after": cursor}, token=ada.token)

    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "after"}


async def test_searching_needs_a_signed_in_user(client: GraphQLClient, app: FastAPI) -> None:
    error = await client.error(SEARCH_MESSAGES, {"query": "anything"})
    assert error["extensions"] == {"code": "UNAUTHENTICATED"}

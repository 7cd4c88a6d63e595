"""Chat.thread by pages: last and before, the whole thread refused past MAX_THREAD_MESSAGES."""

import uuid

from fastapi import FastAPI

from src.core.enums import MessageRole
from tests.api.conftest import OwnedChat
from tests.factories import add_message, add_thread, create_chat
from tests.helpers import GraphQLClient

PAGE = """
query Page($id: ID!, $leafId: ID, $last: Int, $before: ID) {
  chat(id: $id) { thread(leafId: $leafId, last: $last, before: $before) { id } }
}
"""
MAX_THREAD_MESSAGES = 1_000  # the default, which the tests' app keeps


async def _page(client: GraphQLClient, chat: OwnedChat, **variables: object) -> list[str]:
    data = await client.data(PAGE, {"id": chat.chat_id, **variables}, token=chat.owner.token)
    return [message["id"] for message in data["chat"]["thread"]]


async def _error(client: GraphQLClient, chat: OwnedChat, **variables: object) -> object:
    error = await client.error(PAGE, {"id": chat.chat_id, **variables}, token=chat.owner.token)
    return error["extensions"]


async def test_pages_walk_up_a_long_thread_from_the_leaf(
    client: GraphQLClient, app: FastAPI, ada_chat: OwnedChat
) -> None:
    thread = await add_thread(app, ada_chat.chat_id, 1_200)

    pages: list[list[str]] = []
    before = None
    while page := await _page(client, ada_chat, last=500, before=before):
        pages.insert(0, page)
        before = page[0]

    assert [len(page) for page in pages] == [200, 500, 500]
    assert [message for page in pages for message in page] == thread


async def test_a_page_ends_at_the_leaf_or_just_above_before(
    client: GraphQLClient, app: FastAPI, ada_chat: OwnedChat
) -> None:
    thread = await add_thread(app, ada_chat.chat_id, 10)

    assert await _page(client, ada_chat, last=3) == thread[7:]
    assert await _page(client, ada_chat, last=3, leafId=thread[5]) == thread[3:6]
    assert await _page(client, ada_chat, last=3, before=thread[5]) == thread[2:5]
    assert await _page(client, ada_chat, last=3, leafId=thread[5], before=thread[5]) == thread[2:5]
    assert await _page(client, ada_chat, last=30, before=thread[2]) == thread[:2]
    assert await _page(client, ada_chat, before=thread[4]) == thread[:4]
    assert await _page(client, ada_chat, last=3, before=thread[0]) == []
    assert await _page(client, ada_chat, last=0) == []
    assert await _page(client, ada_chat, last=10) == await _page(client, ada_chat) == thread


async def test_the_whole_thread_is_refused_past_the_limit(
    client: GraphQLClient, app: FastAPI, ada_chat: OwnedChat
) -> None:
    thread = await add_thread(app, ada_chat.chat_id, MAX_THREAD_MESSAGES + 2)
    refused = {"code": "BAD_USER_INPUT", "field": "last"}

    assert await _error(client, ada_chat) == refused
    assert await _error(client, ada_chat, before=thread[-1]) == refused
    assert await _page(client, ada_chat, before=thread[-2]) == thread[:-2]
    assert len(await _page(client, ada_chat, last=MAX_THREAD_MESSAGES)) == MAX_THREAD_MESSAGES


async def test_last_must_be_within_the_limit(
    client: GraphQLClient, app: FastAPI, ada_chat: OwnedChat
) -> None:
    await add_thread(app, ada_chat.chat_id, 2)
    for last in (-1, MAX_THREAD_MESSAGES + 1):
        assert await _error(client, ada_chat, last=last) == {
            "code": "BAD_USER_INPUT",
            "field": "last",
        }


async def test_a_before_off_the_path_is_bad_input(
    client: GraphQLClient, app: FastAPI, ada_chat: OwnedChat
) -> None:
    ada, chat_id = ada_chat
    thread = await add_thread(app, chat_id, 4)
    branch = await add_message(app, chat_id, "edit", thread[1], MessageRole.USER)
    elsewhere = await add_message(app, await create_chat(app, ada))
    off_the_path = {"code": "BAD_USER_INPUT", "field": "before"}

    for before in (branch, elsewhere, str(uuid.uuid4()), "nope"):
        assert await _error(client, ada_chat, leafId=thread[-1], before=before) == off_the_path
    assert await _error(client, ada_chat, leafId=thread[1], before=thread[2]) == off_the_path


async def test_an_empty_chat_has_no_message_to_page_before(
    client: GraphQLClient, app: FastAPI, ada_chat: OwnedChat
) -> None:
    elsewhere = await add_thread(app, await create_chat(app, ada_chat.owner), 1)

    assert await _page(client, ada_chat, last=5) == []
    assert await _error(client, ada_chat, before=elsewhere[0]) == {
        "code": "BAD_USER_INPUT",
        "field": "before",
    }


async def test_a_leaf_of_another_chat_is_not_found_whatever_the_page(
    client: GraphQLClient, app: FastAPI, ada_chat: OwnedChat
) -> None:
    ada, chat_id = ada_chat
    await add_thread(app, chat_id, 3)
    elsewhere = await add_thread(app, await create_chat(app, ada), 3)

    body = await client.post(
        PAGE, {"id": chat_id, "leafId": elsewhere[-1], "last": 2}, token=ada.token
    )

    assert [error["extensions"] for error in body["errors"]] == [{"code": "NOT_FOUND"}]

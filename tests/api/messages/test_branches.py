"""Branches: threads, the current leaf, switchBranch, child ids."""

import uuid

from fastapi import FastAPI

from src.core.enums import MessageRole
from tests.api.chats.operations import CHATS, SWITCH_BRANCH, THREAD
from tests.api.conftest import OwnedChat
from tests.factories import add_message, create_chat, sign_up
from tests.helpers import GraphQLClient

CHILDREN = """
query Children($id: ID!) { chat(id: $id) { messages { edges { node { id childIds } } } } }
"""


async def make_tree(app: FastAPI, chat_id: str) -> dict[str, str]:
    """A question, its answer and a follow-up; a regenerated answer; an edited question."""
    tree: dict[str, str] = {}
    tree["question"] = await add_message(app, chat_id, "question")
    tree["answer"] = await add_message(
        app, chat_id, "answer", tree["question"], MessageRole.ASSISTANT
    )
    tree["follow_up"] = await add_message(app, chat_id, "follow-up", tree["answer"])
    tree["regenerated"] = await add_message(
        app, chat_id, "another answer", tree["question"], MessageRole.ASSISTANT
    )
    tree["edited"] = await add_message(app, chat_id, "edited question")
    return tree


async def test_thread_is_the_path_to_the_current_leaf_or_to_any_message(
    client: GraphQLClient, app: FastAPI, ada_chat: OwnedChat
) -> None:
    ada, chat_id = ada_chat
    tree = await make_tree(app, chat_id)

    async def thread(leaf: str | None) -> list[str]:
        data = await client.data(THREAD, {"id": chat_id, "leafId": leaf}, token=ada.token)
        assert data["chat"]["currentLeafId"] == tree["edited"]
        return [message["id"] for message in data["chat"]["thread"]]

    assert await thread(None) == [tree["edited"]]
    assert await thread(tree["follow_up"]) == [tree["question"], tree["answer"], tree["follow_up"]]
    assert await thread(tree["regenerated"]) == [tree["question"], tree["regenerated"]]
    assert await thread(tree["question"]) == [tree["question"]]


async def test_switch_branch_keeps_the_leaf_for_every_device(
    client: GraphQLClient, app: FastAPI, ada_chat: OwnedChat
) -> None:
    ada, chat_id = ada_chat
    tree = await make_tree(app, chat_id)

    switched = await client.data(
        SWITCH_BRANCH, {"chatId": chat_id, "leafId": tree["regenerated"]}, token=ada.token
    )
    other_device = await client.data(THREAD, {"id": chat_id}, token=ada.token)

    expected = [{"id": tree["question"]}, {"id": tree["regenerated"]}]
    assert switched["switchBranch"] == {
        "id": chat_id,
        "currentLeafId": tree["regenerated"],
        "thread": expected,
    }
    assert other_device["chat"] == {"currentLeafId": tree["regenerated"], "thread": expected}


async def test_a_new_message_becomes_the_leaf_and_moves_the_chat_to_the_top(
    client: GraphQLClient, app: FastAPI
) -> None:
    ada = await sign_up(client, "ada")
    older = await create_chat(app, ada, "older")
    await create_chat(app, ada, "newer")
    message_id = await add_message(app, older, "hi")
    data = await client.data(CHATS, token=ada.token)
    assert [edge["node"]["title"] for edge in data["chats"]["edges"]] == ["older", "newer"]
    thread = await client.data(THREAD, {"id": older}, token=ada.token)
    assert thread["chat"] == {"currentLeafId": message_id, "thread": [{"id": message_id}]}


async def test_child_ids_are_the_branches_oldest_first(
    client: GraphQLClient, app: FastAPI, ada_chat: OwnedChat
) -> None:
    ada, chat_id = ada_chat
    tree = await make_tree(app, chat_id)
    data = await client.data(CHILDREN, {"id": chat_id}, token=ada.token)
    children = {
        edge["node"]["id"]: edge["node"]["childIds"] for edge in data["chat"]["messages"]["edges"]
    }
    assert children == {
        tree["question"]: [tree["answer"], tree["regenerated"]],
        tree["answer"]: [tree["follow_up"]],
        tree["follow_up"]: [],
        tree["regenerated"]: [],
        tree["edited"]: [],
    }


async def test_a_message_of_another_chat_is_not_found(
    client: GraphQLClient, app: FastAPI, ada_chat: OwnedChat
) -> None:
    ada, chat_id = ada_chat
    await add_message(app, chat_id)
    elsewhere = await add_message(app, await create_chat(app, ada))
    for leaf in (elsewhere, str(uuid.uuid4())):
        switched = await client.error(
            SWITCH_BRANCH, {"chatId": chat_id, "leafId": leaf}, token=ada.token
        )
        assert switched["extensions"] == {"code": "NOT_FOUND"}
        body = await client.post(THREAD, {"id": chat_id, "leafId": leaf}, token=ada.token)
        assert body["data"] == {"chat": None}
        assert [error["extensions"] for error in body["errors"]] == [{"code": "NOT_FOUND"}]


async def test_bad_ids_name_their_argument(
    client: GraphQLClient, app: FastAPI, ada_chat: OwnedChat
) -> None:
    ada, chat_id = ada_chat
    leaf = await add_message(app, chat_id)
    for variables, field in [
        ({"chatId": "nope", "leafId": leaf}, "chatId"),
        ({"chatId": chat_id, "leafId": "nope"}, "leafId"),
    ]:
        error = await client.error(SWITCH_BRANCH, variables, token=ada.token)
        assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": field}
    error = await client.error(THREAD, {"id": chat_id, "leafId": "nope"}, token=ada.token)
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "leafId"}


async def test_an_empty_chat_has_an_empty_thread(
    client: GraphQLClient, ada_chat: OwnedChat
) -> None:
    ada, chat_id = ada_chat
    data = await client.data(THREAD, {"id": chat_id}, token=ada.token)
    assert data == {"chat": {"currentLeafId": None, "thread": []}}

"""No N+1: the issue's fan-out query runs a fixed number of SQL statements.

Each DataLoader batch has its own session, so the concurrently resolved fields never share
one; the query below fans out over every chat and message of the page.
"""

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import FastAPI
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from src.core.enums import MessageRole, Rating
from tests.factories import Person, add_conversation, add_message, create_chat, rate, sign_up
from tests.helpers import GraphQLClient

FAN_OUT = """
query FanOut {
  chats(first: 50) {
    edges {
      node {
        lastMessage { parts { __typename } }
        messageCount
        messages(first: 10) { totalCount edges { node { childIds rating } } }
      }
    }
  }
}
"""
# The user, the chats (their rows hold messageCount and totalCount), last messages, first
# pages, child ids, ratings.
MAX_STATEMENTS = 6
THREADS = """
query Threads {
  chats(first: 50) { edges { node { thread(last: 5) { id childIds } } } }
}
"""
# The user, the chats, one page of each chat's thread, the child ids of all those pages.
THREAD_STATEMENTS = 4
MAINTENANCE_TASK = "generation-maintenance"


@contextmanager
def counting_statements(app: FastAPI) -> Iterator[list[str]]:
    """Collect every SQL statement the app's engine sends for requests while the block runs.

    The generation manager's periodic check for orphaned replies runs in a task of its own and
    may fall inside the block: its statements are not the request's.
    """
    engine: AsyncEngine = app.state.runtime.session_factory.kw["bind"]
    statements: list[str] = []

    def record(*args: Any) -> None:
        task = asyncio.current_task()
        if task is None or task.get_name() != MAINTENANCE_TASK:
            statements.append(args[2])

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


async def add_chats(app: FastAPI, owner: Person, count: int) -> None:
    """Chats of 12 messages: 6 turns, a regenerated first answer, and two ratings."""
    for _ in range(count):
        chat_id = await create_chat(app, owner)
        ids = await add_conversation(app, chat_id, turns=5)
        await add_message(app, chat_id, "again", ids[0], MessageRole.ASSISTANT)
        await add_message(app, chat_id, "more", ids[-1])
        await rate(app, owner, ids[1], Rating.UP)
        await rate(app, owner, ids[3], Rating.DOWN)


async def fan_out(client: GraphQLClient, app: FastAPI, owner: Person) -> tuple[int, list[Any]]:
    with counting_statements(app) as statements:
        data = await client.data(FAN_OUT, token=owner.token)
    return len(statements), data["chats"]["edges"]


async def test_the_fan_out_query_costs_the_same_for_5_and_50_chats(
    client: GraphQLClient, app: FastAPI
) -> None:
    ada = await sign_up(client, "ada")
    await add_chats(app, ada, 5)
    await fan_out(client, app, ada)  # warm-up: connections and caches of the first use

    with_5, edges_5 = await fan_out(client, app, ada)
    await add_chats(app, ada, 45)
    with_50, edges_50 = await fan_out(client, app, ada)

    assert (len(edges_5), len(edges_50)) == (5, 50)
    assert with_5 == with_50 <= MAX_STATEMENTS, (with_5, with_50)
    node = edges_50[0]["node"]
    assert node["messageCount"] == node["messages"]["totalCount"] == 12
    assert node["lastMessage"] == {"parts": [{"__typename": "TextPart"}]}
    first_ten = [edge["node"] for edge in node["messages"]["edges"]]
    assert [len(message["childIds"]) for message in first_ten] == [2] + [1] * 8 + [1]
    assert [message["rating"] for message in first_ten] == [None, "UP", None, "DOWN"] + [None] * 6


async def test_thread_pages_and_their_child_ids_cost_the_same_for_5_and_50_chats(
    client: GraphQLClient, app: FastAPI
) -> None:
    ada = await sign_up(client, "ada")
    await add_chats(app, ada, 5)

    async def threads() -> tuple[int, list[Any]]:
        with counting_statements(app) as statements:
            data = await client.data(THREADS, token=ada.token)
        return len(statements), [edge["node"]["thread"] for edge in data["chats"]["edges"]]

    await threads()  # warm-up
    with_5, _ = await threads()
    await add_chats(app, ada, 45)
    with_50, pages = await threads()

    assert with_5 == with_50 == THREAD_STATEMENTS, (with_5, with_50)
    assert len(pages) == 50
    assert [len(message["childIds"]) for message in pages[0]] == [1, 1, 1, 1, 0]

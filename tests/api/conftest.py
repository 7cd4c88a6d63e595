"""API fixtures: a signed-in user who already has a chat."""

from typing import NamedTuple

import pytest
from fastapi import FastAPI

from tests.factories import Person, create_chat, sign_up
from tests.helpers import GraphQLClient


class OwnedChat(NamedTuple):
    """A signed-in user and the id of a new chat of theirs."""

    owner: Person
    chat_id: str


@pytest.fixture
async def ada_chat(client: GraphQLClient, app: FastAPI) -> OwnedChat:
    """Ada (ada@example.com), signed in, with a new empty private chat titled "Chat"."""
    ada = await sign_up(client, "ada")
    return OwnedChat(ada, await create_chat(app, ada))

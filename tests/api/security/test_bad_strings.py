r"""Issue 11 item 9: a lone surrogate in any string input is BAD_USER_INPUT, and saves nothing.

JSON can carry "\ud800", UTF-8 cannot: every text input (titles, searches, credentials,
tokens, message parts, file names) is refused before any resolver runs, naming the
variable's path as `extensions.field`, over HTTP and over both WebSocket protocols.
"""

import json
import uuid
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from src.lib.db.models import Chat, Message, User
from tests.api.conftest import OwnedChat
from tests.api.stream.operations import CHAT_STREAM
from tests.helpers import GraphQLClient
from tests.ws import OperationError, open_socket

BAD = "caf\u00e9 \ud800"
CREATE = "mutation C($input: CreateChatInput) { createChat(input: $input) { id } }"
UPDATE = (
    "mutation U($id: ID!, $input: UpdateChatInput!) { updateChat(id: $id, input: $input) { id } }"
)
CHATS = "query L($search: String) { chats(search: $search) { edges { node { id } } } }"
SEARCH = "query S($q: String!) { searchMessages(query: $q) { edges { node { id } } } }"
LOGIN = "mutation L($input: LoginInput!) { login(input: $input) { accessToken } }"
REGISTER = "mutation R($input: RegisterInput!) { register(input: $input) { accessToken } }"
REFRESH = "mutation F($t: String!) { refreshToken(refreshToken: $t) { accessToken } }"


async def _rows(app: FastAPI) -> tuple[int, int, int]:
    async with app.state.runtime.session_factory() as db:
        counts = [
            await db.scalar(select(func.count()).select_from(m)) for m in (User, Chat, Message)
        ]
    return counts[0] or 0, counts[1] or 0, counts[2] or 0


def _assert_refused(errors: list[dict[str, Any]], field: str) -> None:
    assert len(errors) == 1, errors
    assert errors[0]["extensions"] == {"code": "BAD_USER_INPUT", "field": field}


@pytest.mark.parametrize(
    ("query", "variables", "field"),
    [
        (CREATE, {"input": {"title": BAD}}, "input.title"),
        (UPDATE, {"id": "CHAT", "input": {"title": BAD}}, "input.title"),
        (CHATS, {"search": BAD}, "search"),
        (SEARCH, {"q": BAD}, "q"),
        (LOGIN, {"input": {"email": BAD, "password": "correct horse"}}, "input.email"),
        (LOGIN, {"input": {"email": "ada@example.com", "password": BAD}}, "input.password"),
        (REGISTER, {"input": {"email": "new@example.com", "password": BAD}}, "input.password"),
        (REFRESH, {"t": BAD}, "t"),
    ],
    ids=[
        "create",
        "update",
        "chats",
        "search",
        "login-email",
        "login-password",
        "register",
        "refresh",
    ],
)
async def test_a_lone_surrogate_over_http_is_bad_user_input_and_saves_nothing(
    client: GraphQLClient,
    app: FastAPI,
    ada_chat: OwnedChat,
    query: str,
    variables: dict[str, Any],
    field: str,
) -> None:
    ada, chat_id = ada_chat
    if variables.get("id") == "CHAT":
        variables = variables | {"id": chat_id}
    before = await _rows(app)
    response = await client.http.post(
        "/graphql",
        content=json.dumps({"query": query, "variables": variables}),  # "\\ud800", escaped
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {ada.token}"},
    )
    assert response.status_code == 200, response.text
    _assert_refused(response.json()["errors"], field)
    assert await _rows(app) == before


@pytest.mark.parametrize("protocol", ["graphql-transport-ws", "graphql-ws"])
@pytest.mark.parametrize(
    ("parts", "field"),
    [
        ([{"text": BAD}], "input.message.parts.0.text"),
        (
            [
                {"text": "look"},
                {
                    "file": {
                        "url": "https://example.com/c.png",
                        "mediaType": "image/png",
                        "name": BAD,
                    }
                },
            ],
            "input.message.parts.1.file.name",
        ),
    ],
    ids=["text", "file-name"],
)
async def test_a_lone_surrogate_in_a_message_is_refused_before_anything_is_saved(
    app: FastAPI,
    server_url: str,
    ada_chat: OwnedChat,
    protocol: str,
    parts: list[dict[str, Any]],
    field: str,
) -> None:
    ada, _ = ada_chat
    before = await _rows(app)
    stream_input = {"chatId": str(uuid.uuid4()), "message": {"parts": parts}}
    async with open_socket(server_url, ada.token, protocol) as socket:
        await socket.subscribe("1", CHAT_STREAM, {"input": stream_input})
        with pytest.raises(OperationError) as refused:
            await socket.collect("1", "chatStream")
    errors = refused.value.errors
    _assert_refused(errors if isinstance(errors, list) else [errors], field)
    assert await _rows(app) == before

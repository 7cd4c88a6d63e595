"""A NUL character (U+0000) in stored or searched text is refused, never a server error.

PostgreSQL text cannot hold NUL, and a NUL bound to a statement fails it: the fuzz run found
`chats(search:)` answering INTERNAL_SERVER_ERROR; titles, login emails, message text and
file parts did too. Each is now BAD_USER_INPUT naming the field (a login, UNAUTHENTICATED
like any unknown email), and nothing is saved.
"""

import uuid
from typing import Any

import pytest

from tests.api.stream.operations import stream_reply
from tests.helpers import GraphQLClient
from tests.ws import OperationError

NUL_TEXT = "a\x00b"
CREATE = "mutation C($t: String) { createChat(input: { title: $t }) { id } }"
UPDATE = "mutation U($id: ID!, $t: String) { updateChat(id: $id, input: { title: $t }) { id } }"
SEARCH_CHATS = "query S($s: String) { chats(search: $s) { totalCount } }"
SEARCH_MESSAGES = "query M($q: String!) { searchMessages(query: $q) { edges { snippet } } }"
LOGIN = "mutation L($e: String!) { login(input: { email: $e, password: $e }) { accessToken } }"
CHATS = "{ chats { totalCount } }"
TITLE = "query T($id: ID!) { chat(id: $id) { title } }"


@pytest.mark.parametrize(
    ("query", "variables", "field"),
    [
        (CREATE, {"t": NUL_TEXT}, "title"),
        (SEARCH_CHATS, {"s": NUL_TEXT}, "search"),
        (SEARCH_MESSAGES, {"q": NUL_TEXT}, "query"),
    ],
)
async def test_nul_in_a_title_or_search_is_bad_user_input(
    client: GraphQLClient, query: str, variables: dict[str, Any], field: str
) -> None:
    token = (await client.register())["accessToken"]
    error = await client.error(query, variables, token)
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": field}
    assert (await client.data(CHATS, token=token))["chats"]["totalCount"] == 0


async def test_nul_in_a_new_title_keeps_the_old_one(client: GraphQLClient) -> None:
    token = (await client.register())["accessToken"]
    chat_id = (await client.data(CREATE, {"t": "Old"}, token))["createChat"]["id"]
    error = await client.error(UPDATE, {"id": chat_id, "t": NUL_TEXT}, token)
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "title"}
    chat = await client.data(
        "query T($id: ID!) { chat(id: $id) { title } }", {"id": chat_id}, token
    )
    assert chat["chat"]["title"] == "Old"


async def test_nul_in_a_login_email_is_unauthenticated(client: GraphQLClient) -> None:
    error = await client.error(LOGIN, {"e": "ada\x00@example.com"})
    assert error["extensions"]["code"] == "UNAUTHENTICATED"


FILE = {"url": "https://example.com/cat.png", "mediaType": "image/png", "name": "cat.png"}


@pytest.mark.parametrize(
    ("part", "field"),
    [
        ({"text": NUL_TEXT}, "input.message.parts"),
        ({"file": FILE | {"name": NUL_TEXT}}, "input.message.parts.file.name"),
        ({"file": FILE | {"url": "https://example.com/\x00"}}, "input.message.parts.file.url"),
        ({"file": FILE | {"mediaType": "image/\x00"}}, "input.message.parts.file.mediaType"),
    ],
)
async def test_nul_in_a_message_part_is_bad_user_input_and_saves_nothing(
    client: GraphQLClient, server_url: str, part: dict[str, Any], field: str
) -> None:
    token = (await client.register())["accessToken"]
    stream_input = {"chatId": str(uuid.uuid4()), "message": {"parts": [{"text": "hi"}, part]}}
    with pytest.raises(OperationError) as error:
        await stream_reply(server_url, token, stream_input)
    assert error.value.errors[0]["extensions"] == {"code": "BAD_USER_INPUT", "field": field}
    assert (await client.data(CHATS, token=token))["chats"]["totalCount"] == 0

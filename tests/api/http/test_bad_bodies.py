"""Bodies and content types refused with a 4xx and a GraphQL error (issue 11, items 8, 10, 14).

Valid JSON that is not an object, JSON nested past the parser's limit, non-JSON content types
(`application/jsonx` included) and subscriptions sent over HTTP were answered with 500 or
INTERNAL_SERVER_ERROR, or run as JSON.
"""

from typing import Any

import pytest

from src.api.http_negotiation import APPLICATION_JSON, GRAPHQL_RESPONSE_JSON
from tests.factories import sign_up
from tests.helpers import GraphQLClient

DEEP = "[" * 5000 + "]" * 5000


async def _refusal(
    client: GraphQLClient, body: bytes, content_type: str | None, accept: str = APPLICATION_JSON
) -> tuple[int, dict[str, Any]]:
    headers = {"Accept": accept} | ({"Content-Type": content_type} if content_type else {})
    response = await client.http.post("/graphql", content=body, headers=headers)
    assert response.headers["content-type"] == accept
    body_json: dict[str, Any] = response.json()
    assert "data" not in body_json
    assert body_json["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "Traceback" not in response.text
    return response.status_code, body_json


@pytest.mark.parametrize(
    "body",
    [
        "null",
        "123",
        '"x"',
        "true",
        "[]",
        DEEP,
        '{"query": "{ __typename }", "variables": ' + DEEP + "}",
        "{ not json",
        "",
    ],
)
@pytest.mark.parametrize("accept", [APPLICATION_JSON, GRAPHQL_RESPONSE_JSON])
async def test_json_that_is_not_an_object_or_too_deep_gets_400(
    client: GraphQLClient, body: str, accept: str
) -> None:
    status, _ = await _refusal(client, body.encode(), APPLICATION_JSON, accept)
    assert status == 400


@pytest.mark.parametrize(
    "content_type",
    [
        "application/jsonx",
        "application/json-patch+json",
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/json; charset=latin-1",
        None,
    ],
)
async def test_other_content_types_get_415(client: GraphQLClient, content_type: str | None) -> None:
    body = b'{"query": "mutation { loginAsGuest { accessToken } }"}'
    status, body_json = await _refusal(client, body, content_type)
    assert status == 415
    assert "application/json" in body_json["errors"][0]["message"]


async def test_json_with_a_charset_is_accepted(client: GraphQLClient) -> None:
    response = await client.http.post(
        "/graphql",
        content=b'{"query": "{ __typename }"}',
        headers={"Content-Type": "application/json; charset=UTF-8"},
    )
    assert response.json() == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize(
    "body",
    [
        '{"query": {"obj": "ect"}}',
        '{"query": "{ __typename }", "variables": [1]}',
        '{"query": "{ __typename }", "extensions": "x"}',
        '{"variables": {}}',
    ],
)
async def test_bad_parameters_get_400(client: GraphQLClient, body: str) -> None:
    status, _ = await _refusal(client, body.encode(), APPLICATION_JSON)
    assert status == 400


async def test_a_subscription_sent_over_http_is_a_client_error(client: GraphQLClient) -> None:
    ada = await sign_up(client, "ada")
    response = await client.http.post(
        "/graphql",
        json={"query": 'subscription { chatEvents(chatId: "1") { __typename } }'},
        headers={"Authorization": f"Bearer {ada.token}"},
    )
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "WebSockets" in error["message"]

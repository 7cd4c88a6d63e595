"""Queries by GET (issue 12, security checklist G12): answered; mutations and subscriptions never.

A query by GET has no side effect, and the token travels in a header a cross-site page cannot
set; the request log never writes the query string (variables may hold search text).
"""

import json
from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI
from loguru import logger

from src.api.http_negotiation import GRAPHQL_RESPONSE_JSON
from tests.factories import sign_up
from tests.helpers import GraphQLClient

ME = "query Me { me { id email } }"
SEARCH = "query Find($q: String!) { searchMessages(query: $q) { edges { node { id } } } }"


@pytest.fixture
def log_lines() -> Iterator[list[str]]:
    """Everything the server logs while the test runs (the test's own httpx client aside)."""
    lines: list[str] = []
    sink = logger.add(
        lambda message: lines.append(str(message)),
        level="DEBUG",
        filter=lambda record: not (record["name"] or "").startswith("httpx"),
    )
    yield lines
    logger.remove(sink)


async def test_a_query_by_get_is_answered_with_the_token_from_the_header(
    client: GraphQLClient,
) -> None:
    ada = await sign_up(client, "ada")
    response = await client.http.get(
        "/graphql",
        params={"query": ME, "operationName": "Me"},
        headers={"Authorization": f"Bearer {ada.token}", "Accept": GRAPHQL_RESPONSE_JSON},
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == GRAPHQL_RESPONSE_JSON
    assert response.json() == {"data": {"me": {"id": ada.id, "email": "ada@example.com"}}}


async def test_variables_travel_as_url_encoded_json(client: GraphQLClient) -> None:
    ada = await sign_up(client, "ada")
    response = await client.http.get(
        "/graphql",
        params={"query": SEARCH, "variables": json.dumps({"q": "anything"})},
        headers={"Authorization": f"Bearer {ada.token}"},
    )
    assert response.json() == {"data": {"searchMessages": {"edges": []}}}


@pytest.mark.parametrize(
    "operation",
    [
        'mutation { login(input: {email: "ada@example.com", password: "correct horse"}) '
        "{ accessToken } }",
        "subscription { chatEvents(chatId: 1) { __typename } }",
    ],
)
async def test_mutations_and_subscriptions_by_get_get_405_and_never_run(
    client: GraphQLClient, operation: str
) -> None:
    await sign_up(client, "ada")
    response = await client.http.get("/graphql", params={"query": operation})
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert "data" not in response.json()
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_a_form_post_is_refused_and_runs_nothing(client: GraphQLClient) -> None:
    response = await client.http.post(
        "/graphql", data={"query": "mutation { loginAsGuest { accessToken } }"}
    )
    assert response.status_code == 415
    assert "data" not in response.json()


async def test_the_request_log_never_writes_the_query_string(
    app: FastAPI, server_url: str, log_lines: list[str]
) -> None:
    secret = "pineapple-pizza-confession"
    base = server_url.replace("ws://", "http://")
    async with httpx.AsyncClient() as http:
        response = await http.get(
            base, params={"query": SEARCH, "variables": json.dumps({"q": secret})}
        )
    assert response.status_code == 200  # answered: UNAUTHENTICATED inside the GraphQL body
    assert any("GET /graphql" in line for line in log_lines)
    assert not any(secret in line or "variables" in line for line in log_lines)

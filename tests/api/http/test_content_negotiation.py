"""Content negotiation on Accept (issue 12): application/graphql-response+json or application/json.

With `application/graphql-response+json`, parse, validation and variable coercion failures get
400 and no `data` entry; with `application/json` they keep 200 and `"data": null`.
"""

from typing import Any

import pytest

from src.api.http_negotiation import APPLICATION_JSON, GRAPHQL_RESPONSE_JSON, negotiate
from tests.helpers import GraphQLClient

BOTH = f"{GRAPHQL_RESPONSE_JSON}, {APPLICATION_JSON}"
PARSE_FAILURE = "{ me { id }"
VALIDATION_FAILURE = "{ nothingHere }"
COERCION_FAILURE = ("query C($id: ID!) { chat(id: $id) { id } }", {"id": None})


async def _post(
    client: GraphQLClient, accept: str | None, query: str, variables: dict[str, Any] | None = None
) -> tuple[int, str, dict[str, Any]]:
    headers = {"Accept": accept} if accept else {}
    response = await client.http.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers
    )
    return response.status_code, response.headers["content-type"], response.json()


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, APPLICATION_JSON),
        ("*/*", APPLICATION_JSON),
        (APPLICATION_JSON, APPLICATION_JSON),
        (GRAPHQL_RESPONSE_JSON, GRAPHQL_RESPONSE_JSON),
        (BOTH, GRAPHQL_RESPONSE_JSON),
        (f"{APPLICATION_JSON}, {GRAPHQL_RESPONSE_JSON}", APPLICATION_JSON),
        (f"{GRAPHQL_RESPONSE_JSON}, {APPLICATION_JSON};q=0.9", GRAPHQL_RESPONSE_JSON),
        (f"{GRAPHQL_RESPONSE_JSON};q=0.5, {APPLICATION_JSON}", APPLICATION_JSON),
        (f"{APPLICATION_JSON};q=0.5, */*", GRAPHQL_RESPONSE_JSON),
        (f"{GRAPHQL_RESPONSE_JSON};q=0, */*", APPLICATION_JSON),
        ("text/html", APPLICATION_JSON),
    ],
)
async def test_the_answer_has_the_media_type_the_client_prefers(
    client: GraphQLClient, accept: str | None, expected: str
) -> None:
    assert negotiate(accept) == expected
    status, content_type, body = await _post(client, accept, "{ __typename }")
    assert (status, content_type, body) == (200, expected, {"data": {"__typename": "Query"}})


@pytest.mark.parametrize(
    ("query", "variables", "code"),
    [
        (PARSE_FAILURE, None, "GRAPHQL_PARSE_FAILED"),
        (VALIDATION_FAILURE, None, "GRAPHQL_VALIDATION_FAILED"),
        (*COERCION_FAILURE, "BAD_USER_INPUT"),
    ],
)
async def test_request_errors_get_400_without_data_under_graphql_response_json(
    client: GraphQLClient, query: str, variables: dict[str, Any] | None, code: str
) -> None:
    status, content_type, body = await _post(client, BOTH, query, variables)
    assert (status, content_type) == (400, GRAPHQL_RESPONSE_JSON)
    assert "data" not in body
    assert body["errors"][0]["extensions"]["code"] == code


@pytest.mark.parametrize(
    ("query", "variables"),
    [(PARSE_FAILURE, None), (VALIDATION_FAILURE, None), COERCION_FAILURE],
)
async def test_request_errors_keep_200_and_null_data_under_application_json(
    client: GraphQLClient, query: str, variables: dict[str, Any] | None
) -> None:
    for accept in (None, APPLICATION_JSON):
        status, content_type, body = await _post(client, accept, query, variables)
        assert (status, content_type, body["data"]) == (200, APPLICATION_JSON, None)
        assert body["errors"]


async def test_an_error_during_execution_keeps_200_and_data(client: GraphQLClient) -> None:
    status, _, body = await _post(client, GRAPHQL_RESPONSE_JSON, "{ me { id } }")
    assert status == 200
    assert body["data"] is None and body["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert body["errors"][0]["path"] == ["me"]

"""Issue 11 items 6 and 7: documents whose validation would cost too much are refused cheaply.

Each attack goes through the app over HTTP, without a token (validation runs before any
resolver). Refused documents get one GRAPHQL_VALIDATION_FAILED error; documents within the
limits, duplicates and shared fragments included, are answered.
"""

import pytest
from graphql import get_introspection_query

from src.api.schema import build_schema
from tests.helpers import GraphQLClient

REPEATED_FIELD = "{" + " me { id }" * 400 + "}"
MANY_LEAVES = "{" + " __typename" * 1500 + "}"
SAME_FIELD_IN_DISTINCT_FRAGMENTS = (
    "{"
    + "".join(f" ...F{i}" for i in range(150))
    + " }"
    + "".join(f" fragment F{i} on Query {{ me {{ id }} }}" for i in range(150))
)
FRAGMENT_BOMB = (
    "{ ...F0 }"
    + "".join(f" fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(60))
    + " fragment F60 on Query { __typename }"
)
UNUSED_FRAGMENT = "{ __typename } fragment U on Query {" + " __typename" * 1500 + " }"
SAME_NAME_SELECTED_FIVE_WAYS = (
    "{ m: __typename"
    + "".join(f" ...on Query {{ m: __typename @include(if: {v}) }}" for v in ("true", "false"))
    + " m: __typename @skip(if: true) m: __typename @skip(if: false) }"
)
DEEP_INTROSPECTION = '{ __type(name: "User") {' + " ofType {" * 30 + " name" + " }" * 31 + " }"


async def _refused(client: GraphQLClient, query: str) -> str:
    body = await client.post(query)
    assert "data" not in body or body["data"] is None, body
    assert [e["extensions"]["code"] for e in body["errors"]] == ["GRAPHQL_VALIDATION_FAILED"]
    message: str = body["errors"][0]["message"]
    return message


@pytest.mark.parametrize(
    ("query", "refusal"),
    [
        (REPEATED_FIELD, "more than 200 selections"),
        (MANY_LEAVES, "more than 200 selections"),
        (SAME_FIELD_IN_DISTINCT_FRAGMENTS, "more than 200 selections"),
        (FRAGMENT_BOMB, "more than 1000 selections once its fragments are expanded"),
        (UNUSED_FRAGMENT, "more than 200 selections"),
        (SAME_NAME_SELECTED_FIVE_WAYS, "'m' is selected in more than 4 different ways"),
    ],
    ids=["repeated", "leaves", "fragments", "bomb", "unused", "variants"],
)
async def test_a_costly_document_is_refused_before_validation_rules_compare_it(
    client: GraphQLClient, query: str, refusal: str
) -> None:
    assert refusal in await _refused(client, query)


async def test_duplicates_within_the_limits_are_answered_once(client: GraphQLClient) -> None:
    payload = await client.register()
    query = (
        "{ me { id } me { id } ...A ...B } fragment A on Query { me { id email } }"
        " fragment B on Query { me { email id } }"
    )
    data = await client.data(query, token=payload["accessToken"])
    assert data == {"me": {"id": payload["user"]["id"], "email": "ada@example.com"}}


async def test_conflicting_selections_are_still_refused(client: GraphQLClient) -> None:
    query = "{ x: me { id } ...F } fragment F on Query { x: __typename }"
    assert "conflict" in await _refused(client, query)


async def test_deep_introspection_is_refused_in_development(client: GraphQLClient) -> None:
    assert "exceeds maximum operation depth" in await _refused(client, DEEP_INTROSPECTION)


async def test_introspection_is_refused_in_production() -> None:
    schema = build_schema(introspection=False)
    refused = await schema.execute("{ __schema { queryType { name } } }")
    assert refused.errors and "introspection has been disabled" in refused.errors[0].message
    assert refused.errors[0].extensions == {"code": "GRAPHQL_VALIDATION_FAILED"}
    assert (await schema.execute("{ __typename }")).data == {"__typename": "Query"}


async def test_the_standard_introspection_query_is_answered_in_development(
    client: GraphQLClient,
) -> None:
    data = await client.data(get_introspection_query(descriptions=True))
    assert data["__schema"]["queryType"]["name"] == "Query"

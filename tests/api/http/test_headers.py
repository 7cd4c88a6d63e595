"""Security headers (issue 11, item 14): nosniff everywhere, no caching of anything personal.

Every POST answer (register, login, refresh and loginAsGuest give tokens) and every answer to
a request with a token is `no-store`; an anonymous GET query may be stored but revalidated.
"""

import pytest

from src.api.http_negotiation import GRAPHQL_RESPONSE_JSON
from tests.factories import sign_up
from tests.helpers import GUEST, REGISTER, GraphQLClient

LOGIN = "mutation L($input: LoginInput!) { login(input: $input) { accessToken refreshToken } }"
REFRESH = "mutation R($token: String!) { refreshToken(refreshToken: $token) { accessToken } }"


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/healthz"), ("GET", "/readyz"), ("POST", "/graphql"), ("GET", "/nowhere")],
)
async def test_every_response_has_nosniff(client: GraphQLClient, method: str, path: str) -> None:
    response = await client.http.request(method, path, content=b"{}")
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_token_answers_are_never_stored(client: GraphQLClient) -> None:
    credentials = {"email": "ada@example.com", "password": "correct horse"}
    register = await client.http.post(
        "/graphql", json={"query": REGISTER, "variables": {"input": credentials}}
    )
    login = await client.http.post(
        "/graphql", json={"query": LOGIN, "variables": {"input": credentials}}
    )
    refresh = await client.http.post(
        "/graphql",
        json={
            "query": REFRESH,
            "variables": {"token": login.json()["data"]["login"]["refreshToken"]},
        },
    )
    guest = await client.http.post("/graphql", json={"query": GUEST})
    for answer in (register, login, refresh, guest):
        assert "errors" not in answer.json(), answer.text
        assert answer.headers["cache-control"] == "no-store"
        assert answer.headers["x-content-type-options"] == "nosniff"


async def test_refusals_are_never_stored_either(client: GraphQLClient) -> None:
    response = await client.http.post(
        "/graphql", content=b"null", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.headers["cache-control"] == "no-store"


async def test_a_query_by_get_with_a_token_is_never_stored(client: GraphQLClient) -> None:
    ada = await sign_up(client, "ada")
    response = await client.http.get(
        "/graphql",
        params={"query": "{ me { id } }"},
        headers={"Authorization": f"Bearer {ada.token}"},
    )
    assert response.json()["data"]["me"]["id"] == ada.id
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["vary"] == "Accept, Authorization"


async def test_an_anonymous_query_by_get_is_revalidated_and_varies_by_accept(
    client: GraphQLClient,
) -> None:
    response = await client.http.get(
        "/graphql",
        params={"query": "{ __typename }"},
        headers={"Accept": GRAPHQL_RESPONSE_JSON},
    )
    assert response.json() == {"data": {"__typename": "Query"}}
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["vary"] == "Accept, Authorization"

"""The application shell: health routes, request logs, limits, masked errors."""

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from loguru import logger

from main import create_app
from tests.conftest import make_settings
from tests.helpers import GraphQLClient, wait_until
from tests.ws import open_socket

UNREACHABLE_DB = "postgresql+asyncpg://postgres@127.0.0.1:1/nothing"


@pytest.fixture
def log_lines() -> Iterator[list[str]]:
    """Everything logged at DEBUG and above while the test runs."""
    lines: list[str] = []
    sink = logger.add(
        lambda message: lines.append(str(message)),
        level="DEBUG",
        format="{extra[request_id]} | {message}",
    )
    yield lines
    logger.remove(sink)


@pytest.fixture
async def broken_client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app whose database does not answer."""
    settings = make_settings(UNREACHABLE_DB, tmp_path, migrate_on_start=False)
    application = create_app(settings)
    transport = httpx.ASGITransport(app=application)
    async with (
        application.router.lifespan_context(application),
        httpx.AsyncClient(transport=transport, base_url="http://test") as http,
    ):
        yield http


async def test_health_routes(client: GraphQLClient) -> None:
    assert (await client.http.get("/healthz")).json() == {"status": "ok"}
    ready = await client.http.get("/readyz")
    assert (ready.status_code, ready.json()) == (
        200,
        {"status": "ok", "database": "ok", "broker": "ok"},
    )


async def test_readyz_fails_when_the_database_does_not_answer(
    broken_client: httpx.AsyncClient,
) -> None:
    assert (await broken_client.get("/healthz")).status_code == 200
    ready = await broken_client.get("/readyz")
    assert (ready.status_code, ready.json()["database"]) == (503, "down")


async def test_unexpected_errors_are_masked_and_logged_with_the_request_id(
    broken_client: httpx.AsyncClient, log_lines: list[str]
) -> None:
    response = await broken_client.post(
        "/graphql",
        json={
            "query": 'mutation { login(input: {email: "a@b.co", password: "12345678"}) '
            "{ accessToken } }"
        },
    )
    error = response.json()["errors"][0]
    assert error["message"] == "Unexpected error."
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    request_id = error["extensions"]["requestId"]
    assert response.headers["x-request-id"] == request_id
    assert "Traceback" not in response.text and "127.0.0.1" not in response.text
    traced = [line for line in log_lines if request_id in line and "unexpected error" in line]
    assert traced and "Traceback" in traced[0]


async def test_one_log_line_per_request_without_secrets(
    client: GraphQLClient, log_lines: list[str]
) -> None:
    payload = await client.register("ada@example.com", "secret password")
    lines = [line for line in log_lines if "POST /graphql" in line]
    assert len(lines) == 1
    assert "op=Register" in lines[0] and "status=200" in lines[0]
    everything = "".join(log_lines)
    for secret in ("secret password", payload["accessToken"], payload["refreshToken"]):
        assert secret not in everything


async def test_one_log_line_per_socket_with_its_operations_and_request_id(
    client: GraphQLClient, server_url: str, log_lines: list[str]
) -> None:
    token = (await client.register())["accessToken"]
    async with open_socket(server_url, token) as socket:
        await socket.subscribe("1", "query Models { models { id } }", {})
        assert await socket.collect("1", "models")
        await socket.subscribe("2", "query Me { me { id } }", {})
        assert await socket.collect("2", "me")
    await wait_until(lambda: any("WS /graphql" in line for line in log_lines))
    [line] = [line for line in log_lines if "WS /graphql" in line]
    request_id, message = line.split(" | ", 1)
    assert request_id != "-" and message.startswith("WS /graphql op=Models,Me status=- ")
    assert token not in "".join(log_lines)


async def test_syntax_and_validation_errors_have_codes_and_no_suggestions(
    client: GraphQLClient,
) -> None:
    syntax = await client.error("{ me { id }")
    assert syntax["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
    unknown = await client.error("{ mee { id } }")
    assert unknown["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "Did you mean" not in unknown["message"]


async def test_bad_variable_is_bad_user_input_with_the_field(client: GraphQLClient) -> None:
    error = await client.error(
        "mutation R($input: RegisterInput!) { register(input: $input) { accessToken } }",
        {"input": {"email": 5, "password": "12345678"}},
    )
    assert error["extensions"] == {"code": "BAD_USER_INPUT", "field": "input"}


async def test_too_deep_too_many_aliases_and_too_many_tokens_are_refused(
    client: GraphQLClient,
) -> None:
    deep = "{ " + "me { " * 12 + "id" + " }" * 13
    errors = (await client.post(deep))["errors"]
    assert {e["extensions"]["code"] for e in errors} == {"GRAPHQL_VALIDATION_FAILED"}
    assert any("exceeds maximum operation depth" in e["message"] for e in errors)
    aliases = "{ " + " ".join(f"a{i}: __typename" for i in range(20)) + " }"
    assert (await client.error(aliases))["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    tokens = "{ " + "__typename " * 2500 + "}"
    body = await client.post(tokens)
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"


async def test_too_many_directives_give_one_error(client: GraphQLClient) -> None:
    directives = "@include(if: true) " * 60
    errors = (await client.post(f"{{ __typename {directives}}}"))["errors"]
    limit = [e for e in errors if "more than 50 directives" in e["message"]]
    assert len(limit) == 1 and limit[0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    fine = "{ a: __typename @include(if: true) b: __typename @skip(if: false) }"
    assert "errors" not in await client.post(fine)


async def test_graphiql_is_served_to_browsers(client: GraphQLClient) -> None:
    page = await client.http.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200 and "graphiql" in page.text.lower()


async def test_an_oversized_body_is_refused(client: GraphQLClient) -> None:
    response = await client.http.post(
        "/graphql", json={"query": "{ __typename }", "variables": {"x": "y" * 300_000}}
    )
    assert response.status_code == 413
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_no_docs_or_schema_routes_are_exposed(client: GraphQLClient) -> None:
    for path in ("/docs", "/redoc", "/openapi.json", "/graphql/schema"):
        assert (await client.http.get(path)).status_code == 404, path

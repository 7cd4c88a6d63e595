"""Abuse limits: sign-in attempts (aliases included) and account creation per client."""

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from main import create_app
from tests.conftest import make_settings
from tests.helpers import GUEST, GraphQLClient

LOGIN = "mutation L($i: LoginInput!) { login(input: $i) { accessToken } }"


@pytest.fixture
async def strict_client(
    database_url: str, tmp_path: Path, app: object
) -> AsyncIterator[GraphQLClient]:
    """A client of an app with low limits: 3 sign-in attempts, 2 sign-ups per client."""
    settings = make_settings(
        database_url, tmp_path, login_attempts_per_window=3, signups_per_hour=2
    )
    application = create_app(settings)
    transport = httpx.ASGITransport(app=application)
    async with (
        application.router.lifespan_context(application),
        httpx.AsyncClient(transport=transport, base_url="http://test") as http,
    ):
        yield GraphQLClient(http)


async def test_sign_in_attempts_are_limited_per_client_and_email(
    strict_client: GraphQLClient,
) -> None:
    await strict_client.register("ada@example.com", "correct horse")
    wrong = {"i": {"email": "ada@example.com", "password": "wrong horse"}}
    for _ in range(3):
        error = await strict_client.error(LOGIN, wrong)
        assert error["extensions"]["code"] == "UNAUTHENTICATED"
    limited = await strict_client.error(
        LOGIN, {"i": {"email": "ADA@example.com", "password": "correct horse"}}
    )
    assert limited["extensions"]["code"] == "RATE_LIMITED"
    assert 0 < limited["extensions"]["retryAfter"] <= 900
    other = await strict_client.error(
        LOGIN, {"i": {"email": "bob@example.com", "password": "wrong horse"}}
    )
    assert other["extensions"]["code"] == "UNAUTHENTICATED"


async def test_aliased_guesses_stop_at_the_first_failure_and_count(
    strict_client: GraphQLClient,
) -> None:
    await strict_client.register("ada@example.com", "correct horse")
    aliases = " ".join(
        f'a{n}: login(input: {{email: "ada@example.com", password: "guess{n}"}}) {{ accessToken }}'
        for n in range(6)
    )
    codes = []
    for _ in range(4):
        body = await strict_client.post(f"mutation {{ {aliases} }}")
        # Mutation fields run in order and a failed non-null one ends the operation.
        assert body["data"] is None and len(body["errors"]) == 1
        codes.append(body["errors"][0]["extensions"]["code"])
    assert codes == ["UNAUTHENTICATED"] * 3 + ["RATE_LIMITED"]


async def test_account_creation_is_limited_per_client(strict_client: GraphQLClient) -> None:
    await strict_client.guest()
    await strict_client.register("ada@example.com", "correct horse")
    error = await strict_client.error(GUEST)
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert error["extensions"]["retryAfter"] > 0

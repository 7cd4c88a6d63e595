"""Test helpers: a GraphQL client, account shortcuts, the test services, a fake clock, waits."""

import asyncio
import inspect
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, NoReturn

import httpx
import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
TIMEOUT = 5.0  # how many seconds a test waits for a state before it fails

REGISTER = """
mutation Register($input: RegisterInput!) {
  register(input: $input) {
    accessToken refreshToken tokenType expiresIn user { id email userType }
  }
}
"""
GUEST = """
mutation Guest { loginAsGuest { accessToken refreshToken user { id email userType } } }
"""


@dataclass
class GraphQLClient:
    """Posts GraphQL operations to /graphql."""

    http: httpx.AsyncClient

    async def post(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        """Run an operation and return the whole JSON response."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def data(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        """Run an operation that must succeed; return its data."""
        body = await self.post(query, variables, token)
        assert "errors" not in body, body
        data: dict[str, Any] = body["data"]
        return data

    async def error(
        self, query: str, variables: dict[str, Any] | None = None, token: str | None = None
    ) -> dict[str, Any]:
        """Run an operation that must fail; return its only error."""
        body = await self.post(query, variables, token)
        assert len(body.get("errors", [])) == 1, body
        error: dict[str, Any] = body["errors"][0]
        return error

    async def register(
        self, email: str = "ada@example.com", password: str = "correct horse"
    ) -> dict[str, Any]:
        """Register an account; returns the AuthPayload."""
        data = await self.data(REGISTER, {"input": {"email": email, "password": password}})
        payload: dict[str, Any] = data["register"]
        return payload

    async def guest(self) -> dict[str, Any]:
        """Start a guest session; returns the AuthPayload."""
        payload: dict[str, Any] = (await self.data(GUEST))["loginAsGuest"]
        return payload


@dataclass
class FakeClock:
    """A monotonic clock that moves only when the test advances it; call it for the time."""

    now: float = 0.0

    def __call__(self) -> float:
        """The current time, in seconds."""
        return self.now

    def advance(self, seconds: float) -> None:
        """Move the clock forward."""
        self.now += seconds


async def wait_until(
    condition: Callable[[], bool | Awaitable[bool]],
    timeout: float = TIMEOUT,  # noqa: ASYNC109 - the bound is part of the wait, and names its failure
    interval: float = 0.01,
) -> None:
    """Wait until a condition holds, checking it every `interval` seconds.

    Args:
        condition: A function, or coroutine function, telling whether the state is reached.
        timeout: The most seconds to wait.
        interval: The seconds between checks.

    Raises:
        AssertionError: If the condition still does not hold after `timeout` seconds.
    """
    try:
        async with asyncio.timeout(timeout):
            while True:
                reached = condition()
                if await reached if inspect.isawaitable(reached) else reached:
                    return
                await asyncio.sleep(interval)
    except TimeoutError:
        raise AssertionError(f"{condition.__qualname__} did not hold within {timeout} s") from None


@dataclass
class ExpiryClock:
    """The time a test's locks and windows expire by: a fake clock, or real time for Redis.

    In-memory components take `fake` as their clock, and the test moves it. Redis counts its
    TTLs in real time: there `elapse` sleeps (the passing time is then what is tested) and
    `elapse_until` polls the state with a bounded deadline.

    Attributes:
        fake: The clock to give in-memory components, or None when expiry is Redis's.
    """

    fake: FakeClock | None = None

    async def elapse(self, seconds: float) -> None:
        """Let `seconds` pass."""
        if self.fake is None:
            await asyncio.sleep(seconds)
        else:
            self.fake.advance(seconds)

    async def elapse_until(self, expired: Callable[[], Awaitable[bool]], seconds: float) -> None:
        """Let time pass until something expired: `seconds` on the fake clock, else a TIMEOUT.

        Args:
            expired: Tells whether the state shows the expiry.
            seconds: How far to move the fake clock (what the expiry needs).

        Raises:
            AssertionError: If the state does not show the expiry then.
        """
        if self.fake is not None:
            self.fake.advance(seconds)
        await wait_until(expired)


def service_unavailable(service: str, error: Exception) -> NoReturn:
    """End a test whose service does not answer: fail it under CI (`CI` set), else skip it.

    Args:
        service: The service's name, for the message.
        error: What connecting to it raised.
    """
    if os.environ.get("CI"):
        pytest.fail(f"{service} is required in CI and does not answer: {error}")
    pytest.skip(f"{service} does not answer: {error}")


async def require_redis() -> None:
    """Make sure the test Redis answers (see `service_unavailable`)."""
    client = Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        await client.ping()
    except (RedisError, OSError) as error:
        service_unavailable("Redis", error)
    finally:
        await client.aclose()

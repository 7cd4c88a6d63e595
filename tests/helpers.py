"""Test helpers: a small GraphQL client, account shortcuts and the test services."""

import os
from dataclasses import dataclass
from typing import Any, NoReturn

import httpx
import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")

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

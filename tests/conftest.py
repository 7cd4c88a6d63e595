"""Shared fixtures: one database per backend per run, the real app, an HTTP client.

Every test that takes `client` (or `app`) runs twice: on SQLite and on PostgreSQL. PostgreSQL
tests are skipped when no server answers, except under CI (`CI` set), where they fail.
"""

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]  # asyncpg ships no type hints
import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import delete

from main import MAX_WS_FRAME_BYTES, create_app
from src.core.config import Settings
from src.lib.db.base import Base
from tests.helpers import GraphQLClient, service_unavailable, wait_until

POSTGRES_SERVER = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432")
TEST_SECRET = "test-secret-" + "x" * 40


async def _create_postgres_database() -> str:
    name = f"chat_test_{uuid.uuid4().hex[:10]}"
    try:
        connection = await asyncpg.connect(f"{POSTGRES_SERVER}/postgres", timeout=5)
    except (OSError, asyncpg.PostgresError) as error:
        service_unavailable("PostgreSQL", error)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    return name


async def _drop_postgres_database(name: str) -> None:
    connection = await asyncpg.connect(f"{POSTGRES_SERVER}/postgres", timeout=5)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await connection.close()


async def _empty_database(backend: str, folder: Path) -> AsyncIterator[str]:
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{folder / 'test.db'}"
        return
    name = await _create_postgres_database()
    try:
        yield f"{POSTGRES_SERVER.replace('postgresql://', 'postgresql+asyncpg://')}/{name}"
    finally:
        await _drop_postgres_database(name)


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
async def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    """A fresh, empty database of each backend, shared by the whole run."""
    async for url in _empty_database(request.param, tmp_path_factory.mktemp("db")):
        yield url


@pytest.fixture
async def postgres_database_url(tmp_path: Path) -> AsyncIterator[str]:
    """A fresh, empty PostgreSQL database for one test of what only a server does."""
    async for url in _empty_database("postgresql", tmp_path):
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
async def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh, empty database of each backend for one test."""
    async for url in _empty_database(request.param, tmp_path):
        yield url


TEST_SETTINGS: dict[str, object] = {
    "environment": "test",
    "jwt_secret": TEST_SECRET,
    "argon2_time_cost": 1,
    "argon2_memory_kib": 8,
    "argon2_parallelism": 1,
    "log_level": "WARNING",
    "ws_init_timeout_seconds": 1,
    "login_attempts_per_window": 10_000,
    "signups_per_hour": 10_000,
    "demo_token_delay_seconds": 0.005,
    "flush_interval_seconds": 0.2,
    "shutdown_grace_seconds": 0,
}
"""Settings of every test server: cheap hashing, a fixed secret, quick demo replies."""


def make_settings(database_url: str, data_dir: Path, **overrides: object) -> Settings:
    """Settings for tests (`TEST_SETTINGS`) with the given database."""
    values = TEST_SETTINGS | {"database_url": database_url, "data_dir": data_dir} | overrides
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
async def app(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[FastAPI]:
    """The real application over the backend's database, migrated at start-up."""
    application = create_app(make_settings(database_url, tmp_path_factory.mktemp("data")))
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture(autouse=True)
async def _clean_tables(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    """Empty every table after each test that used the app."""
    yield
    if "app" not in request.fixturenames:
        return
    application: FastAPI = request.getfixturevalue("app")
    async with application.state.runtime.session_factory.begin() as db:
        for table in reversed(Base.metadata.sorted_tables):
            await db.execute(delete(table))


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[GraphQLClient]:
    """A GraphQL client speaking HTTP to the app in process."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        yield GraphQLClient(http)


@asynccontextmanager
async def serve(application: FastAPI) -> AsyncIterator[str]:
    """Serve an app with a real uvicorn server on a free loopback port; yields its WS URL."""
    config = uvicorn.Config(
        application,
        host="127.0.0.1",
        port=0,
        lifespan="off",
        log_config=None,
        ws_max_size=MAX_WS_FRAME_BYTES,
        ws_per_message_deflate=False,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    await wait_until(lambda: server.started)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"ws://127.0.0.1:{port}/graphql"
    finally:
        server.should_exit = True
        await task


@asynccontextmanager
async def running_app(settings: Settings) -> AsyncIterator[tuple[FastAPI, str, GraphQLClient]]:
    """An app of its own over these settings, started and served on loopback.

    Yields:
        The app, its WebSocket URL, and a GraphQL client speaking HTTP to it in process.
    """
    application = create_app(settings)
    transport = httpx.ASGITransport(app=application)
    async with (
        application.router.lifespan_context(application),
        serve(application) as url,
        httpx.AsyncClient(transport=transport, base_url="http://test") as http,
    ):
        yield application, url, GraphQLClient(http)


@pytest.fixture(scope="session")
async def server_url(app: FastAPI) -> AsyncIterator[str]:
    """The app served over real sockets (for WebSockets)."""
    async with serve(app) as url:
        yield url

"""Entry point: the FastAPI application, and `uv run main.py` (the command line of src/cli).

Routes:
- POST /graphql: GraphQL over HTTP; GET /graphql runs queries, or serves GraphiQL (when
  enabled) to browsers.
- GET /graphiql/<file>: GraphiQL's own assets (when enabled), no CDN.
- WS /graphql: subscriptions (graphql-transport-ws and the legacy graphql-ws).
- GET /healthz: the process is alive.
- GET /readyz: the database and the broker answer (503 with which one does not).
- GET /metrics: Prometheus metrics (see src/api/telemetry.py).
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from loguru import logger
from sqlalchemy import make_url, text

from src.api.graphiql import graphiql_assets
from src.api.observability import RequestLogMiddleware
from src.api.retention import guest_retention
from src.api.router import create_graphql_router
from src.api.runtime import Runtime
from src.api.schema import build_schema
from src.api.security_headers import SecurityHeadersMiddleware
from src.api.socket_shortcut import ShortcutApp
from src.api.telemetry import install_telemetry
from src.cli.serve import MAX_WS_FRAME_BYTES
from src.core.config import Settings, get_settings
from src.core.logger import setup_logging
from src.core.security import PasswordHasher
from src.lib.collector import server_collector
from src.lib.db.migrate import upgrade_to_head
from src.lib.db.reply_store import DatabaseReplyStore
from src.lib.db.session import SessionFactory, create_engine, create_session_factory
from src.lib.db.title_store import DatabaseTitleStore
from src.lib.llm.catalog import ModelCatalog
from src.lib.llm.tools import default_registry
from src.lib.ratelimit import create_rate_limiter
from src.lib.streaming.factory import create_broker
from src.lib.streaming.manager import GenerationManager
from src.lib.streaming.titles import TitleWriter
from src.lib.turns import Turns

__all__ = ["MAX_WS_FRAME_BYTES", "build_runtime", "create_app"]


def build_runtime(settings: Settings, session_factory: SessionFactory) -> Runtime:
    """The long-lived parts: hasher, models, tools, broker, generation manager, title writer."""
    broker = create_broker(
        settings.redis_url, settings.generation_lock_ttl_seconds, settings.stream_log_max_events
    )
    tools = default_registry()
    catalog = ModelCatalog.from_settings(settings)
    titles = TitleWriter(
        DatabaseTitleStore(session_factory),
        catalog,
        broker.user_events,
        settings.title_model or None,
    )
    generations = GenerationManager(
        broker,
        DatabaseReplyStore(session_factory),
        tools,
        max_steps=settings.max_agent_steps,
        tool_timeout=settings.tool_timeout_seconds,
        flush_interval=settings.flush_interval_seconds,
        save_deadline=settings.reply_save_deadline_seconds,
        approval_timeout=settings.tool_approval_timeout_seconds,
        titles=titles,
    )
    return Runtime(
        settings=settings,
        session_factory=session_factory,
        hasher=PasswordHasher(
            settings.argon2_time_cost, settings.argon2_memory_kib, settings.argon2_parallelism
        ),
        catalog=catalog,
        tools=tools,
        broker=broker,
        generations=generations,
        limiter=create_rate_limiter(settings.redis_url),
        reply_starts=Turns(settings.max_starting_replies),
    )


async def _database_answers(runtime: Runtime) -> bool:
    try:
        async with runtime.session_factory() as db:
            await db.execute(text("SELECT 1"))
    except Exception:  # any failure means not ready
        logger.exception("readiness check of the database failed")
        return False
    return True


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the application; everything long-lived starts in its lifespan."""
    settings = settings or get_settings()
    setup_logging(settings.log_level, settings.log_format)
    database_url = settings.resolved_database_url
    engine = create_engine(database_url, echo=settings.database_echo)
    runtime = build_runtime(settings, create_session_factory(engine))

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.migrate_on_start:
            await asyncio.to_thread(upgrade_to_head, database_url)
        logger.info(
            "database {} ({}), default model {}, broker {}",
            make_url(database_url).render_as_string(hide_password=True),
            "migrated" if settings.migrate_on_start else "not migrated",
            runtime.catalog.default_model,
            "redis" if settings.redis_url else "in-memory",
        )
        await runtime.generations.start()
        try:
            with server_collector():
                async with guest_retention(runtime):
                    yield
        finally:
            await runtime.generations.shutdown(settings.shutdown_grace_seconds)
            await runtime.broker.close()
            await runtime.limiter.close()
            await runtime.catalog.close()
            await engine.dispose()

    app = ShortcutApp(
        title="Chat API", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None
    )
    app.state.runtime = runtime
    install_telemetry(app, settings)
    schema = build_schema(introspection=settings.environment != "production")
    graphql = create_graphql_router(schema, runtime)
    app.include_router(graphql, prefix="/graphql")
    # Its WebSocket skips the middleware below: each layer would hold frames for the socket's
    # life and wrap the send of every token (src/api/socket_shortcut.py).
    app.socket_endpoint = graphql.socket_endpoint
    if settings.graphiql_enabled:
        app.include_router(graphiql_assets)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz() -> JSONResponse:
        checks = {
            "database": await _database_answers(runtime),
            "broker": await runtime.broker.ping(),
        }
        ready = all(checks.values())
        body = {"status": "ok" if ready else "unavailable"} | {
            name: "ok" if answers else "down" for name, answers in checks.items()
        }
        return JSONResponse(body, status_code=200 if ready else 503)

    app.add_middleware(RequestLogMiddleware, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(SecurityHeadersMiddleware)  # outermost: its headers reach every answer
    return app


if __name__ == "__main__":
    # Here, not above: each worker process imports this module, and needs no command line.
    from src.cli.app import run_cli

    run_cli()

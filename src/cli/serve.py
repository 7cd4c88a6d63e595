"""`serve`: run the server with the configured host and port, in `WORKERS` processes.

Offers:
- serve: start uvicorn on the application factory `main:create_app`.
- MAX_WS_FRAME_BYTES: the largest WebSocket frame the server accepts.
"""

import os
from typing import Any

import uvicorn
from loguru import logger

from src.core.config import Settings
from src.core.logger import setup_logging
from src.lib.db.migrate import upgrade_to_head

APP_FACTORY = "main:create_app"
MAX_WS_FRAME_BYTES = 256 * 1024
WORKER_HEALTHCHECK_SECONDS = 30


def serve(settings: Settings) -> None:
    """Run the server until it is stopped; the settings must be those `get_settings` gives.

    The application is built by `main:create_app` (which reads `get_settings`) in this process
    when `WORKERS` is 1, else in each worker process; with several workers the migrations run
    once here first, rather than racing in every worker.
    """
    setup_logging(settings.log_level, settings.log_format)
    ide = " (GraphiQL)" if settings.graphiql_enabled else ""
    logger.info(
        "listening on http://{}:{}/graphql{} with {} process(es)",
        settings.host,
        settings.port,
        ide,
        settings.workers,
    )
    options: dict[str, Any] = {
        "host": settings.host,
        "port": settings.port,
        "log_config": None,
        "ws_max_size": MAX_WS_FRAME_BYTES,
        "ws_ping_interval": 20,
        "ws_per_message_deflate": False,  # token frames are tiny: compression costs more
        # A worker imports the whole application before it answers the supervisor's pings: on
        # a busy machine that takes longer than uvicorn's 5 s, and the worker was killed.
        "timeout_worker_healthcheck": WORKER_HEALTHCHECK_SECONDS,
    }
    if settings.workers > 1:
        if settings.migrate_on_start:
            upgrade_to_head(settings.resolved_database_url)
        os.environ["MIGRATE_ON_START"] = "false"
        logger.debug("JWT key of {} characters shared by the workers", len(settings.jwt_key))
    uvicorn.run(APP_FACTORY, factory=True, workers=settings.workers, **options)

"""Logging through loguru, with the request id of the current request on every line.

Operations:
- setup_logging: one sink on stderr, as text or as one JSON object per line (for log
  shippers), and stdlib logging (uvicorn, strawberry) routed into loguru.
- request_id_var: the id of the request being served, set by the request-log middleware.

A logged database error is reduced to the names of its exception chain: the drivers' messages
repeat bound values (asyncpg's `DETAIL: Key (email)=(...)`, a bad argument's value), so no
email, password hash or message text reaches the log through an exception.
"""

import json
import logging
import sys
import traceback
from contextvars import ContextVar
from typing import TYPE_CHECKING, Literal

from loguru import logger

if TYPE_CHECKING:
    from loguru import Message

request_id_var: ContextVar[str] = ContextVar("request_id", default="-")

DATABASE_MODULES = ("sqlalchemy", "asyncpg", "aiosqlite", "sqlite3", "psycopg")

LOG_FORMAT = (
    "<green>{time:YYYY-MM-DD HH:mm:ss.SSS}</green> | <level>{level: <7}</level> | "
    "<cyan>{extra[request_id]}</cyan> | {message}"
)


class _InterceptHandler(logging.Handler):
    """Sends stdlib log records to loguru."""

    def emit(self, record: logging.LogRecord) -> None:
        level: str | int
        try:
            level = logger.level(record.levelname).name
        except ValueError:
            level = record.levelno
        logger.opt(depth=6, exception=record.exc_info).log(level, record.getMessage())


class RedactedDatabaseError(Exception):
    """Stands in the log for a database error, naming its exception chain and nothing else."""


def _chain(error: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    link: BaseException | None = error
    while link is not None and link not in chain:
        chain.append(link)
        link = link.__cause__ or link.__context__
    return chain


def redact_database_error(error: BaseException) -> BaseException:
    """The error itself, or a `RedactedDatabaseError` if a database error is in its chain."""
    chain = _chain(error)
    if not any(type(link).__module__.startswith(DATABASE_MODULES) for link in chain):
        return error
    names = " <- ".join(f"{type(link).__module__}.{type(link).__qualname__}" for link in chain)
    redacted = RedactedDatabaseError(f"{names} (details hidden: they may hold bound values)")
    return redacted.with_traceback(error.__traceback__)


def _patch(record: dict) -> None:  # type: ignore[type-arg]
    record["extra"].setdefault("request_id", request_id_var.get())
    exception = record["exception"]
    if exception is not None and exception.value is not None:
        value = redact_database_error(exception.value)
        if value is not exception.value:
            record["exception"] = exception._replace(type=type(value), value=value)


def _write_json(message: "Message") -> None:
    """Write a record to stderr as one JSON object.

    Its keys: time, level, request_id, message, logger, and exception (the traceback, without
    variable values as in text) when there is one.
    """
    record = message.record
    entry = {
        "time": record["time"].isoformat(),
        "level": record["level"].name,
        "request_id": record["extra"]["request_id"],
        "message": record["message"],
        "logger": record["name"],
    }
    if record["exception"] is not None:
        kind, value, trace = record["exception"]
        entry["exception"] = "".join(traceback.format_exception(kind, value, trace))
    sys.stderr.write(json.dumps(entry, default=str) + "\n")


def setup_logging(level: str, log_format: Literal["text", "json"] = "text") -> None:
    """Configure loguru and route the standard library's loggers into it."""
    logger.remove()
    logger.configure(patcher=_patch)  # type: ignore[arg-type]
    if log_format == "json":
        logger.add(_write_json, level=level.upper(), format="{message}")
    else:
        # diagnose=False: tracebacks never print variable values (tokens, passwords, text).
        logger.add(
            sys.stderr, level=level.upper(), format=LOG_FORMAT, backtrace=False, diagnose=False
        )
    logging.basicConfig(handlers=[_InterceptHandler()], level=logging.INFO, force=True)
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers = [_InterceptHandler()]
        logging.getLogger(name).propagate = False
    # Our own middleware logs each request; uvicorn's access log would repeat it.
    logging.getLogger("uvicorn.access").disabled = True

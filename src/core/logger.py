"""Logging through loguru, with the request id of the current request on every line.

Operations:
- setup_logging: one sink on stderr, as text or as one JSON object per line (for log
  shippers), and stdlib logging (uvicorn, strawberry) routed into loguru.
- request_id_var: the id of the request being served, set by the request-log middleware.
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


def _add_request_id(record: dict) -> None:  # type: ignore[type-arg]
    record["extra"].setdefault("request_id", request_id_var.get())


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
    logger.configure(patcher=_add_request_id)  # type: ignore[arg-type]
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

"""Redis not answering, as callers of the Redis brokers see it.

Offers `reachable()`: a context manager turning Redis's connection and timeout errors into
`BrokerUnavailableError` (code SERVICE_UNAVAILABLE), logged once per failed call.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from loguru import logger
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from src.lib.streaming.broker import BrokerUnavailableError


@contextmanager
def reachable() -> Iterator[None]:
    """Turn Redis not answering into `BrokerUnavailableError` (a stable error for callers)."""
    try:
        yield
    except (RedisConnectionError, RedisTimeoutError, OSError) as error:
        logger.warning("Redis does not answer: {}", error)
        raise BrokerUnavailableError() from error

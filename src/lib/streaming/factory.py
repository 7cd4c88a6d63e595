"""Choosing the broker from the settings.

Offers `create_broker(redis_url, lock_ttl, max_events)`: the Redis broker when a URL is set,
else the in-memory one.
"""

from src.lib.streaming.broker import Broker
from src.lib.streaming.memory import InMemoryBroker
from src.lib.streaming.redis_broker import RedisBroker


def create_broker(redis_url: str, lock_ttl: float, max_events: int = 10_000) -> Broker:
    """Create the broker for this process.

    Args:
        redis_url: The Redis URL (settings `redis_url`); empty for a single process.
        lock_ttl: Seconds a generation lock lives without a heartbeat
            (settings `generation_lock_ttl_seconds`).
        max_events: Events each chat's log keeps (settings `stream_log_max_events`); a
            subscriber further behind than that must resume with `chatEvents(afterSeq)`.

    Returns:
        A `RedisBroker` when `redis_url` is set, else an `InMemoryBroker`.
    """
    if redis_url:
        return RedisBroker(redis_url, lock_ttl, max_events=max_events)
    return InMemoryBroker(lock_ttl, max_events=max_events)

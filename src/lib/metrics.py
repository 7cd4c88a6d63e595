"""The server's Prometheus metrics, in the process's default registry, and how code records them.

Every metric is named here (the README lists them). Code elsewhere records with one line:
- GRAPHQL_OPERATIONS, WEBSOCKETS_OPEN, SUBSCRIPTIONS_OPEN: counted by the API layer.
- ReplyMeter: a reply's token count and first-token time, in plain attributes on the hot path;
  `finished` adds them to the histograms and counters once, when the reply ends.
- observe_generation: wraps a generation: the running gauge and the reply's span.
- observe_tool: wraps a tool call: its span and the count by tool and outcome.
- PROVIDER_ERRORS: provider failures that ended a reply, by error code.
- watched: keeps a subscriber's cursor in view while it is open, so that the events waiting
  for each subscriber are read at scrape time (a collector), never per event.
- REDIS_BATCH_ROUND_TRIPS, REDIS_READ_ROUND_TRIPS: round trips of the Redis broker.
- bounded_label: caps the distinct values a client-chosen label can take.

One registry per process: several apps in one process (as in the tests) add to the same series.
"""

import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from contextlib import AbstractAsyncContextManager
from typing import Protocol

from prometheus_client import REGISTRY, Counter, Gauge, Histogram
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from src.lib import tracing

MAX_LABEL_VALUES = 200
"""Distinct values kept for a label clients choose (operation names); the rest are `other`."""
MAX_LABEL_LENGTH = 64
"""Longer values of such a label are `other` too."""

LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300)

GRAPHQL_OPERATIONS = Counter(
    "chat_graphql_operations",
    "GraphQL operations by name, type and outcome (error: its answer carried errors).",
    ["operation", "type", "outcome"],
)
WEBSOCKETS_OPEN = Gauge("chat_websockets_open", "WebSocket connections open.")
SUBSCRIPTIONS_OPEN = Gauge(
    "chat_subscriptions_open", "Subscriptions running, by root field.", ["kind"]
)
GENERATIONS_RUNNING = Gauge("chat_generations_running", "Replies being generated here.")
REPLIES = Counter("chat_replies", "Replies ended, by final status.", ["status"])
TIME_TO_FIRST_TOKEN = Histogram(
    "chat_reply_time_to_first_token_seconds",
    "From the start of a reply to its first text.",
    buckets=LATENCY_BUCKETS,
)
REPLY_DURATION = Histogram(
    "chat_reply_duration_seconds",
    "From the start of a reply to its saved end, by final status.",
    ["status"],
    buckets=LATENCY_BUCKETS,
)
TOKENS_STREAMED = Counter("chat_tokens_streamed", "Text deltas streamed by the models.")
PROVIDER_ERRORS = Counter(
    "chat_provider_errors", "Provider failures that ended a reply, by code.", ["code"]
)
TOOL_CALLS = Counter("chat_tool_calls", "Tool calls by tool and outcome.", ["tool", "outcome"])
_REDIS_ROUND_TRIPS = Counter(
    "chat_redis_round_trips", "Round trips to Redis by the broker, by part.", ["part"]
)
REDIS_BATCH_ROUND_TRIPS = _REDIS_ROUND_TRIPS.labels("batcher")
REDIS_READ_ROUND_TRIPS = _REDIS_ROUND_TRIPS.labels("reader")


class ReplyMeter:
    """What one reply measures while it streams: plain attributes, no locks.

    Attributes:
        started: `time.perf_counter()` when the reply started.
        first_text_at: When its first text arrived (0 before).
        tokens: How many text deltas it streamed.
    """

    __slots__ = ("first_text_at", "started", "tokens")

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.first_text_at = 0.0
        self.tokens = 0

    def text(self) -> None:
        """Count one text delta (the hot path: an increment, and a clock read the first time)."""
        if not self.tokens:
            self.first_text_at = time.perf_counter()
        self.tokens += 1

    def finished(self, status: str) -> None:
        """Record the ended reply (with its final status) in the metrics, once."""
        REPLIES.labels(status).inc()
        REPLY_DURATION.labels(status).observe(time.perf_counter() - self.started)
        if self.tokens:
            TIME_TO_FIRST_TOKEN.observe(self.first_text_at - self.started)
            TOKENS_STREAMED.inc(self.tokens)


async def observe_generation(
    run: Callable[[], Awaitable[None]], message_id: str, model: str
) -> None:
    """Run a generation, counted as running, in a span of its own (`chat.reply`).

    `run` starts it (called here, so a task cancelled before it starts leaves no coroutine).
    """
    with (
        GENERATIONS_RUNNING.track_inprogress(),
        tracing.span("chat.reply", {"chat.message_id": message_id, "chat.model": model}),
    ):
        await run()


class _ToolResult(Protocol):
    @property
    def is_error(self) -> bool: ...


async def observe_tool[R: _ToolResult](
    name: str, offered: Iterable[str], run: Callable[[], Awaitable[R]]
) -> R:
    """Run a tool call (started by `run`) in a span (`chat.tool_call`); count it by outcome.

    A tool the model named but was not offered is counted as `unknown` (names are the model's).
    """
    tool = name if name in offered else "unknown"
    with tracing.span("chat.tool_call", {"chat.tool": tool}):
        result = await run()
    TOOL_CALLS.labels(tool, "error" if result.is_error else "ok").inc()
    return result


class _Waiting(Protocol):
    def waiting(self) -> int: ...


_cursors: set[_Waiting] = set()


class _Watch:
    """Keeps a cursor in `_cursors` while its `async with` block runs (see `watched`)."""

    __slots__ = ("_cursor",)

    def __init__(self, cursor: _Waiting) -> None:
        self._cursor = cursor

    async def __aenter__(self) -> None:
        _cursors.add(self._cursor)

    async def __aexit__(self, *_: object) -> None:
        _cursors.discard(self._cursor)


def watched(cursor: _Waiting) -> AbstractAsyncContextManager[None]:
    """Keep a subscriber's cursor in the broker-lag metrics while the block runs.

    A plain object rather than a generator: the block lasts as long as the subscriber, and a
    suspended generator would cost it a frame for all that time.
    """
    return _Watch(cursor)


class _BrokerLag(Collector):
    """Reads the open cursors when scraped: subscribers, events waiting, the largest lag."""

    def collect(self) -> Iterator[Metric]:
        lags = [cursor.waiting() for cursor in _cursors]
        yield GaugeMetricFamily(
            "chat_broker_subscribers", "Subscribers reading the broker.", value=len(lags)
        )
        yield GaugeMetricFamily(
            "chat_broker_events_waiting",
            "Events published but not yet read, summed over the subscribers.",
            value=sum(lags),
        )
        yield GaugeMetricFamily(
            "chat_broker_subscriber_lag_max_events",
            "Events waiting for the subscriber furthest behind.",
            value=max(lags, default=0),
        )


REGISTRY.register(_BrokerLag())


def bounded_label(value: str, seen: set[str]) -> str:
    """The value, or `other` when too long or once `seen` holds MAX_LABEL_VALUES others.

    A value returned as itself is added to `seen`.
    """
    if value in seen:
        return value
    if len(value) > MAX_LABEL_LENGTH or len(seen) >= MAX_LABEL_VALUES:
        return "other"
    seen.add(value)
    return value

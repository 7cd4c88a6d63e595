"""The process's feed of a chat stream, without Redis: what it holds, and what cursors read."""

from uuid import uuid4

import pytest

from src.lib.streaming.broker import SubscriberLaggedError
from src.lib.streaming.events import StreamEvent, decode_event
from src.lib.streaming.redis_reader import Feed, FeedCursor, StreamEntry, StreamId
from tests.lib.streaming.helpers import Generation

TAIL = ((100, 0), 11)
"""The stream's last entry is 100-0, the tenth of the log."""


def entries(first_n: int, count: int) -> list[StreamEntry[StreamEvent]]:
    """Consecutive entries numbered from `first_n`, with ids after the tail."""
    generation = Generation(uuid4())
    return [
        StreamEntry((100 + n - 10, 0), n, generation.tool_call())
        for n in range(first_n, first_n + count)
    ]


def cursor(
    feed: Feed[StreamEvent], fetched: list[StreamEntry[StreamEvent]] | None = None
) -> FeedCursor[StreamEvent]:
    """A cursor at the tail whose reads from Redis return `fetched`."""

    async def fetch(
        fed: Feed[StreamEvent], after: StreamId, count: int
    ) -> list[StreamEntry[StreamEvent]]:
        assert fed is feed
        return [entry for entry in fetched or [] if entry.id > after][:count]

    reader = FeedCursor(feed, TAIL, 500, fetch)
    feed.cursors.add(reader)
    return reader


async def test_a_local_entry_is_taken_only_when_it_follows_the_last_one() -> None:
    feed = Feed("events", TAIL, capacity=10, decode=decode_event)
    waiting = cursor(feed)
    eleventh, twelfth = entries(11, 2)

    feed.follow(twelfth)  # the reader has not brought the 11th yet
    assert feed.after(waiting.position, 10) == []
    feed.follow(eleventh)
    feed.follow(twelfth)
    assert await waiting.read() == [eleventh.event, twelfth.event]


async def test_cursors_read_the_feed_and_what_all_have_read_is_dropped() -> None:
    feed = Feed("events", TAIL, capacity=10, decode=decode_event)
    first, second = cursor(feed), cursor(feed)
    run = entries(11, 4)

    feed.extend(run[:2])
    assert await first.read() == [e.event for e in run[:2]]
    assert await second.read() == [e.event for e in run[:2]]
    feed.extend(run[2:])
    assert feed.start == run[1].id
    assert await first.read() == [e.event for e in run[2:]]


async def test_a_cursor_behind_the_feed_reads_redis_and_reports_trimmed_entries() -> None:
    feed = Feed("events", TAIL, capacity=2, decode=decode_event)
    run = entries(11, 6)
    kept_by_redis = run[3:]
    slow = cursor(feed, fetched=kept_by_redis)

    feed.extend(run)  # the feed keeps the last 2; Redis trimmed the first 3
    assert feed.after(slow.position, 10) is None
    with pytest.raises(SubscriberLaggedError):
        await slow.read()


async def test_a_cursor_behind_the_feed_catches_up_from_redis_then_reads_the_feed() -> None:
    feed = Feed("events", TAIL, capacity=2, decode=decode_event)
    run = entries(11, 6)
    slow = cursor(feed, fetched=run)

    feed.extend(run)
    assert await slow.read() == [e.event for e in run]
    feed.extend(more := entries(17, 1))
    assert await slow.read() == [more[0].event]

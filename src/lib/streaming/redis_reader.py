"""Reading the Redis streams of chats and users for this process's subscribers, on one connection.

Offers:
- `StreamReader`: keeps a `Feed` for each stream that has subscribers in this process (a chat's
  events, or a user's events: each feed decodes its entries with its own `decode`) and
  one task that reads all those streams with a single blocking XREAD at a time, on a dedicated
  connection, and appends what it reads to the feeds. Operations: `open_cursor` (a subscriber's
  cursor, for as long as the subscription lasts), `follow` (an entry this process just
  published), `close`.
- `Feed`: the recent entries of one stream, in memory, shared by its local subscribers.
- `FeedCursor`: a subscriber's position. It reads from its feed, or, while it is behind what
  the feed holds (replaying, or slow), from Redis with a short non-blocking XREAD.
- `StreamEntry`, `StreamId`, `Position`, `parse_id`, `format_id`: entries and positions.

Entries are decoded once per process, not once per subscriber. Each carries its absolute number
`n` in the chat's log: a jump in `n` between a cursor and the next entry means entries were
trimmed before the cursor read them (`SubscriberLaggedError`). A feed holds at most `capacity`
entries, and drops those every cursor has read; a cursor further behind reads from Redis, so
memory does not grow with slow subscribers and lag is reported as it would be without a feed.

Local first: an entry this process published goes into the feed as soon as Redis has it, when
its number directly follows the feed's last one (nothing else can be between them); otherwise
the reader brings it in its order. What the reader reads that a feed already has is skipped.

Waking the reader: a stream that gains its first local subscriber while the XREAD in flight does
not include it rings the reader's doorbell, a stream of its own (`doorbell`) that is part of
every XREAD: one XADD, sent with the batched writes. Unlike CLIENT UNBLOCK it cannot race with
the XREAD on its way to Redis (an entry added before the XREAD arrives is returned at once), it
needs no client id to follow across reconnects and no @admin ACL; unlike a short BLOCK it costs
nothing while the streams read do not change. A stream that loses its last local subscriber is
dropped from the next XREAD. The doorbell key expires by itself after the process is gone.
"""

import asyncio
from bisect import bisect_right
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from loguru import logger
from redis.asyncio import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.typing import KeyT, StreamIdT

from src.lib import metrics
from src.lib.streaming.broker import SubscriberLaggedError
from src.lib.streaming.redis_batch import CommandBatcher

type StreamId = tuple[int, int]
"""A stream entry id (`milliseconds-sequence`), comparable."""

type Position = tuple[StreamId, int]
"""A place in a stream's log: the last entry id read and the next expected entry number."""

DOORBELL_TTL_MILLISECONDS = 60_000
"""How long an unrung doorbell outlives its last ring."""


def parse_id(text: str) -> StreamId:
    """The comparable form of a stream entry id such as `1700000000000-3`."""
    milliseconds, _, sequence = text.partition("-")
    return int(milliseconds), int(sequence or 0)


def format_id(entry_id: StreamId) -> str:
    """The Redis form of a stream entry id."""
    return f"{entry_id[0]}-{entry_id[1]}"


type Decode[E] = Callable[[str], E]
"""Turns an entry's encoded event (its field `e`) into the event."""


@dataclass(frozen=True, slots=True)
class StreamEntry[E]:
    """One entry of a stream, decoded.

    Attributes:
        id: Its stream id.
        n: Its absolute number in the stream's log.
        event: The event it holds.
    """

    id: StreamId
    n: int
    event: E


def _entry_id(entry: StreamEntry[object]) -> StreamId:
    return entry.id


def _decode[E](
    entries: list[tuple[str, dict[str, str]]], decode: Decode[E], after: StreamId = (0, 0)
) -> list[StreamEntry[E]]:
    """The entries of an XREAD reply with an id greater than `after`, decoded."""
    decoded = []
    for text, fields in entries:
        entry_id = parse_id(text)
        if entry_id > after:
            decoded.append(StreamEntry(entry_id, int(fields["n"]), decode(fields["e"])))
    return decoded


class Feed[E]:
    """The entries of one stream after `start` up to `last`, for this process's subscribers.

    Attributes:
        key: The stream.
        decode: How its entries' events are decoded.
        start: Every entry after it, up to `last`, is held.
        last: The newest entry known here (read by the reader, or published by this process).
        cursors: The cursors reading it; what all of them have read is dropped.
    """

    def __init__(self, key: str, tail: Position, capacity: int, decode: Decode[E]) -> None:
        self.key = key
        self.decode = decode
        self.start = self.last = tail[0]
        self.cursors: set[FeedCursor[E]] = set()
        self._last_n = tail[1] - 1
        self._capacity = capacity
        self._entries: list[StreamEntry[E]] = []
        self._error: Exception | None = None
        self._wakeup: asyncio.Event | None = None

    @property
    def end(self) -> int:
        """The number the entry after `last` will have."""
        return self._last_n + 1

    def after(self, position: StreamId, limit: int) -> list[StreamEntry[E]] | None:
        """The held entries after a position, oldest first.

        Args:
            position: A cursor's last entry id.
            limit: The most entries to return.

        Returns:
            Up to `limit` entries (none when the position is at or past `last`), or None when
            entries after the position are no longer held.
        """
        if position < self.start:
            return None
        first = bisect_right(self._entries, position, key=_entry_id)
        return self._entries[first : first + limit]

    def oldest(self, limit: int) -> list[StreamEntry[E]]:
        """The oldest held entries, at most `limit` of them."""
        return self._entries[:limit]

    def extend(self, entries: list[StreamEntry[E]]) -> None:
        """Take what the reader read after `last` (a run of the stream, oldest first)."""
        self._append(entries)

    def follow(self, entry: StreamEntry[E]) -> None:
        """Take an entry published by this process if it directly follows `last`."""
        if entry.n == self._last_n + 1 and entry.id > self.last:
            self._append([entry])

    def fail(self, error: Exception) -> None:
        """End the feed: its cursors raise once they have read what is held (see `wait`)."""
        self._error = error
        self._wake()

    async def wait(self) -> None:
        """Wait until entries are added.

        Raises:
            redis.exceptions.ConnectionError: The feed failed (caused by its error).
        """
        if self._error is not None:
            raise RedisConnectionError(f"reading the event streams failed: {self._error}") from (
                self._error
            )
        if self._wakeup is None:
            self._wakeup = asyncio.Event()
        await self._wakeup.wait()

    def _append(self, entries: list[StreamEntry[E]]) -> None:
        if not entries:
            return
        self._entries += entries
        self.last, self._last_n = entries[-1].id, entries[-1].n
        read_by_all = min((cursor.position for cursor in self.cursors), default=self.last)
        drop = max(
            bisect_right(self._entries, read_by_all, key=_entry_id),
            len(self._entries) - self._capacity,
        )
        if drop > 0:
            self.start = self._entries[drop - 1].id
            del self._entries[:drop]
        self._wake()

    def _wake(self) -> None:
        if self._wakeup is not None:
            self._wakeup.set()
            self._wakeup = None


type Fetch[E] = Callable[[Feed[E], StreamId, int], Awaitable[list[StreamEntry[E]]]]
"""Reads up to a number of entries of a feed's stream after an id from Redis, without blocking."""


class FeedCursor[E]:
    """A subscriber's position in a stream, read through the process's feed of the stream.

    Attributes:
        position: The id of the last entry read.
    """

    def __init__(self, feed: Feed[E], start: Position, batch_size: int, fetch: Fetch[E]) -> None:
        self.position, self._next_n = start
        self._feed = feed
        self._batch_size = batch_size
        self._fetch = fetch

    async def read(self) -> list[E]:
        """Wait until the stream holds entries past the cursor, then take up to a batch of them.

        Returns:
            At least one event, in publish order; the cursor moves past them.

        Raises:
            SubscriberLaggedError: If entries past the cursor were trimmed from the stream.
            redis.exceptions.ConnectionError: The process's reads failed.
        """
        while True:
            entries = self._feed.after(self.position, self._batch_size)
            if entries is None:
                # Behind what the feed holds. Redis has nothing after the position only when
                # the stream expired meanwhile: then the feed's entries are what is left.
                entries = await self._fetch(
                    self._feed, self.position, self._batch_size
                ) or self._feed.oldest(self._batch_size)
            if entries:
                return self._take(entries)
            await self._feed.wait()

    def waiting(self) -> int:
        """See `EventCursor.waiting`: the entries up to the newest this process knows of."""
        return self._feed.end - self._next_n

    def _take(self, entries: list[StreamEntry[E]]) -> list[E]:
        for entry in entries:
            # A smaller number means the log expired and restarted: nothing of ours was trimmed.
            if entry.n > self._next_n:
                raise SubscriberLaggedError(
                    f"subscriber fell behind: {entry.n - self._next_n} events were trimmed unread"
                )
            self._next_n = entry.n + 1
        self.position = entries[-1].id
        return [entry.event for entry in entries]


class StreamReader:
    """The process's one reader of the streams its subscribers follow (see the module)."""

    def __init__(
        self,
        commands: Redis,
        waits: Redis,
        writer: CommandBatcher,
        *,
        doorbell: str,
        capacity: int,
        batch_size: int,
        block_milliseconds: int,
    ) -> None:
        """Prepare the reader; its task starts with the first subscriber.

        Args:
            commands: The client for short commands (catching up, ringing).
            waits: The client for the blocking XREAD; its socket timeout must exceed the BLOCK.
            writer: The batched writer (the doorbell is rung through it).
            doorbell: The key of this reader's doorbell stream.
            capacity: The most entries a feed holds.
            batch_size: The most entries read from a stream at once.
            block_milliseconds: How long one XREAD waits before it is issued again.
        """
        self._commands = commands
        self._waits = waits
        self._writer = writer
        self._doorbell = doorbell
        self._capacity = capacity
        self._batch_size = batch_size
        self._block_milliseconds = block_milliseconds
        self._feeds: dict[str, Feed[Any]] = {}
        self._task: asyncio.Task[None] | None = None
        self._reading: dict[str, Feed[Any]] | None = None
        self._rung = False
        self._rang_at = "0-0"

    @property
    def streams(self) -> int:
        """How many streams the reader follows (for metrics and tests)."""
        return len(self._feeds)

    @asynccontextmanager
    async def open_cursor[E](
        self, key: str, tail: Position, start: Position, decode: Decode[E]
    ) -> AsyncIterator[FeedCursor[E]]:
        """A subscriber's cursor in a stream, read by the reader while the block lasts.

        Args:
            key: The stream.
            tail: The position after the stream's last entry, seen when the subscription began
                (where a new feed starts).
            start: Where the subscriber starts reading.
            decode: How the stream's events are decoded (the same for every cursor of a key).

        Yields:
            The cursor.
        """
        feed: Feed[E] | None = self._feeds.get(key)
        if feed is None:
            feed = self._feeds[key] = Feed(key, tail, self._capacity, decode)
        cursor = FeedCursor(feed, start, self._batch_size, self._fetch)
        feed.cursors.add(cursor)
        try:
            await self._include(feed)
            yield cursor
        finally:
            feed.cursors.discard(cursor)
            if not feed.cursors and self._feeds.get(key) is feed:
                del self._feeds[key]

    def follow(self, key: str, entry: StreamEntry[Any]) -> None:
        """Hand an entry this process has just published to the stream's feed, if any."""
        feed = self._feeds.get(key)
        if feed is not None:
            feed.follow(entry)

    async def close(self) -> None:
        """Stop reading; the cursors still open raise when they wait (see `Feed.wait`)."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.wait([self._task])
        self._fail_all(RedisConnectionError("the broker is closed"))

    async def _include(self, feed: Feed[Any]) -> None:
        """Make sure the reader reads the feed's stream soon: start it, or ring its doorbell."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._read(), name="redis-stream-reader")
        elif self._reading is not None and self._reading.get(feed.key) is not feed:
            if self._rung:  # the reader will issue a new XREAD, with this stream in it
                return
            self._rung = True
            try:
                await asyncio.gather(
                    self._writer.call("XADD", self._doorbell, "MAXLEN", 1, "*", "ring", 1),
                    self._writer.call("PEXPIRE", self._doorbell, DOORBELL_TTL_MILLISECONDS),
                )
            except BaseException:
                self._rung = False
                raise

    async def _read(self) -> None:
        try:
            while self._feeds:
                reading = dict(self._feeds)
                streams: dict[KeyT, StreamIdT] = {
                    key: format_id(feed.last) for key, feed in reading.items()
                }
                streams[self._doorbell] = self._rang_at
                self._reading, self._rung = reading, False
                try:
                    metrics.REDIS_READ_ROUND_TRIPS.inc()
                    reply = await self._waits.xread(
                        streams, count=self._batch_size, block=self._block_milliseconds
                    )
                finally:
                    self._reading = None
                self._deliver(reading, reply)
        except Exception as error:  # ends the current subscriptions, not the process
            logger.warning("reading the event streams failed: {}", error)
            self._fail_all(error)

    def _deliver(self, reading: dict[str, Feed[Any]], reply: Any) -> None:
        for key, entries in reply or ():
            if key == self._doorbell:
                self._rang_at = entries[-1][0]
            elif self._feeds.get(key) is (feed := reading[key]):
                # What this process published may be there already: decode only the rest.
                feed.extend(_decode(entries, feed.decode, after=feed.last))

    def _fail_all(self, error: Exception) -> None:
        feeds, self._feeds = self._feeds, {}
        for feed in feeds.values():
            feed.fail(error)

    async def _fetch[E](self, feed: Feed[E], after: StreamId, count: int) -> list[StreamEntry[E]]:
        streams: dict[KeyT, StreamIdT] = {feed.key: format_id(after)}
        metrics.REDIS_READ_ROUND_TRIPS.inc()
        reply: Any = await self._commands.xread(streams, count=count)
        return _decode(reply[0][1], feed.decode) if reply else []

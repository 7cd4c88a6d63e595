"""User events through Redis: each user's events reach the subscriptions of every process.

Offers `RedisUserEvents` (a `RedisBroker`'s `user_events`). Keys per user, under the broker's
prefix, with the user's id as hash tag (one Redis Cluster slot):

- `user:{id}:events`: a Redis Stream of the user's events, each entry the encoded event (`e`)
  and its number (`n`); trimmed to about `max_events` entries.
- `user:{id}:n`: the entry counter.

Both expire `retention_ms` after the last event: there is no replay, the stream only carries
events to the subscriptions that follow it.

Why a stream rather than pub/sub: it is read by the process's one `StreamReader`, whose single
blocking XREAD already follows the chats' streams, so user events cost no connection of their
own however many devices subscribe; a subscription starts at the stream's tail, read in the
same snapshot, so nothing published after it began is missed while the reader takes the new
key into its next XREAD (pub/sub would drop what is published before SUBSCRIBE is confirmed,
and on every reconnect); a subscriber that falls behind learns it (`SubscriberLaggedError`)
instead of being cut off by Redis's output buffer limit; events published in this process reach
its own subscribers from memory as soon as Redis has them.
"""

from collections.abc import AsyncGenerator
from uuid import UUID

from redis.asyncio import Redis

from src.lib.streaming.redis_batch import CommandBatcher
from src.lib.streaming.redis_errors import reachable
from src.lib.streaming.redis_reader import Position, StreamEntry, StreamReader, parse_id
from src.lib.streaming.user_events import (
    UserEvent,
    UserEventBroker,
    decode_user_event,
    encode_user_event,
)

# KEYS: events, counter. ARGV: max events, encoded event, retention ms. Returns the id and n.
_PUBLISH = """
local n = redis.call('INCR', KEYS[2])
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'n', n, 'e', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return {id, n}
"""


class RedisUserEvents(UserEventBroker):
    """User events in Redis streams, read by the broker's reader (see the module docstring)."""

    def __init__(
        self,
        redis: Redis,
        writer: CommandBatcher,
        reader: StreamReader,
        *,
        prefix: str,
        retention_ms: int,
        max_events: int = 1_000,
    ) -> None:
        """Share the broker's connections.

        Args:
            redis: The broker's client for short commands.
            writer: The broker's batched writer.
            reader: The broker's stream reader.
            prefix: The prefix of every key.
            retention_ms: How long a user's keys outlive the last event.
            max_events: See `UserEventBroker`.
        """
        super().__init__(max_events)
        self._redis = redis
        self._writer = writer
        self._reader = reader
        self._prefix = prefix
        self._retention_ms = retention_ms
        self._publish = redis.register_script(_PUBLISH)
        self._subscribers: dict[UUID, int] = {}

    async def publish(self, user_id: UUID, event: UserEvent) -> None:
        """See `UserEventBroker.publish`: one script call, batched with the tick's writes."""
        events, counter = self._keys(user_id)
        with reachable():
            entry_id, n = await self._writer.call_script(
                self._publish,
                [events, counter],
                [self.max_events, encode_user_event(event), self._retention_ms],
            )
        self._reader.follow(events, StreamEntry(parse_id(entry_id), n, event))

    async def subscribe(self, user_id: UUID) -> AsyncGenerator[UserEvent, None]:
        """See `UserEventBroker.subscribe`."""
        events, counter = self._keys(user_id)
        tail = await self._tail(events, counter)  # what is published from now on is read
        self._subscribers[user_id] = self._subscribers.get(user_id, 0) + 1
        try:
            async with self._reader.open_cursor(events, tail, tail, decode_user_event) as cursor:
                while True:
                    with reachable():
                        batch = await cursor.read()
                    for event in batch:
                        yield event
        finally:
            self._subscribers[user_id] -= 1
            if not self._subscribers[user_id]:
                del self._subscribers[user_id]

    def subscriber_count(self, user_id: UUID) -> int:
        """See `UserEventBroker.subscriber_count`."""
        return self._subscribers.get(user_id, 0)

    async def _tail(self, events: str, counter: str) -> Position:
        """The position after the stream's last entry, read in one transaction."""
        with reachable():
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.xrevrange(events, count=1)
                pipe.get(counter)
                last, n = await pipe.execute()
        return parse_id(last[0][0] if last else "0-0"), int(n or 0) + 1

    def _keys(self, user_id: UUID) -> tuple[str, str]:
        base = f"{self._prefix}user:{{{user_id}}}:"  # a hash tag: one cluster slot per user
        return base + "events", base + "n"

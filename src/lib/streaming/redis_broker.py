"""The Redis broker, for several server processes sharing one Redis.

Offers `RedisBroker`. Keys per chat, under a prefix (default `chatapi:`), each with the chat's
id as its hash tag (`chat:{<id>}:...`), so that a Redis Cluster keeps a chat's keys in one slot
and its scripts and transactions stay valid there:

- `chat:{id}:gen`: the generation lock, JSON of the generation (`SET NX PX`; only the owner
  extends or deletes it, checked in Lua). A lock whose owner died expires by its TTL.
- `chat:{id}:events`: a Redis Stream, the chat's event log. Each entry holds the encoded event
  (`e`) and its absolute number in the log (`n`); trimmed to about `max_events` entries.
- `chat:{id}:log`: a hash with the entry counter `n` and where the current generation's replay
  starts (`start`, `start_n`, `gen`), written when the lock is taken.
- `chat:{id}:stop` (pub/sub channel) and `chat:{id}:stop-requested` (key): stop requests. The
  channel also carries the chat's access changes, as `access:<chat id>`.
- `chat:{id}:decision` (pub/sub channel): decisions on tool calls waiting for approval. A
  process watches all stop and decision channels over one pattern subscription
  (`redis_signals.SignalWatch`).
- `reader:{uuid}`: each process's doorbell stream (see `redis_reader`).
- `user:{id}:events` and `user:{id}:n`: a user's events (see `redis_user_events`), read by
  the same reader as the chats' streams.

The log keys expire `retention_seconds` after the last publish, heartbeat or finish. When Redis
does not answer, every operation raises `BrokerUnavailableError` (code SERVICE_UNAVAILABLE)
instead of Redis's own errors; `ping` tells readiness checks.

Connections do not grow with subscribers or chats: each process has a bounded pool for short
commands (callers wait for a free connection rather than fail), one connection for its one
blocking XREAD, and one for its stop/decision subscription. Publishing is one script call
(counter, XADD, expiry), sent through `redis_batch.CommandBatcher`: the publishes of one tick
share a round trip, and `publish` returns once its event is in Redis. A subscriber reads one
atomic snapshot (lock, replay start, tail), then reads from there through the process's
`redis_reader.StreamReader`: from Redis with short reads while it replays or lags, then from the
feed that the process's one XREAD fills. Events published in this process reach its own
subscribers from memory. Replay and live delivery are one log, so nothing is missed or
repeated; a jump in `n` means entries were trimmed before being read: `SubscriberLaggedError`.

Timeouts: short commands have `socket_timeout`; the blocking XREAD's connection has
`socket_timeout` more than its BLOCK, so a quiet chat is never a timeout. Every connection uses
TCP keepalive (redis-py's default), and a pooled connection idle for `HEALTH_CHECK_SECONDS` is
checked with a PING before it is used again.
"""

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from redis.asyncio import BlockingConnectionPool, ConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from src.lib.llm.approval import ToolDecision
from src.lib.streaming.broker import (
    Broker,
    BrokerUnavailableError,
    EventCursor,
    GenerationInfo,
    LogSnapshot,
    last_seq_of,
)
from src.lib.streaming.events import StreamEvent, decode_event, encode_event
from src.lib.streaming.redis_batch import CommandBatcher
from src.lib.streaming.redis_errors import reachable
from src.lib.streaming.redis_reader import (
    FeedCursor,
    Position,
    StreamEntry,
    StreamReader,
    parse_id,
)
from src.lib.streaming.redis_signals import SignalWatch, signal_data
from src.lib.streaming.redis_user_events import RedisUserEvents

BLOCK_MILLISECONDS = 10_000
"""How long the blocking XREAD waits before it is simply issued again."""

HEALTH_CHECK_SECONDS = 30
"""A pooled connection idle for longer is checked with a PING before it is used."""

POOL_WAIT_SECONDS = 30.0
"""How long a command may wait for a free pooled connection (a busy process waits, not fails)."""

DEFAULT_MAX_CONNECTIONS = 6
"""Pooled connections for short commands: publishes are batched, so a few carry thousands of
streams, and two processes stay within 20 connections with their waits and rate limits."""

WAIT_RETRIES = 3
"""How often the blocking XREAD and the signal subscription reconnect before giving up."""


class _ReachableCursor(EventCursor):
    """A cursor whose reads raise `BrokerUnavailableError` when Redis does not answer."""

    def __init__(self, cursor: FeedCursor[StreamEvent], replay_generation: UUID | None) -> None:
        super().__init__(replay_generation)
        self._cursor = cursor

    async def read(self) -> list[StreamEvent]:
        with reachable():
            return await self._cursor.read()

    def waiting(self) -> int:
        """See `EventCursor.waiting`."""
        return self._cursor.waiting()


_OWNER = """
local lock = redis.call('GET', KEYS[1])
local owned = lock and cjson.decode(lock)['message_id'] == ARGV[1]
"""

# KEYS: lock, events, log. ARGV: lock value, lock ttl ms, message id, retention ms.
_START = """
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 0 end
local last = redis.call('XREVRANGE', KEYS[2], '+', '-', 'COUNT', 1)[1]
local n = redis.call('HGET', KEYS[3], 'n') or '0'
redis.call('HSET', KEYS[3], 'n', n, 'start', last and last[1] or '0-0', 'start_n', n,
           'gen', ARGV[3])
redis.call('PEXPIRE', KEYS[3], ARGV[4])
return 1
"""

# KEYS: lock, events, log. ARGV: message id, lock ttl ms, retention ms.
_HEARTBEAT = (
    _OWNER
    + """
if not owned then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
redis.call('PEXPIRE', KEYS[3], ARGV[3])
return 1
"""
)

# KEYS: lock, events, log, stop flag. ARGV: message id, retention ms.
_FINISH = (
    _OWNER
    + """
if not owned then return 0 end
redis.call('DEL', KEYS[1], KEYS[4])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
redis.call('PEXPIRE', KEYS[3], ARGV[2])
return 1
"""
)

# KEYS: events, log. ARGV: max events, encoded event, retention ms. Returns the entry id and n.
_PUBLISH = """
local n = redis.call('HINCRBY', KEYS[2], 'n', 1)
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', 'n', n, 'e', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return {id, n}
"""

# KEYS: lock, stop flag. ARGV: stop channel, lock ttl ms.
_REQUEST_STOP = """
local lock = redis.call('GET', KEYS[1])
if not lock then return 0 end
local message_id = cjson.decode(lock)['message_id']
redis.call('SET', KEYS[2], message_id, 'PX', ARGV[2])
redis.call('PUBLISH', ARGV[1], message_id)
return 1
"""


class _ChatKeys:
    """The Redis names of one chat."""

    __slots__ = ("decision_channel", "events", "lock", "log", "stop_channel", "stop_flag")

    def __init__(self, prefix: str, chat_id: UUID) -> None:
        base = f"{prefix}chat:{{{chat_id}}}:"  # a hash tag: a cluster keeps a chat in one slot
        self.lock = base + "gen"
        self.events = base + "events"
        self.log = base + "log"
        self.stop_channel = base + "stop"
        self.stop_flag = base + "stop-requested"
        self.decision_channel = base + "decision"


class RedisBroker(Broker):
    """A broker whose state lives in Redis, shared by every process (see the module docstring).

    It speaks RESP2. Its connections are named `{prefix}broker` (see `CLIENT LIST`): at most
    `max_connections` for short commands, one for the blocking XREAD and one for the signals'
    pattern subscription (stop requests and decisions).
    """

    def __init__(
        self,
        redis_url: str,
        lock_ttl: float,
        *,
        prefix: str = "chatapi:",
        max_events: int = 10_000,
        retention_seconds: float = 600.0,
        batch_size: int = 500,
        socket_timeout: float = 5.0,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
    ) -> None:
        """Prepare the broker; connections open when first needed.

        Args:
            redis_url: The Redis URL (its query options, such as `socket_timeout`, win).
            lock_ttl: See `Broker`.
            prefix: The prefix of every key.
            max_events: See `Broker`.
            retention_seconds: See `Broker`.
            batch_size: See `Broker`.
            socket_timeout: Seconds a short command may take; the blocking XREAD's connection
                gets this much more than its BLOCK. A wait for a free pooled connection may
                take up to POOL_WAIT_SECONDS.
            max_connections: The most connections for short commands.
        """
        super().__init__(
            lock_ttl,
            max_events=max_events,
            retention_seconds=retention_seconds,
            batch_size=batch_size,
        )
        self._prefix = prefix
        commands = BlockingConnectionPool.from_url(
            redis_url,
            max_connections=max_connections,
            timeout=POOL_WAIT_SECONDS,
            decode_responses=True,
            protocol=2,
            socket_timeout=socket_timeout,
            socket_connect_timeout=socket_timeout,
            health_check_interval=HEALTH_CHECK_SECONDS,
            client_name=f"{prefix}broker",
        )
        self._redis = Redis.from_pool(commands)
        self._waits = Redis.from_pool(_waits_pool(commands))
        self._lock_ttl_ms = max(1, round(lock_ttl * 1000))
        self._retention_ms = max(1, round(retention_seconds * 1000))
        self._start = self._redis.register_script(_START)
        self._heartbeat = self._redis.register_script(_HEARTBEAT)
        self._finish = self._redis.register_script(_FINISH)
        self._publish = self._redis.register_script(_PUBLISH)
        self._request_stop = self._redis.register_script(_REQUEST_STOP)
        self._writer = CommandBatcher(self._redis)
        self._reader = StreamReader(
            self._redis,
            self._waits,
            self._writer,
            doorbell=f"{prefix}reader:{uuid4().hex}",
            capacity=min(batch_size, max_events),
            batch_size=batch_size,
            block_milliseconds=BLOCK_MILLISECONDS,
        )
        self._stop_pattern = f"{prefix}chat:*:stop"
        self._decision_pattern = f"{prefix}chat:*:decision"
        self._signals = SignalWatch(self._waits, [self._stop_pattern, self._decision_pattern])
        self.user_events = RedisUserEvents(
            self._redis, self._writer, self._reader, prefix=prefix, retention_ms=self._retention_ms
        )

    @property
    def streams_read(self) -> int:
        """How many chat streams the process's reader follows (for metrics and tests)."""
        return self._reader.streams

    async def start_generation(self, chat_id: UUID, message_id: UUID, model: str) -> bool:
        """See `Broker.start_generation`."""
        keys = _ChatKeys(self._prefix, chat_id)
        value = json.dumps(
            {
                "chat_id": str(chat_id),
                "message_id": str(message_id),
                "model": model,
                "started_at": datetime.now(UTC).isoformat(),
            }
        )
        with reachable():
            taken = await self._start(
                keys=[keys.lock, keys.events, keys.log],
                args=[value, self._lock_ttl_ms, str(message_id), self._retention_ms],
            )
        return bool(taken)

    async def heartbeat(self, chat_id: UUID, message_id: UUID) -> bool:
        """See `Broker.heartbeat`; also keeps the running generation's log from expiring."""
        keys = _ChatKeys(self._prefix, chat_id)
        with reachable():
            extended = await self._writer.call_script(
                self._heartbeat,
                [keys.lock, keys.events, keys.log],
                [str(message_id), self._lock_ttl_ms, self._retention_ms],
            )
        return bool(extended)

    async def finish_generation(self, chat_id: UUID, message_id: UUID) -> None:
        """See `Broker.finish_generation`."""
        keys = _ChatKeys(self._prefix, chat_id)
        with reachable():
            await self._writer.call_script(
                self._finish,
                [keys.lock, keys.events, keys.log, keys.stop_flag],
                [str(message_id), self._retention_ms],
            )

    async def active_generation(self, chat_id: UUID) -> GenerationInfo | None:
        """See `Broker.active_generation`; `last_seq` comes from the stream's last entry."""
        return (await self.active_generations([chat_id])).get(chat_id)

    async def active_generations(self, chat_ids: list[UUID]) -> dict[UUID, GenerationInfo]:
        """See `Broker.active_generations`: one round trip for all the chats."""
        with reachable():
            async with self._redis.pipeline(transaction=False) as pipe:
                for chat_id in chat_ids:
                    keys = _ChatKeys(self._prefix, chat_id)
                    pipe.get(keys.lock)
                    pipe.xrevrange(keys.events, count=1)
                replies = await pipe.execute()
        found: dict[UUID, GenerationInfo] = {}
        for chat_id, lock, last in zip(chat_ids, replies[::2], replies[1::2], strict=True):
            if lock is not None:
                found[chat_id] = _generation_info(lock, last)
        return found

    async def publish(self, chat_id: UUID, event: StreamEvent) -> None:
        """See `Broker.publish`: one script call, batched with the other publishes of the tick.

        Returns once the event is in Redis; this process's subscribers of the chat then have it.
        """
        keys = _ChatKeys(self._prefix, chat_id)
        with reachable():
            entry_id, n = await self._writer.call_script(
                self._publish,
                [keys.events, keys.log],
                [self.max_events, encode_event(event), self._retention_ms],
            )
        self._reader.follow(keys.events, StreamEntry(parse_id(entry_id), n, event))

    async def request_stop(self, chat_id: UUID) -> bool:
        """See `Broker.request_stop`: sets the stop flag and publishes on the stop channel."""
        keys = _ChatKeys(self._prefix, chat_id)
        with reachable():
            running = await self._request_stop(
                keys=[keys.lock, keys.stop_flag], args=[keys.stop_channel, self._lock_ttl_ms]
            )
        return bool(running)

    @asynccontextmanager
    async def stop_requests(self, chat_id: UUID, message_id: UUID) -> AsyncIterator[asyncio.Event]:
        """See `Broker.stop_requests`.

        Registers with the process's stop watch (already subscribed), then checks the stop
        flag, so a request made between `start_generation` and this call is not lost.
        """
        keys = _ChatKeys(self._prefix, chat_id)
        stopped = asyncio.Event()
        async with self._signals.watch(
            self._stop_pattern, str(message_id), lambda _: stopped.set()
        ):
            try:
                with reachable():
                    flag = await self._redis.get(keys.stop_flag)
            except BrokerUnavailableError:  # the generation goes on; a stop may not reach it
                flag = None
            if flag == str(message_id):
                stopped.set()
            yield stopped

    async def send_decision(self, chat_id: UUID, message_id: UUID, decision: ToolDecision) -> None:
        """See `Broker.send_decision`: published on the chat's decision channel."""
        channel = _ChatKeys(self._prefix, chat_id).decision_channel
        with reachable():
            await self._redis.publish(channel, signal_data(str(message_id), decision.encode()))

    @asynccontextmanager
    async def decisions(
        self, chat_id: UUID, message_id: UUID, deliver: Callable[[ToolDecision], object]
    ) -> AsyncIterator[None]:
        """See `Broker.decisions`: registers with the process's signal watch."""
        async with self._signals.watch(
            self._decision_pattern, str(message_id), lambda data: deliver(ToolDecision.decode(data))
        ):
            yield

    async def announce_access_change(self, chat_id: UUID) -> None:
        """See `Broker.announce_access_change`: this process's watchers at once, then Redis's."""
        key = _access_key(chat_id)
        self._signals.notify(self._stop_pattern, key)
        with reachable():
            await self._redis.publish(_ChatKeys(self._prefix, chat_id).stop_channel, key)

    @asynccontextmanager
    async def access_changes(self, chat_id: UUID) -> AsyncIterator[asyncio.Event]:
        """See `Broker.access_changes` (through the process's signal watch)."""
        changed = asyncio.Event()
        async with self._signals.watch(
            self._stop_pattern, _access_key(chat_id), lambda _: changed.set()
        ):
            yield changed

    async def ping(self) -> bool:
        """See `Broker.ping`."""
        try:
            return bool(await self._redis.ping())
        except (RedisConnectionError, RedisTimeoutError, OSError):
            return False

    async def close(self) -> None:
        """Stop reading and watching, send what is queued, close the connections."""
        await self._reader.close()
        await self._signals.close()
        await self._writer.close()
        await self._waits.aclose()
        await self._redis.aclose()

    @asynccontextmanager
    async def _open_cursor(
        self, chat_id: UUID, after_seq: int | None
    ) -> AsyncIterator[EventCursor]:
        keys = _ChatKeys(self._prefix, chat_id)
        with reachable():
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.exists(keys.lock)
                pipe.hmget(keys.log, ["n", "start", "start_n", "gen"])
                pipe.xrevrange(keys.events, count=1)
                running, (n, start, start_n, generation), last = await pipe.execute()
        snapshot: LogSnapshot[Position] = LogSnapshot(
            running=bool(running),
            generation_start=None if start is None else (parse_id(start), int(start_n) + 1),
            generation_id=None if generation is None else UUID(generation),
            tail=(parse_id(last[0][0] if last else "0-0"), int(n or 0) + 1),
        )
        position, replayed = snapshot.start(after_seq)
        async with self._reader.open_cursor(
            keys.events, snapshot.tail, position, decode_event
        ) as cursor:
            yield _ReachableCursor(cursor, replayed)


def _access_key(chat_id: UUID) -> str:
    """What the chat's channel carries when who may read the chat changed."""
    return f"access:{chat_id}"


def _waits_pool(commands: ConnectionPool) -> ConnectionPool:
    """The pool of the blocking XREAD and the signal subscription, beside the commands' pool.

    Same server and settings, but a socket timeout longer than the BLOCK, so that waiting for a
    quiet chat never times out, and a few reconnection attempts (both only read).
    """
    timeout = commands.connection_kwargs.get("socket_timeout")
    return ConnectionPool(
        connection_class=commands.connection_class,
        max_connections=2,
        **{
            **commands.connection_kwargs,
            "socket_timeout": None if timeout is None else BLOCK_MILLISECONDS / 1000 + timeout,
            "retry": Retry(ExponentialWithJitterBackoff(), WAIT_RETRIES),
        },
    )


def _generation_info(lock: str, last: list[Any]) -> GenerationInfo:
    """The generation described by a lock value and the chat's last stream entry."""
    fields = json.loads(lock)
    message_id = UUID(fields["message_id"])
    last_event = decode_event(last[0][1]["e"]) if last else None
    return GenerationInfo(
        chat_id=UUID(fields["chat_id"]),
        message_id=message_id,
        model=fields["model"],
        started_at=datetime.fromisoformat(fields["started_at"]),
        last_seq=last_seq_of(last_event, message_id),
    )

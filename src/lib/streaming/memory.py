"""The in-memory brokers, for a single server process (the default, no setup).

Offers `InMemoryBroker` and `InMemoryUserEvents` (the broker's `user_events`: each user with
subscribers has a bounded ring of events and a wake-up event, forgotten with its last
subscriber; events of a user nobody follows are dropped at once).

`InMemoryBroker`: Each chat has a bounded ring of events with absolute offsets, a lock
record and one wake-up event shared by its waiting subscribers: publishing is an append and a
wake-up, with no per-subscriber work beyond what asyncio does to resume the waiters. A chat's
state is forgotten `retention_seconds` after its last activity once no generation holds its lock
and no one subscribes.
"""

import asyncio
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Coroutine
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from src.lib.llm.approval import ToolDecision
from src.lib.streaming.broker import (
    Broker,
    EventCursor,
    GenerationInfo,
    LogSnapshot,
    SubscriberLaggedError,
    last_seq_of,
)
from src.lib.streaming.events import StreamEvent
from src.lib.streaming.user_events import UserEvent, UserEventBroker

MAX_SWEEP_INTERVAL_SECONDS = 60.0


class _EventLog[E]:
    """A ring holding the last `capacity` events, addressed by absolute offsets."""

    __slots__ = ("_capacity", "_ring", "end")

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._ring: list[E] = []
        self.end = 0

    @property
    def start(self) -> int:
        """The offset of the oldest event still held."""
        return max(0, self.end - self._capacity)

    def append(self, event: E) -> None:
        """Add an event at offset `end`, dropping the oldest when full."""
        if len(self._ring) < self._capacity:
            self._ring.append(event)
        else:
            self._ring[self.end % self._capacity] = event
        self.end += 1

    def last(self) -> E | None:
        """The newest event, if any."""
        return self._ring[(self.end - 1) % self._capacity] if self.end else None

    def read(self, offset: int, limit: int) -> list[E]:
        """The events from `offset` (held, and before `end`), at most `limit` of them."""
        count = min(self.end - offset, limit)
        first = offset % self._capacity
        if first + count <= self._capacity:
            return self._ring[first : first + count]
        return self._ring[first:] + self._ring[: first + count - self._capacity]


@dataclass(slots=True)
class _Lock:
    info: GenerationInfo
    expires_at: float
    stop: asyncio.Event


class _ChatState:
    """One chat's log, lock, replay start and waiting subscribers."""

    __slots__ = (
        "_clock",
        "_wakeup",
        "active_at",
        "generation_id",
        "generation_start",
        "lock",
        "log",
        "subscribers",
    )

    def __init__(self, max_events: int, clock: Callable[[], float]) -> None:
        self._clock = clock
        self.log: _EventLog[StreamEvent] = _EventLog(max_events)
        self.lock: _Lock | None = None
        self.generation_start: int | None = None
        self.generation_id: UUID | None = None
        self.subscribers = 0
        self.active_at = clock()
        self._wakeup: asyncio.Event | None = None

    def live_lock(self) -> _Lock | None:
        """The lock record, unless it expired (then it is dropped)."""
        if self.lock is not None and self.lock.expires_at <= self._clock():
            self.lock = None
        return self.lock

    def owned_lock(self, message_id: UUID) -> _Lock | None:
        """The live lock record when `message_id` owns it."""
        lock = self.live_lock()
        return lock if lock is not None and lock.info.message_id == message_id else None

    def append(self, event: StreamEvent) -> None:
        """Log an event and wake every waiting subscriber."""
        self.log.append(event)
        self.active_at = self._clock()
        if self._wakeup is not None:
            self._wakeup.set()
            self._wakeup = None

    def leave(self) -> None:
        """Count a subscriber out."""
        self.subscribers -= 1
        self.active_at = self._clock()

    def wait_for_append(self) -> Coroutine[Any, Any, object]:
        """Wait until the next `append` (the wake-up's own wait: no frame of ours waits)."""
        if self._wakeup is None:
            self._wakeup = asyncio.Event()
        return self._wakeup.wait()


class _MemoryCursor(EventCursor):
    def __init__(
        self, state: _ChatState, offset: int, replay_generation: UUID | None, batch_size: int
    ) -> None:
        super().__init__(replay_generation)
        self._state = state
        self._offset = offset
        self._batch_size = batch_size

    async def read(self) -> list[StreamEvent]:
        log = self._state.log
        while self._offset >= log.end:
            await self._state.wait_for_append()
        if self._offset < log.start:
            raise SubscriberLaggedError(
                f"subscriber fell {log.end - self._offset} events behind; the log keeps "
                f"{log.end - log.start}"
            )
        events = log.read(self._offset, self._batch_size)
        self._offset += len(events)
        return events

    def waiting(self) -> int:
        return self._state.log.end - self._offset


class InMemoryBroker(Broker):
    """A broker whose chats live in this process's memory (see the module docstring).

    Besides `Broker`'s arguments it takes `clock`: the monotonic clock, in seconds, that lock
    expiry and retention are measured by (tests pass one they advance themselves).
    """

    def __init__(
        self,
        lock_ttl: float,
        *,
        max_events: int = 10_000,
        retention_seconds: float = 600.0,
        batch_size: int = 500,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(
            lock_ttl,
            max_events=max_events,
            retention_seconds=retention_seconds,
            batch_size=batch_size,
        )
        self._clock = clock
        self._chats: dict[UUID, _ChatState] = {}
        self._deciders: dict[UUID, Callable[[ToolDecision], object]] = {}
        self._next_sweep = 0.0
        self._access_watchers: dict[UUID, set[asyncio.Event]] = {}
        self.user_events = InMemoryUserEvents()

    def subscriber_count(self, chat_id: UUID) -> int:
        """Count the chat's open subscriptions (for metrics and tests).

        Args:
            chat_id: The chat.

        Returns:
            How many subscriptions are reading the chat's log.
        """
        state = self._chats.get(chat_id)
        return 0 if state is None else state.subscribers

    async def start_generation(self, chat_id: UUID, message_id: UUID, model: str) -> bool:
        """See `Broker.start_generation`."""
        self._sweep()
        state = self._chat(chat_id)
        if state.live_lock() is not None:
            return False
        info = GenerationInfo(chat_id, message_id, model, datetime.now(UTC), -1)
        state.lock = _Lock(info, self._clock() + self.lock_ttl, asyncio.Event())
        state.generation_start = state.log.end
        state.generation_id = message_id
        return True

    async def heartbeat(self, chat_id: UUID, message_id: UUID) -> bool:
        """See `Broker.heartbeat`."""
        state = self._chats.get(chat_id)
        lock = None if state is None else state.owned_lock(message_id)
        if lock is None:
            return False
        lock.expires_at = self._clock() + self.lock_ttl
        return True

    async def finish_generation(self, chat_id: UUID, message_id: UUID) -> None:
        """See `Broker.finish_generation`."""
        state = self._chats.get(chat_id)
        if state is not None and state.owned_lock(message_id) is not None:
            state.lock = None
            state.active_at = self._clock()

    async def active_generation(self, chat_id: UUID) -> GenerationInfo | None:
        """See `Broker.active_generation`."""
        state = self._chats.get(chat_id)
        lock = None if state is None else state.live_lock()
        if state is None or lock is None:
            return None
        return replace(lock.info, last_seq=last_seq_of(state.log.last(), lock.info.message_id))

    async def publish(self, chat_id: UUID, event: StreamEvent) -> None:
        """See `Broker.publish`."""
        self._chat(chat_id).append(event)

    async def request_stop(self, chat_id: UUID) -> bool:
        """See `Broker.request_stop`."""
        state = self._chats.get(chat_id)
        lock = None if state is None else state.live_lock()
        if lock is None:
            return False
        lock.stop.set()
        return True

    @asynccontextmanager
    async def stop_requests(self, chat_id: UUID, message_id: UUID) -> AsyncIterator[asyncio.Event]:
        """See `Broker.stop_requests`; the event is the one `request_stop` sets directly."""
        state = self._chats.get(chat_id)
        lock = None if state is None else state.owned_lock(message_id)
        yield asyncio.Event() if lock is None else lock.stop

    async def send_decision(self, chat_id: UUID, message_id: UUID, decision: ToolDecision) -> None:
        """See `Broker.send_decision`."""
        deliver = self._deciders.get(message_id)
        if deliver is not None:
            deliver(decision)

    @asynccontextmanager
    async def decisions(
        self, chat_id: UUID, message_id: UUID, deliver: Callable[[ToolDecision], object]
    ) -> AsyncIterator[None]:
        """See `Broker.decisions`."""
        self._deciders[message_id] = deliver
        try:
            yield
        finally:
            del self._deciders[message_id]

    async def announce_access_change(self, chat_id: UUID) -> None:
        """See `Broker.announce_access_change`."""
        for changed in self._access_watchers.get(chat_id, ()):
            changed.set()

    @asynccontextmanager
    async def access_changes(self, chat_id: UUID) -> AsyncIterator[asyncio.Event]:
        """See `Broker.access_changes`."""
        changed = asyncio.Event()
        watchers = self._access_watchers.setdefault(chat_id, set())
        watchers.add(changed)
        try:
            yield changed
        finally:
            watchers.discard(changed)
            if not watchers:
                self._access_watchers.pop(chat_id, None)

    async def close(self) -> None:
        """Forget every chat."""
        self._chats.clear()

    def _open_cursor(self, chat_id: UUID, after_seq: int | None) -> "_CursorLease":
        return _CursorLease(self, chat_id, after_seq)

    def _place_cursor(
        self, chat_id: UUID, after_seq: int | None
    ) -> tuple[_ChatState, _MemoryCursor]:
        """A new subscriber's cursor, counted in its chat's state (see `_ChatState.leave`)."""
        self._sweep()
        state = self._chat(chat_id)
        snapshot = LogSnapshot(
            running=state.live_lock() is not None,
            generation_start=state.generation_start,
            generation_id=state.generation_id,
            tail=state.log.end,
        )
        offset, replayed = snapshot.start(after_seq)
        state.subscribers += 1
        return state, _MemoryCursor(state, offset, replayed, self.batch_size)

    def _chat(self, chat_id: UUID) -> _ChatState:
        state = self._chats.get(chat_id)
        if state is None:
            state = self._chats[chat_id] = _ChatState(self.max_events, self._clock)
        return state

    def _sweep(self) -> None:
        """Forget idle chats, at most once per sweep interval."""
        now = self._clock()
        if now < self._next_sweep:
            return
        self._next_sweep = now + min(MAX_SWEEP_INTERVAL_SECONDS, self.retention_seconds)
        for chat_id, state in list(self._chats.items()):
            if (
                state.subscribers == 0
                and state.live_lock() is None
                and now - state.active_at > self.retention_seconds
            ):
                del self._chats[chat_id]


class _CursorLease(AbstractAsyncContextManager[EventCursor]):
    """A subscription's cursor, counted among its chat's subscribers while the block runs.

    A class rather than an `asynccontextmanager`: it lives as long as the subscription, and
    a suspended generator with its wrapper costs several times its few slots.
    """

    __slots__ = ("_after_seq", "_broker", "_chat_id", "_state")

    def __init__(self, broker: InMemoryBroker, chat_id: UUID, after_seq: int | None) -> None:
        self._broker = broker
        self._chat_id = chat_id
        self._after_seq = after_seq
        self._state: _ChatState | None = None

    async def __aenter__(self) -> EventCursor:
        self._state, cursor = self._broker._place_cursor(self._chat_id, self._after_seq)
        return cursor

    async def __aexit__(self, *exc_info: object) -> None:
        if self._state is not None:
            self._state.leave()


class _UserState:
    """One user's recent events and waiting subscribers."""

    __slots__ = ("_wakeup", "log", "subscribers")

    def __init__(self, max_events: int) -> None:
        self.log: _EventLog[UserEvent] = _EventLog(max_events)
        self.subscribers = 0
        self._wakeup = asyncio.Event()

    def append(self, event: UserEvent) -> None:
        self.log.append(event)
        self._wakeup.set()
        self._wakeup = asyncio.Event()

    async def wait_for_append(self) -> None:
        await self._wakeup.wait()


class InMemoryUserEvents(UserEventBroker):
    """User events within this process (see the module docstring)."""

    def __init__(self, max_events: int = 1_000) -> None:
        super().__init__(max_events)
        self._users: dict[UUID, _UserState] = {}

    async def publish(self, user_id: UUID, event: UserEvent) -> None:
        """See `UserEventBroker.publish`."""
        state = self._users.get(user_id)
        if state is not None:
            state.append(event)

    async def subscribe(self, user_id: UUID) -> AsyncGenerator[UserEvent, None]:
        """See `UserEventBroker.subscribe`."""
        state = self._users.get(user_id)
        if state is None:
            state = self._users[user_id] = _UserState(self.max_events)
        state.subscribers += 1
        offset = state.log.end
        try:
            while True:
                while offset >= state.log.end:
                    await state.wait_for_append()
                if offset < state.log.start:
                    raise SubscriberLaggedError(
                        f"user events subscriber fell {state.log.end - offset} events behind"
                    )
                events = state.log.read(offset, self.max_events)
                offset += len(events)
                for event in events:
                    yield event
        finally:
            state.subscribers -= 1
            if not state.subscribers:
                del self._users[user_id]

    def subscriber_count(self, user_id: UUID) -> int:
        """See `UserEventBroker.subscriber_count`."""
        state = self._users.get(user_id)
        return 0 if state is None else state.subscribers

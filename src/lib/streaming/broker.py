"""The broker: how a generation's events reach every subscriber, in this process or another.

Each chat has one ordered, bounded event log holding its current and recent generations'
events. Publishing appends to it; every subscriber keeps only a cursor into it and reads what is
available in batches, so a slow subscriber costs the publisher and the other subscribers nothing
and needs O(1) memory. Replay and live delivery are the same read from the same log, so they can
neither miss nor duplicate an event.

Offers:
- `Broker`: the interface (generation lock, publish, subscribe with replay, stop requests,
  decisions on tool calls that wait for approval, access changes; and `user_events`, the
  user-event broker that travels the same way).
  `subscribe` is implemented here once, over the `EventCursor` each broker provides.
- `GenerationInfo`: the running generation of a chat.
- `SubscriberLaggedError`: a subscriber fell behind what the log still holds.
- `BrokerUnavailableError`: the broker's store does not answer (code SERVICE_UNAVAILABLE).
- `coalesce(events)`: merges adjacent `TextDelta`s of the same message.
- `failing_on_outage(events)`: ends a subscription with `StreamFailed` when the broker fails.
- For broker implementations: `EventCursor`, `LogSnapshot`, `last_seq_of`.
"""

import asyncio
from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from src.core.exceptions import ServiceUnavailableError
from src.lib import metrics
from src.lib.llm.approval import ToolDecision
from src.lib.streaming.events import StreamEvent, StreamFailed, TextDelta, is_terminal
from src.lib.streaming.user_events import UserEventBroker

OUTAGE_FAILURE = (
    "BROKER_UNAVAILABLE",
    "Live events were cut off; the reply goes on. Resume with chatEvents(afterSeq).",
)


@dataclass(frozen=True, slots=True)
class GenerationInfo:
    """The running generation of a chat.

    Attributes:
        chat_id: The chat.
        message_id: The assistant message being generated (identifies the generation).
        model: The model generating it.
        started_at: When the generation took the chat's lock (UTC).
        last_seq: The seq of its last published event; -1 before the first.
    """

    chat_id: UUID
    message_id: UUID
    model: str
    started_at: datetime
    last_seq: int


class BrokerUnavailableError(ServiceUnavailableError):
    """The broker's store (Redis) does not answer; the operation did not happen."""

    default_message = "The event broker is unavailable; try again shortly."


class SubscriberLaggedError(Exception):
    """The subscriber fell so far behind that the events it needs next were trimmed away.

    It can resume by subscribing again with the seq of the last event it received.
    """


class EventCursor(ABC):
    """A subscriber's position in a chat's event log.

    Attributes:
        replay_generation: The generation whose events `after_seq` refers to (the one running,
            or the last one, when the subscription began), or None when nothing is replayed.
    """

    def __init__(self, replay_generation: UUID | None) -> None:
        self.replay_generation = replay_generation

    @abstractmethod
    async def read(self) -> list[StreamEvent]:
        """Wait until the log holds events past the cursor, then take up to a batch of them.

        Returns:
            At least one event, in publish order; the cursor moves past them.

        Raises:
            SubscriberLaggedError: If events past the cursor were trimmed from the log.
        """

    @abstractmethod
    def waiting(self) -> int:
        """How many events known to be in the log the cursor has not read yet (its lag)."""


@dataclass(frozen=True, slots=True)
class LogSnapshot[P]:
    """What a broker sees, in one atomic look, when a subscription begins.

    `P` is the broker's log position type.

    Attributes:
        running: Whether a generation holds the chat's lock.
        generation_start: The position just before the current (or last) generation's first
            event, or None when the chat has had no generation (or it was forgotten).
        generation_id: The message id of that generation.
        tail: The position after the log's last event.
    """

    running: bool
    generation_start: P | None
    generation_id: UUID | None
    tail: P

    def start(self, after_seq: int | None) -> tuple[P, UUID | None]:
        """Choose where a subscriber starts reading.

        Args:
            after_seq: The subscriber's last seen seq, or None.

        Returns:
            The start position and the generation being replayed (None when only following).
        """
        if self.generation_start is not None and (self.running or after_seq is not None):
            return self.generation_start, self.generation_id
        return self.tail, None


class Broker(ABC):
    """Delivers each chat's generation events to its subscribers and guards its generation lock.

    Attributes:
        lock_ttl: Seconds a generation lock lives without a heartbeat.
        max_events: How many events each chat's log keeps (older ones are trimmed).
        retention_seconds: How long an idle chat's log is kept after its last event.
        batch_size: The most events a subscriber takes from the log at once.
        user_events: Each user's events (`user_events`), carried the way this broker carries
            chat events.
    """

    user_events: UserEventBroker

    def __init__(
        self,
        lock_ttl: float,
        *,
        max_events: int = 10_000,
        retention_seconds: float = 600.0,
        batch_size: int = 500,
    ) -> None:
        self.lock_ttl = lock_ttl
        self.max_events = max_events
        self.retention_seconds = retention_seconds
        self.batch_size = batch_size

    @abstractmethod
    async def start_generation(self, chat_id: UUID, message_id: UUID, model: str) -> bool:
        """Take the chat's generation lock and begin a fresh replay log for the generation.

        Args:
            chat_id: The chat.
            message_id: The assistant message to generate (identifies the generation).
            model: The model generating it.

        Returns:
            True when taken; False when another generation holds the lock.
        """

    @abstractmethod
    async def heartbeat(self, chat_id: UUID, message_id: UUID) -> bool:
        """Extend the generation's lock by `lock_ttl`.

        Args:
            chat_id: The chat.
            message_id: The generation.

        Returns:
            False if the generation no longer owns the lock.
        """

    @abstractmethod
    async def finish_generation(self, chat_id: UUID, message_id: UUID) -> None:
        """Release the lock if the generation owns it.

        The generation's events stay available for replay for `retention_seconds`.

        Args:
            chat_id: The chat.
            message_id: The generation.
        """

    @abstractmethod
    async def active_generation(self, chat_id: UUID) -> GenerationInfo | None:
        """Describe the chat's running generation.

        Args:
            chat_id: The chat.

        Returns:
            The generation holding the lock, or None.
        """

    async def active_generations(self, chat_ids: list[UUID]) -> dict[UUID, GenerationInfo]:
        """Describe the running generations of several chats at once (for lists of chats).

        Args:
            chat_ids: The chats.

        Returns:
            The running generation of each chat that has one.
        """
        found = await asyncio.gather(*(self.active_generation(chat) for chat in chat_ids))
        return {chat: info for chat, info in zip(chat_ids, found, strict=True) if info}

    @abstractmethod
    async def publish(self, chat_id: UUID, event: StreamEvent) -> None:
        """Append an event to the chat's log and wake its subscribers (the per-token path).

        Args:
            chat_id: The chat.
            event: The next event of the chat's running generation.
        """

    @abstractmethod
    async def request_stop(self, chat_id: UUID) -> bool:
        """Ask the chat's running generation to stop, wherever it runs.

        Args:
            chat_id: The chat.

        Returns:
            True when a generation was running.
        """

    @abstractmethod
    def stop_requests(
        self, chat_id: UUID, message_id: UUID
    ) -> AbstractAsyncContextManager[asyncio.Event]:
        """Watch for stop requests, for the generation's owner while the generation runs.

        Args:
            chat_id: The chat.
            message_id: The generation.

        Returns:
            A context manager giving an event set within ~100 ms of `request_stop(chat_id)`,
            called from any process (also when called after the lock was taken but before
            the watch began).
        """

    @abstractmethod
    async def send_decision(self, chat_id: UUID, message_id: UUID, decision: ToolDecision) -> None:
        """Hand a decision on a tool call to the generation, wherever it runs.

        Args:
            chat_id: The chat.
            message_id: The generation.
            decision: The decision; a generation that is not watching ignores it.
        """

    @abstractmethod
    def decisions(
        self, chat_id: UUID, message_id: UUID, deliver: Callable[[ToolDecision], object]
    ) -> AbstractAsyncContextManager[None]:
        """Watch for decisions on the generation's tool calls, for its owner while it runs.

        Args:
            chat_id: The chat.
            message_id: The generation.
            deliver: Called with each decision sent, from any process, while in the block.

        Returns:
            A context manager; the watch is active once it is entered.
        """

    @abstractmethod
    async def announce_access_change(self, chat_id: UUID) -> None:
        """Tell the chat's watchers, in every process, that who may read the chat changed.

        Args:
            chat_id: The chat, turned private or deleted.
        """

    @abstractmethod
    def access_changes(self, chat_id: UUID) -> AbstractAsyncContextManager[asyncio.Event]:
        """Watch for `announce_access_change(chat_id)`, for a watcher that is not the owner.

        Args:
            chat_id: The chat.

        Returns:
            A context manager giving an event set when an access change of the chat is
            announced while in the block: at once in this process, within ~100 ms from
            another. The watcher clears it when it has checked its access again.
        """

    async def ping(self) -> bool:
        """Whether the broker's store answers (for readiness checks)."""
        return True

    @abstractmethod
    async def close(self) -> None:
        """Release the broker's resources."""

    @abstractmethod
    def _open_cursor(
        self, chat_id: UUID, after_seq: int | None
    ) -> AbstractAsyncContextManager[EventCursor]:
        """Place a cursor where a new subscription starts (see `LogSnapshot.start`).

        Args:
            chat_id: The chat.
            after_seq: The subscriber's last seen seq, or None.

        Returns:
            A context manager giving the cursor and forgetting it on exit.
        """

    async def subscribe(
        self, chat_id: UUID, after_seq: int | None = None
    ) -> AsyncGenerator[StreamEvent, None]:
        """Replay the current generation's events, then follow the chat live until stopped.

        Replays the events of the running (or else the last) generation with seq greater than
        `after_seq` (all of them when it is None, but nothing when it is None and no generation
        runs), then follows live events, those of every later generation included (their seq
        restarts at 0 and is not filtered). The replayed generation's terminal event comes
        whatever its seq: a reply closed for its dead process ends after the last event the
        log holds, which can be below a seq its process sent to its own subscriber from memory.
        Delivery order is publish order, without gaps or duplicates. A subscriber that falls
        behind gets its pending consecutive `TextDelta`s of one message merged.

        Args:
            chat_id: The chat.
            after_seq: The seq of the last event the subscriber received, or None.

        Yields:
            The chat's events.

        Raises:
            SubscriberLaggedError: If the subscriber fell behind what the log still holds.
        """
        async with self._open_cursor(chat_id, after_seq) as cursor, metrics.watched(cursor):
            replayed = cursor.replay_generation
            while True:
                batch = await cursor.read()
                if replayed is not None and after_seq is not None:
                    batch = [
                        e
                        for e in batch
                        if e.seq > after_seq or e.message_id != replayed or is_terminal(e)
                    ]
                for event in coalesce(batch):
                    yield event


async def failing_on_outage(
    events: AsyncIterator[StreamEvent],
) -> AsyncGenerator[StreamEvent, None]:
    """A subscription's events, ended by `StreamFailed` (BROKER_UNAVAILABLE) if the broker fails.

    The failure event follows the last event delivered, in its generation, so a client sees
    the reply's stream end cleanly and can resume with `chatEvents(afterSeq)` later.

    Raises:
        BrokerUnavailableError: The broker failed before the first event.
    """
    last: StreamEvent | None = None
    try:
        async for event in events:
            last = event
            yield event
    except BrokerUnavailableError:
        if last is None:
            raise
        yield StreamFailed(last.seq + 1, last.message_id, *OUTAGE_FAILURE)


def coalesce(events: list[StreamEvent]) -> list[StreamEvent]:
    """Merge adjacent `TextDelta`s of the same message into one.

    Args:
        events: Events in publish order.

    Returns:
        The events with each run of adjacent deltas of one message replaced by one delta whose
        text is the run's text and whose seq is the run's last.
    """
    if len(events) < 2:
        return events
    merged: list[StreamEvent] = []
    run: list[TextDelta] = []
    for event in events:
        if type(event) is TextDelta:
            if run and run[0].message_id != event.message_id:
                merged.append(_merge(run))
                run = []
            run.append(event)
            continue
        if run:
            merged.append(_merge(run))
            run = []
        merged.append(event)
    if run:
        merged.append(_merge(run))
    return merged


def _merge(run: list[TextDelta]) -> TextDelta:
    if len(run) == 1:
        return run[0]
    return TextDelta(run[-1].seq, run[-1].message_id, "".join(d.delta for d in run))


def last_seq_of(last_event: StreamEvent | None, message_id: UUID) -> int:
    """The seq of a generation's last event, given the last event of the chat's log.

    Args:
        last_event: The last event in the chat's log, or None when the log is empty.
        message_id: The generation.

    Returns:
        The event's seq when it belongs to the generation, else -1.
    """
    if last_event is None or last_event.message_id != message_id:
        return -1
    return last_event.seq

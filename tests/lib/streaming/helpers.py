"""Builders and readers shared by the broker tests."""

import asyncio
from collections.abc import AsyncIterator, Sequence
from uuid import UUID, uuid4

from src.lib.streaming.broker import Broker
from src.lib.streaming.events import (
    StreamEvent,
    StreamFinished,
    StreamStarted,
    TextDelta,
    ToolCallEvent,
    is_terminal,
)
from src.lib.streaming.memory import InMemoryBroker
from src.lib.streaming.redis_broker import RedisBroker
from tests.helpers import TIMEOUT


class Generation:
    """Builds one generation's events with consecutive seqs."""

    def __init__(self, chat_id: UUID, model: str = "demo") -> None:
        self.chat_id = chat_id
        self.message_id = uuid4()
        self.model = model
        self.seq = -1

    def _next(self) -> int:
        self.seq += 1
        return self.seq

    def started(self) -> StreamStarted:
        return StreamStarted(self._next(), self.chat_id, self.message_id, uuid4(), self.model)

    def delta(self, text: str) -> TextDelta:
        return TextDelta(self._next(), self.message_id, text)

    def tool_call(self) -> ToolCallEvent:
        seq = self._next()
        return ToolCallEvent(seq, self.message_id, f"call-{seq}", "calculator", {"n": seq})

    def finished(self) -> StreamFinished:
        return StreamFinished(self._next(), self.message_id, "STOP", {"output_tokens": self.seq})

    def whole(self, tool_calls: int = 3) -> list[StreamEvent]:
        """A whole generation: started, some tool calls, finished."""
        return [self.started(), *(self.tool_call() for _ in range(tool_calls)), self.finished()]


async def start(broker: Broker, generation: Generation) -> None:
    """Take the generation's lock (it must be free)."""
    assert await broker.start_generation(generation.chat_id, generation.message_id, "demo")


async def publish_all(broker: Broker, chat_id: UUID, events: Sequence[StreamEvent]) -> None:
    for event in events:
        await broker.publish(chat_id, event)


async def run_generation(broker: Broker, generation: Generation) -> list[StreamEvent]:
    """Start, publish and finish a whole generation; return its events."""
    events = generation.whole()
    await start(broker, generation)
    await publish_all(broker, generation.chat_id, events)
    await broker.finish_generation(generation.chat_id, generation.message_id)
    return events


async def take(subscription: AsyncIterator[StreamEvent], count: int) -> list[StreamEvent]:
    """The subscription's next `count` events."""
    async with asyncio.timeout(TIMEOUT):
        return [await anext(subscription) for _ in range(count)]


async def take_until_terminal(subscription: AsyncIterator[StreamEvent]) -> list[StreamEvent]:
    """The subscription's events up to and including the next terminal one."""
    events: list[StreamEvent] = []
    async with asyncio.timeout(TIMEOUT):
        while not events or not is_terminal(events[-1]):
            events.append(await anext(subscription))
    return events


def subscribed(broker: Broker, chat_id: UUID) -> bool:
    """Whether a subscription to the chat has taken its place and waits for events."""
    if isinstance(broker, InMemoryBroker):
        return broker.subscriber_count(chat_id) > 0
    assert isinstance(broker, RedisBroker)
    return broker.streams_read > 0  # the process's reader follows the chat's stream


def text_of(events: Sequence[StreamEvent]) -> str:
    return "".join(e.delta for e in events if isinstance(e, TextDelta))


def seqs(events: Sequence[StreamEvent]) -> list[int]:
    return [e.seq for e in events]

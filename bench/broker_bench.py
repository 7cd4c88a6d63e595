"""By-hand benchmark of the brokers: publish + deliver cost per event with many concurrent chats.

Run from the repository root (Redis is skipped when it does not answer):

    uv run python -m bench.broker_bench [--events 10000] [--redis-url redis://127.0.0.1:6379/0]

Each case runs `chats` generations at once, each followed by `subscribers` readers, on one
broker; `redis/2` publishes on one RedisBroker and reads on another, as two server processes
would (the events then reach the readers through Redis, not from memory). Every chat
publishes StreamStarted, its share of `--events` TextDeltas and StreamFinished, yielding to the
event loop after each publish as a real token loop does, while its readers read it to the end.
For each broker and case it prints µs per event (wall time of publish + delivery, until the
last reader has its terminal event, divided by the events published), events/second, how many
events each reader got (fewer than published means its deltas were merged because it fell
behind) and the peak number of Redis clients above the baseline while the case ran (from
`INFO clients`: run it against a Redis nobody else uses for a clean count). A case that fails
prints its error instead.
"""

import argparse
import asyncio
import contextlib
import os
import time
import uuid
from collections.abc import Callable
from contextlib import aclosing

from redis.asyncio import Redis
from redis.exceptions import RedisError

from src.lib.streaming.broker import Broker
from src.lib.streaming.events import StreamFinished, StreamStarted, TextDelta, is_terminal
from src.lib.streaming.memory import InMemoryBroker
from src.lib.streaming.redis_broker import RedisBroker

TOKEN = "token "
type Brokers = tuple[Broker, Broker]
"""The broker the generations publish on, and the one their readers subscribe on."""
CASES = [(1, 1), (1, 10), (40, 1), (500, 1), (500, 2)]
"""(chats, subscribers per chat)."""


async def _read_to_end(broker: Broker, chat_id: uuid.UUID) -> tuple[int, int]:
    """Read a chat until its terminal event; return (events received, text length)."""
    received = text = 0
    async with aclosing(broker.subscribe(chat_id)) as subscription:
        async for event in subscription:
            received += 1
            if isinstance(event, TextDelta):
                text += len(event.delta)
            if is_terminal(event):
                break
    return received, text


async def _publish(broker: Broker, chat_id: uuid.UUID, message_id: uuid.UUID, deltas: int) -> None:
    """Publish one generation: StreamStarted, `deltas` TextDeltas, StreamFinished."""
    await broker.publish(chat_id, StreamStarted(0, chat_id, message_id, None, "bench"))
    for seq in range(1, deltas + 1):
        await broker.publish(chat_id, TextDelta(seq, message_id, TOKEN))
        await asyncio.sleep(0)
    await broker.publish(chat_id, StreamFinished(deltas + 1, message_id, "STOP", None))


async def run_case(brokers: Brokers, chats: int, subscribers: int, events: int) -> dict[str, float]:
    """Run `chats` generations of `events // chats` deltas, each read by `subscribers`."""
    broker, readers_broker = brokers
    deltas = max(1, events // chats)
    generations = [(uuid.uuid4(), uuid.uuid4()) for _ in range(chats)]
    for chat_id, message_id in generations:
        assert await broker.start_generation(chat_id, message_id, "bench")
    readers = [
        asyncio.create_task(_read_to_end(readers_broker, chat_id))
        for chat_id, _ in generations
        for _ in range(subscribers)
    ]
    await asyncio.sleep(0.2)  # let the readers take their place

    began = time.perf_counter()
    try:
        failures = await asyncio.gather(
            *(_publish(broker, *generation, deltas) for generation in generations),
            return_exceptions=True,
        )
        for failure in failures:
            if failure is not None:
                raise failure
        results = await asyncio.gather(*readers)
    finally:
        for reader in readers:
            reader.cancel()
        await asyncio.gather(*readers, return_exceptions=True)
    elapsed = time.perf_counter() - began
    for chat_id, message_id in generations:
        await broker.finish_generation(chat_id, message_id)

    assert all(text == deltas * len(TOKEN) for _, text in results), "text lost"
    published = chats * (deltas + 2)
    return {
        "events": published,
        "us_per_event": elapsed / published * 1e6,
        "events_per_s": published / elapsed,
        "received": sum(received for received, _ in results) / len(results) / (deltas + 2),
    }


class _ClientCounter:
    """Samples `INFO clients` while a case runs and keeps the peak above the baseline."""

    def __init__(self, url: str | None) -> None:
        self._client = Redis.from_url(url) if url else None
        self._baseline = self.peak = 0
        self._sampler: asyncio.Task[None] | None = None

    async def __aenter__(self) -> "_ClientCounter":
        if self._client is not None:
            self._baseline = await self._clients()
            self._sampler = asyncio.create_task(self._sample())
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._sampler is not None:
            self._sampler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sampler

    async def _clients(self) -> int:
        assert self._client is not None
        return int((await self._client.info("clients"))["connected_clients"])

    async def _sample(self) -> None:
        while True:
            self.peak = max(self.peak, await self._clients() - self._baseline)
            await asyncio.sleep(0.02)

    async def close(self) -> None:
        """Close the sampling connection."""
        if self._client is not None:
            await self._client.aclose()


async def _redis_answers(url: str) -> bool:
    client = Redis.from_url(url, socket_connect_timeout=1)
    try:
        return bool(await client.ping())
    except (RedisError, OSError):
        return False
    finally:
        await client.aclose()


async def _delete_prefix(url: str, prefix: str) -> None:
    client = Redis.from_url(url)
    try:
        keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


async def _run_row(
    name: str, brokers: Brokers, case: tuple[int, int], events: int, url: str
) -> str:
    chats, subscribers = case
    redis = name.startswith("redis")
    counter = _ClientCounter(url if redis else None)
    try:
        async with counter:
            row = await run_case(brokers, chats, subscribers, events)
    except Exception as error:  # a failing case is a result too
        return f"{name:<8}{chats:>6}{subscribers:>6}  failed: {type(error).__name__}: {error}"
    finally:
        await counter.close()
        for broker in set(brokers):
            await broker.close()
    clients = f"{counter.peak:>9}" if redis else f"{'-':>9}"
    return (
        f"{name:<8}{chats:>6}{subscribers:>6}{row['events']:>8.0f}{row['us_per_event']:>10.1f}"
        f"{row['events_per_s']:>11.0f}{row['received']:>9.0%}{clients}"
    )


async def main(events: int, redis_url: str) -> None:
    """Run every case and print the table."""
    prefix = f"bench-{uuid.uuid4().hex[:8]}:"

    def one(broker: Broker) -> Brokers:
        return broker, broker

    def redis() -> RedisBroker:
        return RedisBroker(redis_url, 15, prefix=prefix)

    kinds: list[tuple[str, Callable[[], Brokers]]] = [("memory", lambda: one(InMemoryBroker(15)))]
    if await _redis_answers(redis_url):
        kinds.append(("redis", lambda: one(redis())))
        kinds.append(("redis/2", lambda: (redis(), redis())))
    else:
        print(f"Redis at {redis_url} does not answer: skipped")

    print(
        f"{'broker':<8}{'chats':>6}{'subs':>6}{'events':>8}{'µs/event':>10}{'events/s':>11}"
        f"{'got/sub':>9}{'clients':>9}"
    )
    try:
        for name, make in kinds:
            for case in CASES:
                print(await _run_row(name, make(), case, events, redis_url), flush=True)
    finally:
        await _delete_prefix(redis_url, prefix)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument(
        "--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    )
    arguments = parser.parse_args()
    asyncio.run(main(arguments.events, arguments.redis_url))

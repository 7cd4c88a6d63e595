"""By-hand benchmark of the brokers: publish + deliver throughput with 1 and 10 subscribers.

Run from the repository root (Redis is skipped when it does not answer):

    uv run python -m bench.broker_bench [--events 5000] [--redis-url redis://127.0.0.1:6379/0]

For each broker and subscriber count it publishes one generation (StreamStarted, N TextDeltas,
StreamFinished), yielding to the event loop after each publish as a real token loop does, while
the subscribers read it to the end. It prints events/second and µs/event over publish + delivery
(until the last subscriber has the terminal event), and how many events each subscriber got:
fewer than published means its deltas were merged because it fell behind.
"""

import argparse
import asyncio
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


async def run_case(broker: Broker, events: int, subscribers: int) -> dict[str, float]:
    """Publish one generation of `events` deltas to `subscribers` readers; measure it."""
    chat_id, message_id = uuid.uuid4(), uuid.uuid4()
    assert await broker.start_generation(chat_id, message_id, "bench")
    readers = [asyncio.create_task(_read_to_end(broker, chat_id)) for _ in range(subscribers)]
    await asyncio.sleep(0.05)  # let the readers take their place

    began = time.perf_counter()
    await broker.publish(chat_id, StreamStarted(0, chat_id, message_id, None, "bench"))
    for seq in range(1, events + 1):
        await broker.publish(chat_id, TextDelta(seq, message_id, TOKEN))
        await asyncio.sleep(0)
    await broker.publish(chat_id, StreamFinished(events + 1, message_id, "STOP", None))
    published = time.perf_counter() - began
    results = await asyncio.gather(*readers)
    elapsed = time.perf_counter() - began
    await broker.finish_generation(chat_id, message_id)

    assert all(text == events * len(TOKEN) for _, text in results), "text lost"
    return {
        "publish_us": published / (events + 2) * 1e6,
        "events_per_s": (events + 2) / elapsed,
        "us_per_event": elapsed / (events + 2) * 1e6,
        "received": sum(received for received, _ in results) / subscribers,
    }


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


async def main(events: int, redis_url: str) -> None:
    """Run every case and print the table."""
    prefix = f"bench-{uuid.uuid4().hex[:8]}:"
    kinds: list[tuple[str, Callable[[], Broker]]] = [("memory", lambda: InMemoryBroker(15))]
    if await _redis_answers(redis_url):
        kinds.append(("redis", lambda: RedisBroker(redis_url, 15, prefix=prefix)))
    else:
        print(f"Redis at {redis_url} does not answer: skipped")

    print(
        f"{'broker':<8}{'subs':>5}{'events':>8}{'publish µs':>12}{'events/s':>11}"
        f"{'µs/event':>10}{'got/sub':>9}"
    )
    try:
        for name, make in kinds:
            for subscribers in (1, 10):
                broker = make()
                try:
                    row = await run_case(broker, events, subscribers)
                finally:
                    await broker.close()
                print(
                    f"{name:<8}{subscribers:>5}{events + 2:>8}{row['publish_us']:>12.1f}"
                    f"{row['events_per_s']:>11.0f}{row['us_per_event']:>10.1f}"
                    f"{row['received']:>9.0f}"
                )
    finally:
        await _delete_prefix(redis_url, prefix)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5_000)
    parser.add_argument(
        "--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
    )
    arguments = parser.parse_args()
    asyncio.run(main(arguments.events, arguments.redis_url))

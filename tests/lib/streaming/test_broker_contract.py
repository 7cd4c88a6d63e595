"""The behaviour every broker promises, run on the in-memory broker and on real Redis."""

import asyncio
import time
from contextlib import aclosing
from uuid import uuid4

import pytest

from src.lib.llm.approval import ToolDecision
from src.lib.streaming.broker import Broker, SubscriberLaggedError, coalesce
from src.lib.streaming.events import StreamEvent, TextDelta, is_terminal
from tests.helpers import TIMEOUT, ExpiryClock, wait_until
from tests.lib.streaming.conftest import BrokerFactory
from tests.lib.streaming.helpers import (
    Generation,
    publish_all,
    run_generation,
    seqs,
    start,
    subscribed,
    take,
    take_until_terminal,
    text_of,
)


async def test_a_replayed_generation_ends_even_below_the_seq_asked_for(broker: Broker) -> None:
    """A reply closed for its dead process ends below seqs its own subscriber may have seen."""
    chat_id = uuid4()
    events = await run_generation(broker, Generation(chat_id))

    async with aclosing(broker.subscribe(chat_id, after_seq=events[-1].seq + 5)) as subscription:
        assert await take(subscription, 1) == events[-1:]


async def test_replay_after_seq_of_running_generation_gives_the_missed_events_once(
    broker: Broker,
) -> None:
    chat_id = uuid4()
    generation = Generation(chat_id)
    await start(broker, generation)
    published: list[StreamEvent] = [
        generation.started(),
        *(generation.tool_call() for _ in range(5)),
    ]
    await publish_all(broker, chat_id, published)

    async with aclosing(broker.subscribe(chat_id, after_seq=2)) as subscription:
        assert await take(subscription, 3) == published[3:]
        rest: list[StreamEvent] = [generation.tool_call(), generation.finished()]
        await publish_all(broker, chat_id, rest)
        assert await take_until_terminal(subscription) == rest


async def test_running_generation_is_replayed_whole_without_after_seq(broker: Broker) -> None:
    chat_id = uuid4()
    generation = Generation(chat_id)
    await start(broker, generation)
    events = generation.whole()
    await publish_all(broker, chat_id, events[:2])

    async with aclosing(broker.subscribe(chat_id)) as subscription:
        assert await take(subscription, 2) == events[:2]
        await publish_all(broker, chat_id, events[2:])
        assert await take_until_terminal(subscription) == events[2:]


async def test_client_dropping_mid_reply_resumes_with_every_missed_event_once(
    broker: Broker,
) -> None:
    chat_id = uuid4()
    generation = Generation(chat_id)
    await start(broker, generation)
    events = generation.whole(tool_calls=300)

    async def produce() -> None:
        for event in events:
            await broker.publish(chat_id, event)
            await asyncio.sleep(0)

    producer = asyncio.create_task(produce())
    async with aclosing(broker.subscribe(chat_id)) as subscription:
        first = await take(subscription, 40)
    async with aclosing(broker.subscribe(chat_id, after_seq=first[-1].seq)) as subscription:
        rest = await take_until_terminal(subscription)
    await producer

    assert first + rest == events


async def test_subscriber_joining_between_generations_sees_the_next_from_seq_0(
    broker: Broker,
) -> None:
    chat_id = uuid4()
    await run_generation(broker, Generation(chat_id))

    async with aclosing(broker.subscribe(chat_id)) as subscription:
        reader = asyncio.create_task(take_until_terminal(subscription))
        await wait_until(lambda: subscribed(broker, chat_id))
        following = Generation(chat_id)
        events = await run_generation(broker, following)
        assert await reader == events
    assert seqs(events)[0] == 0


async def test_finished_generation_stays_available_for_replay(broker: Broker) -> None:
    chat_id = uuid4()
    events = await run_generation(broker, Generation(chat_id))

    async with aclosing(broker.subscribe(chat_id, after_seq=2)) as subscription:
        assert await take_until_terminal(subscription) == events[3:]


async def test_two_subscribers_receive_the_same_events(broker: Broker) -> None:
    chat_id = uuid4()
    generation = Generation(chat_id)
    await start(broker, generation)
    events: list[StreamEvent] = [generation.started()]
    await broker.publish(chat_id, events[0])

    async with (
        aclosing(broker.subscribe(chat_id)) as first,
        aclosing(broker.subscribe(chat_id)) as second,
    ):
        readers = [asyncio.create_task(take_until_terminal(s)) for s in (first, second)]
        events += [generation.delta(f"w{i} ") for i in range(50)]
        events += [generation.tool_call(), generation.delta("end"), generation.finished()]
        await publish_all(broker, chat_id, events[1:])
        received = await asyncio.gather(*readers)

    for got in received:
        assert coalesce(got) == coalesce(events)


async def test_long_lived_subscriber_follows_later_generations_unfiltered(
    broker: Broker,
) -> None:
    chat_id = uuid4()
    first = Generation(chat_id)
    await start(broker, first)
    first_events = first.whole()
    await publish_all(broker, chat_id, first_events[:3])

    async with aclosing(broker.subscribe(chat_id, after_seq=1)) as subscription:
        assert await take(subscription, 1) == first_events[2:3]
        await publish_all(broker, chat_id, first_events[3:])
        await broker.finish_generation(chat_id, first.message_id)
        assert await take_until_terminal(subscription) == first_events[3:]

        for _ in range(2):
            later = Generation(chat_id)
            events = await run_generation(broker, later)
            assert await take_until_terminal(subscription) == events


async def test_slow_subscriber_gets_merged_deltas_and_never_slows_the_publisher(
    broker: Broker,
) -> None:
    chat_id = uuid4()
    generation = Generation(chat_id)
    await start(broker, generation)
    await broker.publish(chat_id, generation.started())
    deltas: list[StreamEvent] = [generation.delta(f"token{i} ") for i in range(300)]
    finished = generation.finished()
    publish_time = 0.0
    published_at = 0.0

    async def produce() -> None:
        nonlocal publish_time, published_at
        began = time.monotonic()
        for event in [*deltas, finished]:
            await broker.publish(chat_id, event)
            await asyncio.sleep(0)
        published_at = time.monotonic()
        publish_time = published_at - began

    received: list[StreamEvent] = []
    async with aclosing(broker.subscribe(chat_id)) as subscription:
        await anext(subscription)
        producer = asyncio.create_task(produce())
        async with asyncio.timeout(TIMEOUT):
            async for event in subscription:
                received.append(event)
                if is_terminal(event):
                    break
                await asyncio.sleep(0.02)
    done_at = time.monotonic()
    await producer

    received_deltas = [e for e in received if isinstance(e, TextDelta)]
    assert text_of(received) == text_of(deltas)
    assert len(received_deltas) < len(deltas) / 2
    assert seqs(received) == sorted(set(seqs(received)))
    assert received[-1] == finished
    # Unmerged, the reader would need 300 * 20 ms; the publisher never waited for it.
    assert publish_time < 1.0
    assert published_at < done_at


async def test_subscriber_beyond_the_log_gets_lagged_error(make_broker: BrokerFactory) -> None:
    broker = make_broker(max_events=50)
    chat_id = uuid4()
    generation = Generation(chat_id)
    await start(broker, generation)
    await broker.publish(chat_id, generation.started())

    async with aclosing(broker.subscribe(chat_id)) as subscription:
        await anext(subscription)
        await publish_all(broker, chat_id, [generation.tool_call() for _ in range(1000)])
        with pytest.raises(SubscriberLaggedError):
            await take(subscription, 1)


async def test_generation_lock_is_exclusive_until_its_owner_finishes(broker: Broker) -> None:
    chat_id, owner, other = uuid4(), uuid4(), uuid4()

    assert await broker.start_generation(chat_id, owner, "demo")
    assert not await broker.start_generation(chat_id, other, "demo")
    assert not await broker.heartbeat(chat_id, other)
    await broker.finish_generation(chat_id, other)
    assert not await broker.start_generation(chat_id, other, "demo")
    assert await broker.start_generation(uuid4(), other, "demo")

    await broker.finish_generation(chat_id, owner)
    assert await broker.start_generation(chat_id, other, "demo")


async def test_generation_lock_expires_without_heartbeat(
    make_broker: BrokerFactory, expiry_clock: ExpiryClock
) -> None:
    broker = make_broker(lock_ttl=0.5)
    chat_id, owner, other = uuid4(), uuid4(), uuid4()
    assert await broker.start_generation(chat_id, owner, "demo")

    await expiry_clock.elapse(0.3)
    assert await broker.heartbeat(chat_id, owner)
    await expiry_clock.elapse(0.3)
    assert not await broker.start_generation(chat_id, other, "demo")

    async def expired() -> bool:
        return await broker.active_generation(chat_id) is None

    await expiry_clock.elapse_until(expired, 0.6)
    assert await broker.start_generation(chat_id, other, "demo")
    assert not await broker.heartbeat(chat_id, owner)


async def test_request_stop_reaches_the_generation_within_200ms(broker: Broker) -> None:
    chat_id = uuid4()
    generation = Generation(chat_id)
    assert not await broker.request_stop(chat_id)
    await start(broker, generation)

    async with broker.stop_requests(chat_id, generation.message_id) as stopped:
        assert not stopped.is_set()
        requested_at = time.monotonic()
        assert await broker.request_stop(chat_id)
        async with asyncio.timeout(0.2):
            await stopped.wait()
        assert time.monotonic() - requested_at < 0.2


async def test_stop_requested_before_watching_is_not_lost(broker: Broker) -> None:
    chat_id = uuid4()
    generation = Generation(chat_id)
    await start(broker, generation)
    assert await broker.request_stop(chat_id)

    async with broker.stop_requests(chat_id, generation.message_id) as stopped:
        async with asyncio.timeout(0.2):
            await stopped.wait()


async def test_a_decision_reaches_the_generation_watching_for_it(broker: Broker) -> None:
    chat_id = uuid4()
    generation, other = Generation(chat_id), Generation(uuid4())
    await start(broker, generation)
    received: asyncio.Queue[ToolDecision] = asyncio.Queue()

    async with broker.decisions(chat_id, generation.message_id, received.put_nowait):
        await broker.send_decision(other.chat_id, other.message_id, ToolDecision("c0", True))
        decision = ToolDecision("c1", False, "not now")
        await broker.send_decision(chat_id, generation.message_id, decision)
        async with asyncio.timeout(TIMEOUT):
            assert await received.get() == decision
    await broker.send_decision(chat_id, generation.message_id, decision)  # nobody waits: dropped
    assert received.empty()


async def test_active_generation_reports_the_last_seq(broker: Broker) -> None:
    chat_id = uuid4()
    assert await broker.active_generation(chat_id) is None
    previous = await run_generation(broker, Generation(chat_id))
    assert previous
    generation = Generation(chat_id, model="gpt-test")
    assert await broker.start_generation(chat_id, generation.message_id, "gpt-test")

    info = await broker.active_generation(chat_id)
    assert info is not None
    assert (info.chat_id, info.message_id, info.model) == (
        chat_id,
        generation.message_id,
        "gpt-test",
    )
    assert info.last_seq == -1
    assert info.started_at.tzinfo is not None

    await publish_all(broker, chat_id, [generation.started(), generation.delta("a")])
    info = await broker.active_generation(chat_id)
    assert info is not None
    assert info.last_seq == 1

    await broker.finish_generation(chat_id, generation.message_id)
    assert await broker.active_generation(chat_id) is None


async def test_active_generations_describes_several_chats_at_once(broker: Broker) -> None:
    running, idle, finished = uuid4(), uuid4(), uuid4()
    await run_generation(broker, Generation(finished))
    generation = Generation(running)
    assert await broker.start_generation(running, generation.message_id, "gpt-test")
    await publish_all(broker, running, [generation.started(), generation.delta("a")])

    found = await broker.active_generations([running, idle, finished, running])

    assert set(found) == {running}
    assert (found[running].message_id, found[running].last_seq) == (generation.message_id, 1)
    assert found[running] == await broker.active_generation(running)
    await broker.finish_generation(running, generation.message_id)

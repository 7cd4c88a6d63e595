"""GroupWriter: items of one moment in one batch, one batch at a time, errors to their batch."""

import asyncio
from collections.abc import Sequence

import pytest

from src.lib.db.group_writer import GroupWriter


class Recorder:
    """A write that records its batches and can be held open or made to fail."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.open = asyncio.Event()
        self.open.set()
        self.started = asyncio.Event()
        self.writing = 0
        self.most_at_once = 0
        self.fail_on: int | None = None

    async def write(self, items: Sequence[int]) -> list[int]:
        self.writing += 1
        self.most_at_once = max(self.most_at_once, self.writing)
        try:
            self.batches.append(list(items))
            self.started.set()
            await self.open.wait()
            if self.fail_on in items:
                raise RuntimeError("disk full")
            return [item * 10 for item in items]
        finally:
            self.writing -= 1


async def test_items_of_one_moment_share_a_batch_and_get_their_own_results() -> None:
    recorder = Recorder()
    writer = GroupWriter(recorder.write)
    assert await asyncio.gather(*(writer.submit(n) for n in range(5))) == [0, 10, 20, 30, 40]
    assert recorder.batches == [[0, 1, 2, 3, 4]]


async def test_items_submitted_during_a_write_wait_for_the_next_batch() -> None:
    recorder = Recorder()
    recorder.open.clear()
    writer = GroupWriter(recorder.write)
    first = asyncio.ensure_future(writer.submit(1))
    await recorder.started.wait()
    later = [asyncio.ensure_future(writer.submit(n)) for n in (2, 3)]
    await asyncio.sleep(0)
    assert recorder.batches == [[1]]  # one write in flight, the others wait
    recorder.open.set()
    assert [await first, *(await asyncio.gather(*later))] == [10, 20, 30]
    assert recorder.batches == [[1], [2, 3]]
    assert recorder.most_at_once == 1


async def test_a_batch_holds_at_most_max_batch_items() -> None:
    recorder = Recorder()
    writer = GroupWriter(recorder.write, max_batch=2)
    await asyncio.gather(*(writer.submit(n) for n in range(5)))
    assert recorder.batches == [[0, 1], [2, 3], [4]]


async def test_a_failed_write_fails_its_batch_only() -> None:
    recorder = Recorder()
    recorder.open.clear()
    recorder.fail_on = 1
    writer = GroupWriter(recorder.write)
    failing = [asyncio.ensure_future(writer.submit(n)) for n in (1, 2)]
    await recorder.started.wait()
    next_batch = asyncio.ensure_future(writer.submit(3))
    recorder.open.set()
    for future in failing:
        with pytest.raises(RuntimeError, match="disk full"):
            await future
    assert await next_batch == 30


async def test_a_cancelled_caller_leaves_its_batch_to_be_written() -> None:
    recorder = Recorder()
    recorder.open.clear()
    writer = GroupWriter(recorder.write)
    cancelled = asyncio.ensure_future(writer.submit(1))
    other = asyncio.ensure_future(writer.submit(2))
    await recorder.started.wait()
    cancelled.cancel()
    recorder.open.set()
    assert await other == 20
    assert cancelled.cancelled()
    assert recorder.batches == [[1, 2]]

"""Deadlines: one timer ends many things, each at its own time, and lets go of ended ones."""

import asyncio
import gc
import weakref
from datetime import UTC, datetime, timedelta

from src.api.deadlines import Deadlines

LATER = timedelta(hours=1)


class Thing:
    """Records the order things are ended in."""

    def __init__(self, name: str, ends: list[str]) -> None:
        self.name = name
        self.ended = False
        self._ends = ends
        self.done = asyncio.Event()

    def end(self) -> None:
        self.ended = True
        self._ends.append(self.name)
        self.done.set()


async def test_things_end_in_deadline_order_and_a_passed_deadline_at_once() -> None:
    deadlines, ends = Deadlines(), list[str]()
    now = datetime.now(UTC)
    things = {
        "late": Thing("late", ends),
        "passed": Thing("passed", ends),
        "soon": Thing("soon", ends),
        "never": Thing("never", ends),
    }
    deadlines.add(now + timedelta(milliseconds=60), things["late"])
    deadlines.add(now - timedelta(seconds=1), things["passed"])
    deadlines.add(now + timedelta(milliseconds=20), things["soon"])
    deadlines.add(now + LATER, things["never"])
    await asyncio.wait_for(things["late"].done.wait(), 10)
    assert ends == ["passed", "soon", "late"]


async def test_an_earlier_deadline_added_later_comes_first() -> None:
    deadlines, ends = Deadlines(), list[str]()
    later, first = Thing("later", ends), Thing("first", ends)
    deadlines.add(datetime.now(UTC) + LATER, later)
    deadlines.add(datetime.now(UTC), first)
    await asyncio.wait_for(first.done.wait(), 10)
    assert ends == ["first"]
    assert not later.ended


async def test_things_that_ended_by_themselves_are_let_go_and_not_ended_again() -> None:
    deadlines, ends = Deadlines(), list[str]()
    things = [Thing(str(n), ends) for n in range(10)]
    for thing in things:
        deadlines.add(datetime.now(UTC) + LATER, thing)
    refs = [weakref.ref(thing) for thing in things]
    for thing in things[:-1]:
        thing.ended = True  # by itself, before its deadline
        deadlines.ended()
    kept = things[-1]
    del things, thing
    gc.collect()
    assert [ref() is None for ref in refs] == [True] * 9 + [False]
    assert ends == [] and not kept.ended

"""One event-loop timer for many deadlines: each thing is ended at its own time.

A timer per socket (`loop.call_at`) costs a handle and, on uvloop, a libuv timer, for as long as
the socket is open. `Deadlines` keeps (time, thing) in a heap and one timer, set for the
earliest. A thing that ended by itself stays in the heap until its time comes and is then
skipped; the heap is rebuilt without such leftovers once about half of it may be leftovers.

Offers `Deadlines` (and `Ending`, what it ends).
"""

import asyncio
import heapq
import itertools
from datetime import UTC, datetime
from typing import Protocol


class Ending(Protocol):
    """Something that ends once, by itself or at its deadline."""

    @property
    def ended(self) -> bool:
        """Whether it has ended."""
        ...

    def end(self) -> None:
        """End it (its deadline came)."""
        ...


class Deadlines:
    """Ends each thing added at its deadline, unless it ended before (see the module docstring)."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Ending]] = []  # (loop time, order, thing)
        self._order = itertools.count()
        self._ended_since_rebuild = 0
        self._timer: asyncio.TimerHandle | None = None

    def add(self, deadline: datetime, thing: Ending) -> None:
        """End `thing` at `deadline` (at once if it has passed), unless it ended before."""
        loop = asyncio.get_running_loop()
        delay = max((deadline - datetime.now(UTC)).total_seconds(), 0.0)
        heapq.heappush(self._heap, (loop.time() + delay, next(self._order), thing))
        if self._heap[0][2] is thing:
            self._arm(loop)

    def ended(self) -> None:
        """Note that a thing added ended by itself (its entry becomes a leftover)."""
        self._ended_since_rebuild += 1
        if self._ended_since_rebuild * 2 > len(self._heap):
            self._heap = [entry for entry in self._heap if not entry[2].ended]
            heapq.heapify(self._heap)
            self._ended_since_rebuild = 0
            self._arm(asyncio.get_running_loop())

    def _arm(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = loop.call_at(self._heap[0][0], self._fire) if self._heap else None

    def _fire(self) -> None:
        self._timer = None
        loop = asyncio.get_running_loop()
        now = loop.time()
        while self._heap and self._heap[0][0] <= now:
            thing = heapq.heappop(self._heap)[2]
            if not thing.ended:
                thing.end()
        self._arm(loop)

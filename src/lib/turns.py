"""Turns: at most so many holders at a time, the others waiting in order of arrival.

Offers `Turns`: `async with turns.turn():` runs its block in a turn; `waiting` tells how many
wait for one.
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class Turns:
    """At most `size` holders at a time; the others wait, first come first served.

    Attributes:
        waiting: How many wait for a turn now.
    """

    def __init__(self, size: int) -> None:
        self._semaphore = asyncio.Semaphore(size)
        self.waiting = 0

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        """Hold a turn for the block (waiting for one first, if none is free)."""
        self.waiting += 1
        try:
            await self._semaphore.acquire()
        finally:
            self.waiting -= 1
        try:
            yield
        finally:
            self._semaphore.release()

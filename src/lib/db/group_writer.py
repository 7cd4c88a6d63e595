"""Group commit: writes submitted at about the same moment go to the database as one batch.

Offers `GroupWriter`: `submit(item)` waits until the item is written and returns its result.
Items submitted while a batch is being written wait for the next one, so a writer has at most
one transaction in flight: under load a batch holds everything that ended meanwhile (one
statement and one commit for hundreds of replies), and alone an item is written at once.

Strawberry's DataLoader batches reads by the same rule of "one loop turn", but dispatches
every batch at once; a group commit needs the one-at-a-time flow (SQLite has one writer, and
PostgreSQL connections are a pool shared with reply starts).
"""

import asyncio
from collections.abc import Awaitable, Callable, Sequence


class GroupWriter[T, R]:
    """Writes items in batches, one batch at a time, through `write`."""

    def __init__(
        self, write: Callable[[Sequence[T]], Awaitable[Sequence[R]]], max_batch: int = 500
    ) -> None:
        """Prepare the writer.

        Args:
            write: Writes a batch in one transaction; returns one result per item, in order.
            max_batch: The most items in one batch.
        """
        self._write = write
        self._max_batch = max_batch
        self._waiting: list[tuple[T, asyncio.Future[R]]] = []
        self._flushing: asyncio.Task[None] | None = None

    async def submit(self, item: T) -> R:
        """Write the item with the others of its batch; its result.

        Raises:
            Exception: What writing its batch raised (every item of the batch gets it).
        """
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        if self._flushing is None:
            self._flushing = asyncio.create_task(self._flush())
        # the write goes on when the caller is cancelled: a batch is written whole
        return await asyncio.shield(future)

    async def _flush(self) -> None:
        """Write batches until no item waits (when cancelled, the items left are cancelled)."""
        try:
            await asyncio.sleep(0)  # the items submitted in this loop turn join the first batch
            while self._waiting:
                batch = self._waiting[: self._max_batch]
                del self._waiting[: self._max_batch]
                await self._write_batch(batch)
        finally:
            self._flushing = None
            for _, future in self._waiting:
                future.cancel()
            self._waiting.clear()

    async def _write_batch(self, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        """Write one batch and settle its items' futures with the results, or the error."""
        try:
            results = await self._write([item for item, _ in batch])
        except Exception as error:
            for _, future in batch:
                if not future.done():
                    future.set_exception(error)
            return
        except BaseException:  # cancelled: so are the items being written
            for _, future in batch:
                future.cancel()
            raise
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)

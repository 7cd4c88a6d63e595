"""What every running reply needs once per flush interval, done for all of them at once.

Offers `ReplyUpkeep`, one per generation manager, with two tasks for the whole process (lock
renewals never wait for a save that waits for the database):
- `track(chat_id, reply, model)`: from the start of a generation, renew its chat's lock and
  save its partial reply every interval;
- `stop_saving(reply)`: no more partial saves (the final save comes next); waits for a save in
  flight that holds the reply, so that nothing older lands after the final save;
- `untrack(reply)`: no more lock renewals either (the reply is saved and its end published);
- `close()`: stop the tasks.

Every interval the partial replies of all running generations go to the store in one call
(one transaction), and their locks are renewed together (on Redis the renewals of one tick
share a round trip), instead of two timers and a transaction per reply.
"""

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass

from loguru import logger

from src.lib.streaming.broker import BrokerUnavailableError
from src.lib.streaming.reply import ReplyState
from src.lib.streaming.store import ReplyStore

Heartbeat = Callable[[uuid.UUID, uuid.UUID, str], Awaitable[bool]]
"""(chat id, message id, model) -> False when another process holds the chat's lock."""


@dataclass(frozen=True, slots=True)
class _Running:
    chat_id: uuid.UUID
    reply: ReplyState
    model: str


class ReplyUpkeep:
    """Renews the locks and saves the partial replies of this process's generations."""

    def __init__(self, store: ReplyStore, heartbeat: Heartbeat, interval: float) -> None:
        self._store = store
        self._heartbeat = heartbeat
        self._interval = interval
        self._locked: dict[uuid.UUID, _Running] = {}
        self._saved: dict[uuid.UUID, ReplyState] = {}
        self._tasks: list[asyncio.Task[None]] = []

    def track(self, chat_id: uuid.UUID, reply: ReplyState, model: str) -> None:
        """Renew the reply's lock and save it every interval, from now on."""
        self._locked[reply.message_id] = _Running(chat_id, reply, model)
        self._saved[reply.message_id] = reply
        if not self._tasks or any(task.done() for task in self._tasks):
            for task in self._tasks:
                task.cancel()
            self._tasks = [
                asyncio.create_task(self._every_interval(self._renew_locks), name="lock-renewals"),
                asyncio.create_task(self._every_interval(self._save_all), name="partial-saves"),
            ]

    async def stop_saving(self, reply: ReplyState) -> None:
        """No more partial saves of the reply; returns once none is in flight."""
        self._saved.pop(reply.message_id, None)
        async with reply.saving:
            pass

    def untrack(self, reply: ReplyState) -> None:
        """No more lock renewals for the reply."""
        self._locked.pop(reply.message_id, None)
        self._saved.pop(reply.message_id, None)

    async def close(self) -> None:
        """Stop renewing and saving."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _every_interval(self, work: Callable[[], Awaitable[None]]) -> None:
        while self._locked:
            await asyncio.sleep(self._interval)
            await work()

    async def _renew_locks(self) -> None:
        running = list(self._locked.values())
        results = await asyncio.gather(
            *(self._heartbeat(r.chat_id, r.reply.message_id, r.model) for r in running),
            return_exceptions=True,
        )
        for entry, result in zip(running, results, strict=True):
            if isinstance(result, BrokerUnavailableError):  # renewed at the next tick
                logger.warning("lock of generation {} not renewed", entry.reply.message_id)
            elif isinstance(result, BaseException):
                logger.opt(exception=result).error("renewing a generation's lock failed")
            elif not result:
                logger.warning("generation {} lost its lock", entry.reply.message_id)

    async def _save_all(self) -> None:
        """Save every tracked reply not being saved already, in one store call.

        Saves refresh `updated_at`, which marks a reply as live (the per-user limit on
        concurrent replies, and the orphan checks of other processes), so every reply is saved
        each interval, changed or not.
        """
        async with AsyncExitStack() as held:
            replies = []
            for reply in list(self._saved.values()):
                if not reply.saving.locked():  # one already being saved is saved anyway
                    await held.enter_async_context(reply.saving)  # free: taken at once
                    replies.append(reply)
            if not replies:
                return
            try:
                await self._store.save_progress([(r.message_id, r.parts()) for r in replies])
            except Exception:  # the next interval tries again
                logger.exception("saving {} partial replies failed", len(replies))

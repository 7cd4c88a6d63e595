"""Batched writes to Redis: the commands issued in one event-loop tick share one round trip.

Offers `CommandBatcher`:
- `call(*command)`: queue a command; returns its reply once the batch carrying it has run.
- `call_script(script, keys, args)`: the same for a registered Lua script (EVALSHA).
- `close()`: wait until everything queued has been sent.

One batch is in flight at a time; what is queued meanwhile goes in the next one. So a command
is sent at the end of the tick it was issued in when Redis is idle, batches grow with the load
instead of the round trips, and commands reach Redis in the order they were issued (the order
of one chat's events). A batch runs as one MULTI/EXEC: atomic, so a script cache flush cannot
fall between two of its commands, and when Redis forgot a script (NOSCRIPT), none of the batch
ran and the whole batch is sent again after loading the scripts. A batch of one command is sent
alone (the case of a quiet server, where latency matters most).
"""

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis
from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError, ResponseError
from redis.typing import EncodableT

from src.lib import metrics


@dataclass(frozen=True, slots=True)
class _Call:
    command: tuple[EncodableT, ...]
    script: AsyncScript | None
    reply: asyncio.Future[Any]


class CommandBatcher:
    """Sends the commands queued in one event-loop tick together (see the module docstring)."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._queued: list[_Call] = []
        self._sender: asyncio.Task[None] | None = None

    async def call(self, *command: EncodableT) -> Any:
        """Run a command in the next batch.

        Args:
            *command: The command and its arguments.

        Returns:
            Its reply.

        Raises:
            RedisError: The command failed, or the batch could not be sent.
        """
        return await self._queue(command, None)

    async def call_script(
        self, script: AsyncScript, keys: Sequence[str], args: Sequence[EncodableT]
    ) -> Any:
        """Run a registered Lua script in the next batch.

        Args:
            script: The script (from `Redis.register_script`).
            keys: Its KEYS.
            args: Its ARGV.

        Returns:
            Its reply.

        Raises:
            RedisError: The script failed, or the batch could not be sent.
        """
        return await self._queue(("EVALSHA", script.sha, len(keys), *keys, *args), script)

    async def close(self) -> None:
        """Wait until every queued command has been sent."""
        if self._sender is not None:
            await asyncio.wait([self._sender])

    def _queue(self, command: tuple[EncodableT, ...], script: AsyncScript | None) -> Any:
        reply = asyncio.get_running_loop().create_future()
        self._queued.append(_Call(command, script, reply))
        if self._sender is None:
            # A task starts at the next iteration of the loop: the rest of this tick joins.
            self._sender = asyncio.create_task(self._send_queued(), name="redis-batcher")
        return reply

    async def _send_queued(self) -> None:
        try:
            while self._queued:
                batch, self._queued = self._queued, []
                try:
                    replies = await self._send(batch)
                except Exception as error:  # the callers get it; the next batch tries again
                    replies = [error] * len(batch)
                except asyncio.CancelledError:
                    for call in (*batch, *self._queued):
                        call.reply.cancel()
                    raise
                for call, reply in zip(batch, replies, strict=True):
                    if call.reply.done():  # the caller was cancelled
                        continue
                    if isinstance(reply, Exception):
                        call.reply.set_exception(reply)
                    else:
                        call.reply.set_result(reply)
        finally:
            self._sender = None

    async def _send(self, batch: list[_Call]) -> list[Any]:
        replies = await self._execute(batch)
        # Redis runs the rest of a transaction when one of its scripts is unknown: only the
        # calls refused are sent again (a script fails for all its calls or none, so the
        # order of each chat's publishes holds).
        refused = [i for i, reply in enumerate(replies) if isinstance(reply, NoScriptError)]
        if refused:
            for script in {s for i in refused if (s := batch[i].script) is not None}:
                metrics.REDIS_BATCH_ROUND_TRIPS.inc()
                await self._redis.script_load(script.script)
            retried = await self._execute([batch[i] for i in refused])
            for i, reply in zip(refused, retried, strict=True):
                replies[i] = reply
        return replies

    async def _execute(self, batch: list[_Call]) -> list[Any]:
        metrics.REDIS_BATCH_ROUND_TRIPS.inc()
        if len(batch) == 1:  # nothing to keep together: MULTI/EXEC would only cost time
            execute: Any = self._redis.execute_command  # unannotated in redis-py
            try:
                return [await execute(*batch[0].command)]
            except ResponseError as error:
                return [error]
        async with self._redis.pipeline(transaction=True) as pipe:
            for call in batch:
                pipe.execute_command(*call.command)
            return await pipe.execute(raise_on_error=False)

"""Database work awaited in a task of its own, for coroutine chains that live long.

SQLAlchemy's asyncio layer switches greenlets, and a greenlet switch gives every coroutine on
the current stack a frame object of its own (about 250 bytes each; Python 3.11+ otherwise keeps
a suspended coroutine's frame inside the coroutine). The frame object then lives as long as its
coroutine. A WebSocket's connection chain (uvicorn, the middleware, the router, the protocol
handler: some 25 coroutines) is suspended for as long as the socket is open, and an idle
subscription's chain for as long as it waits: work done on those stacks would cost each socket
and each watcher several KiB for its whole life. Awaited in a task of its own, the work runs on
a short stack that ends with it.

Offers `in_own_task`.
"""

import asyncio
from collections.abc import Awaitable


async def in_own_task[T](work: Awaitable[T]) -> T:
    """Await `work` in a new task (cancelled with the caller, in the caller's context).

    Args:
        work: The unit of work, not started yet (a coroutine).

    Returns:
        Its result.
    """
    return await asyncio.ensure_future(work)

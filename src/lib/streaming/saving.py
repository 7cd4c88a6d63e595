"""Final saves that outlast a short database outage.

Operations:
- FinalSaver.save: save a reply as it ended, retrying with backoff until a deadline.
- FinalSaver.retry_pending: save again, as FAILED, the replies whose final save gave up.

A reply whose final save gave up has been announced failed to its subscribers; it stays
pending here, text and all, and is saved FAILED as soon as the database answers again, so
nothing stays STREAMING while the server is healthy.
"""

import asyncio
import uuid
from dataclasses import replace

from loguru import logger

from src.core.enums import FinishReason, MessageStatus
from src.lib.streaming.store import FinalSave, ReplyStore

FIRST_RETRY_DELAY = 0.1
MAX_RETRY_DELAY = 5.0


class FinalSaver:
    """Saves replies as they end, through the store, with retries."""

    def __init__(self, store: ReplyStore, deadline: float) -> None:
        self.store = store
        self.deadline = deadline
        self._pending: dict[uuid.UUID, FinalSave] = {}

    @property
    def pending(self) -> int:
        """How many replies wait to be saved FAILED."""
        return len(self._pending)

    async def save(self, final: FinalSave) -> bool:
        """Save a reply, retrying until `deadline` seconds have passed; True when saved.

        When it gives up, the reply is kept for `retry_pending`, to be saved FAILED.
        """
        loop = asyncio.get_running_loop()
        give_up_at, delay = loop.time() + self.deadline, FIRST_RETRY_DELAY
        while True:
            try:
                await self._write(final)
                return True
            except Exception:  # the database is down or failing: wait and try again
                if loop.time() + delay > give_up_at:
                    logger.exception("saving reply {} failed; it is kept", final.message_id)
                    self._pending[final.message_id] = replace(
                        final, status=MessageStatus.FAILED, finish_reason=FinishReason.ERROR
                    )
                    return False
                logger.warning("saving reply {} failed; retrying", final.message_id)
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_RETRY_DELAY)

    async def retry_pending(self) -> None:
        """Try once more to save each reply whose final save gave up (as FAILED)."""
        for final in list(self._pending.values()):
            try:
                await self._write(final)
            except Exception:  # still failing: kept for the next round
                logger.warning("reply {} still cannot be saved", final.message_id)
                return
            del self._pending[final.message_id]
            logger.info("reply {} saved FAILED after its save had failed", final.message_id)

    async def _write(self, final: FinalSave) -> None:
        await self.store.save_final(final)

"""Final saves through a database outage: retried until a deadline, then kept as FAILED.

The store here fails on purpose for its first calls: a database that is down for exactly as
long as a test needs cannot be arranged for real, and the retry logic is what is checked.
"""

import uuid
from collections.abc import Sequence

from src.core.enums import FinishReason, MessageStatus
from src.lib.llm.tools.registry import SearchHit
from src.lib.streaming.saving import FinalSaver
from src.lib.streaming.store import FinalSave, PartialSave, StaleReply

PARTS = [{"type": "text", "text": "the whole reply"}]


class FlakyStore:
    """Records final saves; refuses the first `failures` of them like a database that is down."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.attempts = 0
        self.saved: dict[uuid.UUID, tuple[MessageStatus, FinishReason, str]] = {}

    async def save_final(self, final: FinalSave) -> None:
        self.attempts += 1
        if self.attempts <= self.failures:
            raise ConnectionRefusedError("the database is down")
        self.saved[final.message_id] = (final.status, final.finish_reason, final.parts[0]["text"])

    async def save_progress(self, replies: Sequence[PartialSave]) -> None:
        raise AssertionError("not used")

    async def stale_streaming(self, unsaved_for: float) -> list[StaleReply]:
        raise AssertionError("not used")

    async def interrupt(self, message_ids: list[uuid.UUID]) -> list[uuid.UUID]:
        raise AssertionError("not used")

    async def search_messages(
        self, user_id: uuid.UUID, query: str, limit: int
    ) -> Sequence[SearchHit]:
        raise AssertionError("not used")


def _final() -> FinalSave:
    return FinalSave(uuid.uuid4(), PARTS, MessageStatus.COMPLETE, FinishReason.STOP, None)


async def test_a_save_is_retried_through_a_short_outage() -> None:
    store = FlakyStore(failures=3)
    final = _final()

    assert await FinalSaver(store, deadline=10).save(final)

    assert store.saved == {
        final.message_id: (MessageStatus.COMPLETE, FinishReason.STOP, "the whole reply")
    }
    assert store.attempts == 4


async def test_a_save_that_gives_up_is_saved_failed_when_the_database_is_back() -> None:
    store = FlakyStore(failures=1_000)
    saver, final = FinalSaver(store, deadline=0.3), _final()

    assert not await saver.save(final)
    assert saver.pending == 1
    await saver.retry_pending()  # still down
    assert (saver.pending, store.saved) == (1, {})

    store.failures = 0
    await saver.retry_pending()

    assert saver.pending == 0
    assert store.saved == {
        final.message_id: (MessageStatus.FAILED, FinishReason.ERROR, "the whole reply")
    }

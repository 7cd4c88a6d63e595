"""Start-up recovery: replies left STREAMING by a crash become INTERRUPTED, text kept.

With several processes sharing the broker, only replies whose generation has no live owner
(its lock expired) are touched: a starting process never interrupts another's live reply.
"""

from loguru import logger

from src.lib.db.repositories.reply import ReplyRepository
from src.lib.db.session import SessionFactory
from src.lib.streaming.broker import Broker


async def recover_interrupted_replies(session_factory: SessionFactory, broker: Broker) -> int:
    """Mark orphaned STREAMING replies INTERRUPTED; returns how many."""
    async with session_factory.begin() as db:
        streaming = await ReplyRepository.streaming(db)
        orphans = []
        for message_id, chat_id in streaming:
            active = await broker.active_generation(chat_id)
            if active is None or active.message_id != message_id:
                orphans.append(message_id)
        if orphans:
            await ReplyRepository.interrupt(db, orphans)
    if orphans:
        logger.warning("recovered {} replies left streaming", len(orphans))
    return len(orphans)

"""Decisions on tool calls that wait for the chat owner's approval.

Operations:
- ApprovalService.decide: hand the owner's decision to the reply that waits for it, on
  whichever process runs it.
"""

import uuid

from src.api.runtime import Runtime
from src.core.exceptions import NotFoundError, ValidationError
from src.lib.db.models import User
from src.lib.db.repositories.chat import ChatRepository
from src.lib.db.repositories.message import MessageRepository
from src.lib.llm.approval import ToolDecision
from src.lib.parts import awaiting_approval

MAX_REASON_CHARS = 2_000


class ApprovalService:
    """Decisions on waiting tool calls, on behalf of a chat's owner."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def decide(self, user: User, chat_id: uuid.UUID, decision: ToolDecision) -> bool:
        """Hand the decision to the chat's running reply; True when the call was waiting.

        The running reply is saved with the call AWAITING_APPROVAL before it is announced, and
        with its new state as soon as it is decided, so a call that is not (or no longer)
        waiting gets False.

        Raises:
            NotFoundError: The user does not own the chat.
            ValidationError: The reason is too long.
        """
        if decision.reason is not None and len(decision.reason) > MAX_REASON_CHARS:
            raise ValidationError(
                f"A reason may hold at most {MAX_REASON_CHARS} characters.", field="reason"
            )
        async with self.runtime.session_factory() as db:
            if await ChatRepository.get_owned(db, chat_id, user.id) is None:
                raise NotFoundError()
        active = await self.runtime.broker.active_generation(chat_id)
        if active is None:
            return False
        async with self.runtime.session_factory() as db:
            message = await MessageRepository.get(db, active.message_id)
        waiting = awaiting_approval(message.parts) if message is not None else []
        if not any(part["tool_call_id"] == decision.tool_call_id for part in waiting):
            return False
        await self.runtime.generations.decide(chat_id, active.message_id, decision)
        return True

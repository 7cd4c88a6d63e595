"""The tool calls of one reply that wait for the chat owner's decision.

Offers `ApprovalGate`. The generation manager makes one per reply: the agent loop asks it to
`request` a decision (the call is saved as AWAITING_APPROVAL and `ToolApprovalRequested` is
published, so watchers and reconnecting clients learn of it from the event log) and then
`wait`s for it; decisions arrive through the broker, from any process, and are handed to
`decide`. No decision within the timeout counts as declined. The wait holds no database
connection: the reply is saved before and after it, in short transactions of their own.
"""

import asyncio
from collections.abc import Awaitable, Callable

from loguru import logger

from src.core.enums import ToolCallState
from src.lib.llm.approval import ToolDecision
from src.lib.llm.types import ToolCallRequest
from src.lib.parts import tool_call_part
from src.lib.streaming.events import StreamEvent, ToolApprovalRequested, ToolCallEvent
from src.lib.streaming.reply import ReplyState


class ApprovalGate:
    """Holds a reply's tool calls until their owner decides (see the module docstring)."""

    def __init__(
        self,
        reply: ReplyState,
        timeout: float,
        publish: Callable[[StreamEvent], Awaitable[None]],
        save: Callable[[], Awaitable[None]],
    ) -> None:
        """Prepare the gate of one reply.

        Args:
            reply: The reply's parts and seq.
            timeout: Seconds a call waits before it counts as declined.
            publish: Publishes an event of the reply.
            save: Saves the reply's parts so far (never raises).
        """
        self.reply = reply
        self.timeout = timeout
        self._publish = publish
        self._save = save
        self._waiting: dict[str, asyncio.Future[ToolDecision]] = {}

    async def request(self, call: ToolCallRequest) -> None:
        """Announce a call that waits: its part (AWAITING_APPROVAL), ToolCallEvent, the request.

        The call takes decisions from the start, before anything tells that it waits, and is
        saved before the request is published: a client that sees the request can decide.
        """
        self._waiting[call.id] = asyncio.get_running_loop().create_future()
        reply = self.reply
        reply.add_part(
            tool_call_part(call.id, call.name, call.arguments, ToolCallState.AWAITING_APPROVAL)
        )
        message_id = reply.message_id
        await self._publish(
            ToolCallEvent(reply.take_seq(), message_id, call.id, call.name, call.arguments)
        )
        await self._save()
        await self._publish(
            ToolApprovalRequested(reply.take_seq(), message_id, call.id, call.name, call.arguments)
        )

    def decide(self, decision: ToolDecision) -> bool:
        """Hand a decision to the call it names; False when that call does not wait (now)."""
        waiting = self._waiting.get(decision.tool_call_id)
        if waiting is None or waiting.done():
            logger.info("decision on tool call {} that does not wait", decision.tool_call_id)
            return False
        waiting.set_result(decision)
        return True

    async def wait(self, call: ToolCallRequest) -> ToolDecision:
        """The decision on a requested call, or a decline when none came within the timeout.

        The call's state becomes RUNNING or DECLINED (saved at once); DECLINED too when the
        wait is cancelled (the reply was stopped).
        """
        try:
            async with asyncio.timeout(self.timeout):
                decision = await self._waiting[call.id]
        except TimeoutError:
            decision = ToolDecision(call.id, False, f"no decision within {self.timeout:g} seconds")
        except asyncio.CancelledError:
            self.reply.set_tool_state(call.id, ToolCallState.DECLINED)
            raise
        finally:
            del self._waiting[call.id]
        state = ToolCallState.RUNNING if decision.approve else ToolCallState.DECLINED
        self.reply.set_tool_state(call.id, state)
        await self._save()
        return decision

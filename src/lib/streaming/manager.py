"""The generation manager: runs each reply as a task of its own, apart from any subscriber.

Operations:
- reserve / release: the chat's one-generation lock, taken before anything is saved.
- launch: publish StreamStarted and start the agent loop in a task.
- stop: ask the chat's running generation to stop, wherever it runs (through the broker).
- decide: hand the owner's decision on a waiting tool call to the generation, wherever it runs.
- shutdown: give local generations a grace period, then stop the rest (saved INTERRUPTED).
- start: close the replies left by dead processes (see `orphans`), then keep doing so every
  third of a lock TTL, and retry the final saves that gave up (see `saving`).
- close_orphans: one such pass.
- broker_for: the broker to follow a reply on (in memory while it runs here).

The owner's devices hear of each reply on the user events (GenerationStarted when its task
begins, GenerationEnded once it is saved and its end published); after a COMPLETE reply the
`TitleWriter`, when given, titles a chat that waited for a title when the reply started
(`GenerationRequest.title_pending`), in a task of its own that `shutdown` cancels.

A generation publishes every event through the `Fanout` (this process's subscribers from
memory, the others through the broker); its lock is renewed and its partial reply saved every
`flush_interval` seconds, with those of all other running replies (see `upkeep`). It ends by
saving the message (COMPLETE, INTERRUPTED on stop, FAILED on provider error; retried through a
database outage) before publishing its terminal event, so a subscriber that sees
StreamFinished can read the final message. The calls of tools named in `approval_tools` wait
for the owner's decision (see `approvals.ApprovalGate`).
"""

import asyncio
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial

from loguru import logger

from src.core.enums import FinishReason, MessageStatus, ToolCallState
from src.lib import metrics
from src.lib.llm.agent import AgentFinished, ToolCallFinished, ToolCallStarted, run_agent
from src.lib.llm.approval import Approvals, ToolDecision
from src.lib.llm.provider import Provider, ProviderError
from src.lib.llm.tools.registry import ToolContext, ToolRegistry
from src.lib.llm.types import ChatMessage, GenerationOptions, TextChunk, Usage
from src.lib.parts import text_of, tool_call_part
from src.lib.streaming.approvals import ApprovalGate
from src.lib.streaming.broker import Broker, BrokerUnavailableError
from src.lib.streaming.events import (
    StreamFailed,
    StreamFinished,
    StreamStarted,
    TextDelta,
    ToolCallEvent,
    ToolResultEvent,
)
from src.lib.streaming.fanout import Fanout
from src.lib.streaming.orphans import OrphanCloser
from src.lib.streaming.reply import ReplyState
from src.lib.streaming.saving import FinalSaver
from src.lib.streaming.store import FinalSave, ReplyStore
from src.lib.streaming.titles import TitleRequest, TitleWriter
from src.lib.streaming.upkeep import ReplyUpkeep
from src.lib.streaming.user_events import GenerationEnded, GenerationStarted

INTERNAL_FAILURE = ("INTERNAL_ERROR", "Something went wrong while writing the reply.")
UNSAVED_FAILURE = ("INTERNAL_ERROR", "The reply could not be saved.")


class GenerationBusyError(Exception):
    """The chat already has a running generation."""


@dataclass(frozen=True, slots=True)
class GenerationRequest:
    """Everything a generation needs, prepared by the caller."""

    chat_id: uuid.UUID
    user_id: uuid.UUID
    message_id: uuid.UUID
    user_message_id: uuid.UUID | None
    model: str
    provider: Provider
    history: list[ChatMessage]
    tool_names: list[str] | None
    options: GenerationOptions
    approval_tools: frozenset[str] = frozenset()
    title_pending: bool = False
    """Whether the chat waited for the model's title when the reply started."""


@dataclass(frozen=True, slots=True)
class _Outcome:
    status: MessageStatus
    finish_reason: FinishReason
    usage: Usage | None = None
    error: tuple[str, str] | None = None


_CANCELLED = _Outcome(MessageStatus.INTERRUPTED, FinishReason.CANCELLED)


def _finished_state(event: ToolCallFinished) -> ToolCallState:
    if event.declined:
        return ToolCallState.DECLINED
    return ToolCallState.ERROR if event.is_error else ToolCallState.DONE


class GenerationManager:
    """Starts, stops and supervises the generations of this process."""

    def __init__(
        self,
        broker: Broker,
        store: ReplyStore,
        tools: ToolRegistry,
        *,
        max_steps: int,
        tool_timeout: float,
        flush_interval: float,
        save_deadline: float,
        approval_timeout: float = 600.0,
        titles: TitleWriter | None = None,
    ) -> None:
        self.broker = broker
        self.titles = titles
        self.store = store
        self.tools = tools
        self.max_steps = max_steps
        self.tool_timeout = tool_timeout
        self.flush_interval = flush_interval
        self.approval_timeout = approval_timeout
        self.fanout = Fanout(broker)
        self.saver = FinalSaver(store, save_deadline)
        self.orphans = OrphanCloser(broker, store)
        self.upkeep = ReplyUpkeep(store, self.fanout.heartbeat, flush_interval)
        self._running: dict[uuid.UUID, asyncio.Task[None]] = {}
        self._maintenance: asyncio.Task[None] | None = None

    async def reserve(self, chat_id: uuid.UUID, message_id: uuid.UUID, model: str) -> None:
        """Take the chat's generation lock for a new reply.

        Raises:
            GenerationBusyError: Another generation is running in the chat.
        """
        if not await self.fanout.reserve(chat_id, message_id, model):
            raise GenerationBusyError(str(chat_id))

    async def release(self, chat_id: uuid.UUID, message_id: uuid.UUID) -> None:
        """Give the lock back without generating (the reply could not be set up)."""
        await self.fanout.release(chat_id, message_id)

    async def launch(self, request: GenerationRequest) -> None:
        """Publish StreamStarted, then generate in a task of its own."""
        reply = ReplyState(request.message_id)
        await self.fanout.publish(
            request.chat_id,
            StreamStarted(
                seq=reply.take_seq(),
                chat_id=request.chat_id,
                assistant_message_id=request.message_id,
                user_message_id=request.user_message_id,
                model=request.model,
            ),
        )
        message_id = request.message_id
        run = metrics.observe_generation(
            partial(self._run, request, reply), str(message_id), request.model
        )
        task = asyncio.create_task(run, name=f"generation-{message_id}")
        self._running[message_id] = task
        task.add_done_callback(lambda _: self._running.pop(message_id, None))

    def broker_for(self, message_id: uuid.UUID) -> Broker:
        """The broker to follow a reply on: in memory while it runs in this process."""
        return self.fanout.broker_for(message_id in self._running)

    async def stop(self, chat_id: uuid.UUID) -> bool:
        """Ask the chat's running generation to stop; True when one was running."""
        return await self.broker.request_stop(chat_id)

    async def decide(
        self, chat_id: uuid.UUID, message_id: uuid.UUID, decision: ToolDecision
    ) -> None:
        """Hand a decision to the generation `message_id`, wherever it runs (through the broker)."""
        await self.broker.send_decision(chat_id, message_id, decision)

    async def start(self) -> None:
        """Close the orphaned replies now, then keep watching for them in a task."""
        await self._maintain_once()
        self._maintenance = asyncio.create_task(self._maintain(), name="generation-maintenance")

    async def close_orphans(self) -> int:
        """Close the replies whose generation died with its process; returns how many."""
        return await self.orphans.close(self._running.keys())

    async def shutdown(self, grace: float = 0) -> None:
        """Let running generations finish for up to `grace` seconds, then stop the rest.

        Either way each one has saved its reply (COMPLETE, or INTERRUPTED) when this returns.
        """
        if self._maintenance is not None:
            self._maintenance.cancel()
            await asyncio.gather(self._maintenance, return_exceptions=True)
        tasks = list(self._running.values())
        if tasks and grace > 0:
            await asyncio.wait(tasks, timeout=grace)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self.titles is not None:
            await self.titles.close()
        await self.upkeep.close()

    async def _maintain(self) -> None:
        while True:
            await asyncio.sleep(self.broker.lock_ttl / 3)
            await self._maintain_once()

    async def _maintain_once(self) -> None:
        try:
            await self.saver.retry_pending()
            await self.close_orphans()
        except BrokerUnavailableError:  # said once per failed call by the broker
            logger.warning("orphaned replies are looked for again once the broker answers")
        except Exception:  # the database is down: the next round tries again
            logger.exception("closing orphaned replies failed")

    async def _run(self, request: GenerationRequest, reply: ReplyState) -> None:
        # The lock is renewed until the reply is saved and its end published: a final save
        # that waits for the database must not let another process take the reply for dead.
        self.upkeep.track(request.chat_id, reply, request.model)
        outcome = _CANCELLED
        chat_id, message_id = request.chat_id, request.message_id
        gate = ApprovalGate(
            reply,
            self.approval_timeout,
            partial(self.fanout.publish, chat_id),
            partial(self._save_progress, request, reply),
        )
        try:
            started = GenerationStarted(
                request.chat_id, request.message_id, request.model, datetime.now(UTC)
            )
            await self.broker.user_events.announce(request.user_id, started)
            async with (
                self.broker.stop_requests(chat_id, message_id) as stop,
                self.broker.decisions(chat_id, message_id, gate.decide),
            ):
                outcome = await self._generate_until_stopped(request, reply, stop, gate)
        finally:
            try:
                await self._finish(request, reply, outcome)
            finally:
                self.upkeep.untrack(reply)

    async def _generate_until_stopped(
        self, request: GenerationRequest, reply: ReplyState, stop: asyncio.Event, gate: ApprovalGate
    ) -> _Outcome:
        generate = asyncio.create_task(self._generate(request, reply, gate))
        stopped = asyncio.create_task(stop.wait())
        try:
            await asyncio.wait({generate, stopped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (generate, stopped):
                if not task.done():
                    task.cancel()
            await asyncio.gather(generate, stopped, return_exceptions=True)
        if generate.cancelled():
            return _CANCELLED
        return generate.result()

    async def _generate(
        self, request: GenerationRequest, reply: ReplyState, gate: ApprovalGate
    ) -> _Outcome:
        context = ToolContext(
            user_id=request.user_id,
            search_messages=partial(self.store.search_messages, request.user_id),
        )
        chat_id, message_id, publish = request.chat_id, request.message_id, self.fanout.publish
        try:
            async for event in run_agent(
                request.provider,
                request.model,
                request.history,
                self.tools,
                request.tool_names,
                context,
                request.options,
                self.max_steps,
                self.tool_timeout,
                Approvals(request.approval_tools, gate.wait),
            ):
                if isinstance(event, TextChunk):
                    reply.add_text(event.text)
                    await publish(chat_id, TextDelta(reply.take_seq(), message_id, event.text))
                elif isinstance(event, AgentFinished):
                    return _Outcome(
                        MessageStatus.COMPLETE, FinishReason(event.finish_reason), event.usage
                    )
                elif isinstance(event, ToolCallStarted) and event.needs_approval:
                    await gate.request(event.call)
                else:
                    await publish(chat_id, self._tool_event(event, reply, message_id))
        except ProviderError as error:
            metrics.PROVIDER_ERRORS.labels(error.code).inc()
            return _Outcome(
                MessageStatus.FAILED, FinishReason.ERROR, error=(error.code, error.user_message)
            )
        except Exception:  # any fault ends this reply, not the server
            logger.exception("generation {} failed", message_id)
            return _Outcome(MessageStatus.FAILED, FinishReason.ERROR, error=INTERNAL_FAILURE)
        logger.error("generation {} ended without a finish event", message_id)
        return _Outcome(MessageStatus.FAILED, FinishReason.ERROR, error=INTERNAL_FAILURE)

    @staticmethod
    def _tool_event(
        event: ToolCallStarted | ToolCallFinished, reply: ReplyState, message_id: uuid.UUID
    ) -> ToolCallEvent | ToolResultEvent:
        call = event.call
        if isinstance(event, ToolCallStarted):
            reply.add_part(
                tool_call_part(call.id, call.name, call.arguments, ToolCallState.RUNNING)
            )
            return ToolCallEvent(reply.take_seq(), message_id, call.id, call.name, call.arguments)
        reply.set_tool_state(call.id, _finished_state(event))
        reply.add_part(
            {
                "type": "tool_result",
                "tool_call_id": call.id,
                "tool_name": call.name,
                "result": event.result,
                "is_error": event.is_error,
            }
        )
        return ToolResultEvent(
            reply.take_seq(), message_id, call.id, call.name, event.result, event.is_error
        )

    async def _save_progress(self, request: GenerationRequest, reply: ReplyState) -> None:
        """Save the partial reply now; a failure is logged (the next flush tries again)."""
        try:
            async with reply.saving:
                await self.store.save_progress([(request.message_id, reply.parts())])
        except Exception:  # a failed flush is retried at the next tick
            logger.exception("flush of generation {} failed", request.message_id)

    async def _finish(
        self, request: GenerationRequest, reply: ReplyState, outcome: _Outcome
    ) -> None:
        usage = (
            {
                "input_tokens": outcome.usage.input_tokens,
                "output_tokens": outcome.usage.output_tokens,
            }
            if outcome.usage
            else None
        )
        await self.upkeep.stop_saving(reply)
        final = FinalSave(
            request.message_id, reply.parts(), outcome.status, outcome.finish_reason, usage
        )
        if not await self.saver.save(final):  # the subscribers must still hear the end
            outcome = _Outcome(MessageStatus.FAILED, FinishReason.ERROR, error=UNSAVED_FAILURE)
        reply.meter.finished(outcome.status.value)
        seq, message_id = reply.take_seq(), request.message_id
        terminal = (
            StreamFailed(seq, message_id, *outcome.error)
            if outcome.error
            else StreamFinished(seq, message_id, outcome.finish_reason.value, usage)
        )
        try:
            await self.fanout.publish(request.chat_id, terminal, last=True)
        finally:
            await self.fanout.finish(request.chat_id, message_id)
        await self._ended(request, reply, outcome)

    async def _ended(
        self, request: GenerationRequest, reply: ReplyState, outcome: _Outcome
    ) -> None:
        """Tell the owner's devices that the reply ended; have a completed one's chat titled."""
        ended = GenerationEnded(
            request.chat_id, request.message_id, outcome.status, outcome.finish_reason
        )
        await self.broker.user_events.announce(request.user_id, ended)
        if (
            self.titles is not None
            and request.title_pending
            and outcome.status == MessageStatus.COMPLETE
        ):
            question = next((m.content for m in reversed(request.history) if m.role == "user"), "")
            answer = text_of(reply.parts())
            self.titles.schedule(
                TitleRequest(
                    request.chat_id, request.user_id, request.model, question or "", answer
                )
            )

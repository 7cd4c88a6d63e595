"""The agent loop: stream a model, run the tools it asks for, feed the results back, repeat.

Offers:
- run_agent: the loop, as an async generator of `AgentEvent`s.
- ToolCallStarted, ToolCallFinished, AgentFinished, AgentEvent: what it yields (with TextChunk).
- MAX_RESULT_CHARS: the largest tool result (as JSON) given back to a model.

A step is one provider call. When a step ends asking for tools, the calls are announced
(`ToolCallStarted`), run concurrently, each within `tool_timeout` seconds, and reported in the
order asked (`ToolCallFinished`); the assistant message with the calls and one tool message per
result are added to the conversation, and the next step starts. A tool that is unknown or not
offered, arguments that are not a JSON object, a timeout, a `ToolError` or any other exception
all give an error result `{"error": message}` with `is_error` True, and the loop goes on. A call
of a tool named in `approvals` (and offered) is announced with `needs_approval` and waits for the
owner's decision before it runs; a declined call gets the error result `declined_message` with
`declined` True, and the loop goes on too. After
`max_steps` steps the loop ends with TOOL_LIMIT (the last step's tools are still run, so every
saved call has its result). `ProviderError` and cancellation propagate; the caller keeps what
was yielded.
"""

import asyncio
import json
from collections.abc import AsyncGenerator, Callable, Coroutine
from contextlib import aclosing
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal

from loguru import logger

from src.lib import metrics, tracing
from src.lib.llm.approval import Approvals, declined_message
from src.lib.llm.provider import Provider, ProviderError
from src.lib.llm.tools.registry import ToolContext, ToolError, ToolRegistry
from src.lib.llm.types import (
    RAW_ARGUMENTS_KEY,
    ChatMessage,
    GenerationOptions,
    ProviderFinish,
    TextChunk,
    ToolCallRequest,
    ToolSpec,
    Usage,
    tool_message,
)

MAX_RESULT_CHARS = 64_000


@dataclass(frozen=True, slots=True)
class ToolCallStarted:
    """The model asked for a tool call, about to run (or to wait for approval first)."""

    call: ToolCallRequest
    needs_approval: bool = False


@dataclass(frozen=True, slots=True)
class ToolCallFinished:
    """A tool call's result (`{"error": message}` when `is_error`; also when `declined`)."""

    call: ToolCallRequest
    result: Any
    is_error: bool
    declined: bool = False


@dataclass(frozen=True, slots=True)
class AgentFinished:
    """The last event: why the loop ended and the usage summed over its steps."""

    finish_reason: Literal["STOP", "LENGTH", "TOOL_LIMIT"]
    usage: Usage | None


AgentEvent = TextChunk | ToolCallStarted | ToolCallFinished | AgentFinished


def _error(call: ToolCallRequest, message: str) -> ToolCallFinished:
    return ToolCallFinished(call, {"error": message}, is_error=True)


async def _run_tool(
    tools: ToolRegistry,
    offered: set[str],
    context: ToolContext,
    tool_timeout: float,
    call: ToolCallRequest,
) -> ToolCallFinished:
    """Run one call; every failure becomes an error result."""
    tool = tools.get(call.name) if call.name in offered else None
    if tool is None:
        return _error(call, f"Unknown tool: {call.name}")
    if RAW_ARGUMENTS_KEY in call.arguments:
        return _error(call, "The arguments were not a valid JSON object")
    try:
        async with asyncio.timeout(tool_timeout):
            result = await tool.run(call.arguments, context)
    except TimeoutError:
        return _error(call, f"The tool did not answer within {tool_timeout:g} seconds")
    except ToolError as error:
        return _error(call, str(error) or "The tool failed")
    except Exception:
        logger.exception("Tool {} failed", call.name)
        return _error(call, "The tool failed")
    return _checked_result(call, result)


def _checked_result(call: ToolCallRequest, result: Any) -> ToolCallFinished:
    """The result, or an error result when it is not JSON or larger than MAX_RESULT_CHARS."""
    try:
        size = len(json.dumps(result, allow_nan=False))
    except (TypeError, ValueError):
        return _error(call, "The tool returned a result that is not JSON")
    if size > MAX_RESULT_CHARS:
        return _error(call, "The tool's result was too large")
    return ToolCallFinished(call, result, is_error=False)


async def _run_once_approved(
    run: Callable[[ToolCallRequest], Coroutine[Any, Any, ToolCallFinished]],
    approvals: Approvals,
    call: ToolCallRequest,
) -> ToolCallFinished:
    """Wait for the owner's decision, then run the call or give the declined result."""
    decision = await approvals.wait(call)
    if not decision.approve:
        message = declined_message(decision.reason)
        return ToolCallFinished(call, {"error": message}, is_error=True, declined=True)
    return await run(call)


async def _run_tools(
    run: Callable[[ToolCallRequest], Coroutine[Any, Any, ToolCallFinished]],
    calls: list[ToolCallStarted],
    approvals: Approvals | None,
) -> list[ToolCallFinished]:
    """Run calls concurrently (each once approved, if it needs it); results in call order."""
    async with asyncio.TaskGroup() as group:
        tasks = [
            group.create_task(
                _run_once_approved(run, approvals, started.call)
                if approvals is not None and started.needs_approval
                else run(started.call)
            )
            for started in calls
        ]
    return [task.result() for task in tasks]


def _add(total: Usage | None, usage: Usage | None) -> Usage | None:
    if total is None or usage is None:
        return total or usage
    return total + usage


async def run_agent(
    provider: Provider,
    model: str,
    messages: list[ChatMessage],
    tools: ToolRegistry,
    tool_names: list[str] | None,
    context: ToolContext,
    options: GenerationOptions,
    max_steps: int,
    tool_timeout: float,
    approvals: Approvals | None = None,
) -> AsyncGenerator[AgentEvent, None]:
    """Run the agent loop (see the module docstring).

    Args:
        provider: The provider of `model`.
        model: The model id.
        messages: The conversation so far (left unchanged; the loop extends a copy).
        tools: The registry to offer tools from.
        tool_names: The tools offered; None for all, an empty list for none.
        context: Given to every tool call.
        options: Sampling options, for every step.
        max_steps: The most provider calls.
        tool_timeout: Seconds allowed for each tool call (not counting a wait for approval).
        approvals: The tools whose calls wait for the owner's decision; None: none do.

    Yields:
        TextChunk, ToolCallStarted and ToolCallFinished events, then one AgentFinished.

    Raises:
        ProviderError: A provider call failed (or ended without a finish event).
        UnknownToolError: `tool_names` names a tool that is not registered.
    """
    specs: list[ToolSpec] = tools.specs(tool_names)
    offered = {spec.name for spec in specs}
    gated = offered & approvals.tools if approvals is not None else set()

    def run(call: ToolCallRequest) -> Coroutine[Any, Any, ToolCallFinished]:
        execute = partial(_run_tool, tools, offered, context, tool_timeout, call)
        return metrics.observe_tool(call.name, offered, execute)

    conversation = list(messages)
    usage: Usage | None = None
    for _ in range(max_steps):
        texts: list[str] = []
        calls: list[ToolCallRequest] = []
        finish: ProviderFinish | None = None
        async with (
            aclosing(provider.stream(model, conversation, specs, options)) as events,
            tracing.side_span("chat.provider_call", {"chat.model": model}),
        ):
            async for event in events:
                if isinstance(event, TextChunk):
                    texts.append(event.text)
                    yield event
                elif isinstance(event, ToolCallRequest):
                    calls.append(event)
                else:
                    finish = event
        if finish is None:
            raise ProviderError("PROVIDER_BAD_RESPONSE")
        usage = _add(usage, finish.usage)
        if finish.reason != "tool_calls" or not calls:
            yield AgentFinished("LENGTH" if finish.reason == "length" else "STOP", usage)
            return
        started = [ToolCallStarted(call, call.name in gated) for call in calls]
        for announced in started:
            yield announced
        conversation.append(ChatMessage("assistant", "".join(texts) or None, calls))
        for finished in await _run_tools(run, started, approvals):
            yield finished
            conversation.append(tool_message(finished.call.id, finished.call.name, finished.result))
    yield AgentFinished("TOOL_LIMIT", usage)

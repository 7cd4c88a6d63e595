"""The agent loop with the demo provider and with a real loopback OpenAI-compatible server."""

import asyncio
import json
from typing import Any

import pytest

from src.lib.llm.agent import (
    AgentEvent,
    AgentFinished,
    ToolCallFinished,
    ToolCallStarted,
    run_agent,
)
from src.lib.llm.approval import Approvals, ToolDecision
from src.lib.llm.demo import DemoProvider
from src.lib.llm.openai_compat import OpenAICompatProvider
from src.lib.llm.provider import Provider, ProviderError
from src.lib.llm.tools import (
    CalculatorTool,
    CurrentTimeTool,
    Tool,
    ToolContext,
    ToolError,
    ToolRegistry,
    default_registry,
)
from src.lib.llm.types import ChatMessage, GenerationOptions, TextChunk, ToolCallRequest, Usage
from tests.helpers import wait_until
from tests.lib.llm.chat_server import ChatServer, text_reply, tool_reply
from tests.lib.llm.helpers import collect

NO_OPTIONS = GenerationOptions()


class SlowCalculator(CalculatorTool):
    """A calculator that does not answer within a test; `started` is set once it runs."""

    def __init__(self) -> None:
        self.started = asyncio.Event()

    async def run(self, arguments: dict[str, Any], context: ToolContext) -> Any:
        self.started.set()
        await asyncio.sleep(30)


class BrokenClock(CurrentTimeTool):
    def __init__(self, error: Exception) -> None:
        self.error = error

    async def run(self, arguments: dict[str, Any], context: ToolContext) -> Any:
        raise self.error


class OddCalculator(CalculatorTool):
    def __init__(self, result: Any) -> None:
        self.result = result

    async def run(self, arguments: dict[str, Any], context: ToolContext) -> Any:
        return self.result


def registry(*tools: Tool) -> ToolRegistry:
    result = ToolRegistry()
    for tool in tools:
        result.register(tool)
    return result


async def agent(
    text: str,
    context: ToolContext,
    *,
    provider: Provider | None = None,
    tools: ToolRegistry | None = None,
    tool_names: list[str] | None = None,
    max_steps: int = 5,
    tool_timeout: float = 5,
    approvals: Approvals | None = None,
) -> list[AgentEvent]:
    return await collect(
        run_agent(
            provider or DemoProvider(),
            "test-model" if provider else "demo",
            [ChatMessage("system", "You help."), ChatMessage("user", text)],
            tools or default_registry(),
            tool_names,
            context,
            NO_OPTIONS,
            max_steps,
            tool_timeout,
            approvals,
        )
    )


def text_of(events: list[AgentEvent]) -> str:
    return "".join(event.text for event in events if isinstance(event, TextChunk))


def finished(events: list[AgentEvent]) -> list[ToolCallFinished]:
    return [event for event in events if isinstance(event, ToolCallFinished)]


async def test_demo_round_trip_runs_the_tool_and_answers_with_its_result(
    context: ToolContext,
) -> None:
    events = await agent("What is (2 + 3) * 4?", context)

    call = ToolCallRequest("call_demo_1", "calculator", {"expression": "(2 + 3) * 4"})
    kinds = [type(event) for event in events]
    started_at = kinds.index(ToolCallStarted)
    assert set(kinds[:started_at]) == {TextChunk}
    assert events[started_at : started_at + 2] == [
        ToolCallStarted(call),
        ToolCallFinished(call, {"expression": "(2 + 3) * 4", "result": 20}, is_error=False),
    ]
    assert '"result": 20' in text_of(events[started_at:])
    last = events[-1]
    assert isinstance(last, AgentFinished)
    assert last.finish_reason == "STOP"
    # summed over both steps: every chunk streamed; the first step's 9 input words, and more
    assert last.usage is not None
    assert last.usage.output_tokens == kinds.count(TextChunk)
    assert last.usage.input_tokens > 2 * 9


async def test_parallel_calls_are_reported_in_the_order_asked(context: ToolContext) -> None:
    events = await agent("Time in Europe/Paris and 6 * 7?", context)

    assert [event.call.name for event in finished(events)] == ["current_time", "calculator"]
    assert [event.is_error for event in finished(events)] == [False, False]


async def test_a_tool_that_times_out_gives_an_error_result_and_the_loop_goes_on(
    context: ToolContext,
) -> None:
    events = await agent("1 + 1", context, tools=registry(SlowCalculator()), tool_timeout=0.05)

    [result] = finished(events)
    assert result.is_error
    assert result.result == {"error": "The tool did not answer within 0.05 seconds"}
    assert "did not answer" in text_of(events)
    assert events[-1] == AgentFinished("STOP", events[-1].usage)  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (ToolError("The clock is broken"), "The clock is broken"),
        (RuntimeError("secret internals"), "The tool failed"),
    ],
)
async def test_a_failing_tool_gives_an_error_result(
    context: ToolContext, error: Exception, message: str
) -> None:
    events = await agent("What time is it?", context, tools=registry(BrokenClock(error)))

    [result] = finished(events)
    assert (result.result, result.is_error) == ({"error": message}, True)
    assert isinstance(events[-1], AgentFinished)
    assert events[-1].finish_reason == "STOP"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({1, 2}, "The tool returned a result that is not JSON"),
        (float("nan"), "The tool returned a result that is not JSON"),
        ("x" * 100_000, "The tool's result was too large"),
    ],
)
async def test_a_result_that_is_not_json_or_too_large_is_an_error(
    context: ToolContext, value: Any, message: str
) -> None:
    events = await agent("2 * 2", context, tools=registry(OddCalculator(value)))

    [result] = finished(events)
    assert (result.result, result.is_error) == ({"error": message}, True)


async def test_tool_limit_after_max_steps_still_runs_the_last_tools(
    context: ToolContext,
) -> None:
    events = await agent("What time is it?", context, max_steps=1)

    [result] = finished(events)
    assert not result.is_error
    assert isinstance(events[-1], AgentFinished)
    assert events[-1].finish_reason == "TOOL_LIMIT"


async def test_tool_names_restrict_the_tools_offered(context: ToolContext) -> None:
    events = await agent("What time is it, and 2 + 2?", context, tool_names=["calculator"])

    assert [event.call.name for event in finished(events)] == ["calculator"]


async def test_no_tools_offered_means_no_calls(context: ToolContext) -> None:
    events = await agent("What time is it?", context, tool_names=[])

    assert finished(events) == []
    assert isinstance(events[-1], AgentFinished)
    assert events[-1].finish_reason == "STOP"


async def test_length_ends_the_loop(context: ToolContext) -> None:
    events = await collect(
        run_agent(
            DemoProvider(),
            "demo",
            [ChatMessage("user", "hello")],
            default_registry(),
            None,
            context,
            GenerationOptions(max_output_tokens=2),
            5,
            5,
        )
    )

    assert len(events) == 3
    assert events[-1] == AgentFinished("LENGTH", Usage(1, 2))


async def test_provider_error_propagates_after_the_text(context: ToolContext) -> None:
    events: list[AgentEvent] = []
    with pytest.raises(ProviderError) as raised:
        async for event in run_agent(
            DemoProvider(),
            "demo",
            [ChatMessage("user", "[[fail]]")],
            default_registry(),
            None,
            context,
            NO_OPTIONS,
            5,
            5,
        ):
            events.append(event)

    assert raised.value.code == "PROVIDER_UNAVAILABLE"
    assert len(events) == 3


async def test_cancellation_propagates_while_a_tool_runs(context: ToolContext) -> None:
    tool = SlowCalculator()
    task = asyncio.create_task(agent("1 + 1", context, tools=registry(tool)))
    await wait_until(tool.started.is_set)

    task.cancel()

    with pytest.raises(asyncio.CancelledError):
        await task


async def test_the_callers_messages_are_left_unchanged(context: ToolContext) -> None:
    messages = [ChatMessage("user", "2 + 2")]

    await collect(
        run_agent(
            DemoProvider(), "demo", messages, default_registry(), None, context, NO_OPTIONS, 5, 5
        )
    )

    assert messages == [ChatMessage("user", "2 + 2")]


async def test_loopback_round_trip_sends_calls_and_results_back(
    context: ToolContext, chat_server: ChatServer, openai_provider: OpenAICompatProvider
) -> None:
    chat_server.replies = [
        tool_reply(("call_1", "calculator", json.dumps({"expression": "2+2"}))),
        text_reply("It ", "is ", "4.", prompt=30),
    ]

    events = await agent("what is 2+2", context, provider=openai_provider)

    call = ToolCallRequest("call_1", "calculator", {"expression": "2+2"})
    assert events == [
        ToolCallStarted(call),
        ToolCallFinished(call, {"expression": "2+2", "result": 4}, is_error=False),
        TextChunk("It "),
        TextChunk("is "),
        TextChunk("4."),
        AgentFinished("STOP", Usage(11 + 30, 5 + 3)),
    ]
    first, second = (request.json for request in chat_server.requests)
    assert [tool["function"]["name"] for tool in first["tools"]] == [
        "current_time",
        "calculator",
        "search_chats",
    ]
    assert second["messages"][2:] == [
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "calculator", "arguments": '{"expression": "2+2"}'},
                }
            ],
        },
        {
            "role": "tool",
            "content": '{"expression": "2+2", "result": 4}',
            "tool_call_id": "call_1",
        },
    ]


async def test_loopback_bad_calls_get_error_results(
    context: ToolContext, chat_server: ChatServer, openai_provider: OpenAICompatProvider
) -> None:
    chat_server.replies = [
        tool_reply(
            ("call_1", "rm_rf", "{}"),
            ("call_2", "search_chats", '{"query": "x"}'),
            ("call_3", "calculator", '{"expression": '),
        ),
        text_reply("Sorry."),
    ]

    events = await agent(
        "hi", context, provider=openai_provider, tool_names=["current_time", "calculator"]
    )

    assert [(event.result, event.is_error) for event in finished(events)] == [
        ({"error": "Unknown tool: rm_rf"}, True),
        ({"error": "Unknown tool: search_chats"}, True),
        ({"error": "The arguments were not a valid JSON object"}, True),
    ]
    offered = [tool["function"]["name"] for tool in chat_server.requests[0].json["tools"]]
    assert offered == ["current_time", "calculator"]
    assert isinstance(events[-1], AgentFinished)
    assert events[-1].finish_reason == "STOP"


async def test_loopback_tool_limit(
    context: ToolContext, chat_server: ChatServer, openai_provider: OpenAICompatProvider
) -> None:
    chat_server.replies = [
        tool_reply((f"call_{n}", "calculator", '{"expression": "1+1"}')) for n in range(3)
    ]

    events = await agent("loop", context, provider=openai_provider, max_steps=3)

    assert len(chat_server.requests) == 3
    assert len(finished(events)) == 3
    assert events[-1] == AgentFinished("TOOL_LIMIT", Usage(33, 15))


class Decider:
    """Answers every wait for approval with one decision, and records the calls it saw."""

    def __init__(self, approve: bool, reason: str | None = None) -> None:
        self.approve, self.reason = approve, reason
        self.asked: list[str] = []

    async def wait(self, call: ToolCallRequest) -> ToolDecision:
        self.asked.append(call.name)
        return ToolDecision(call.id, self.approve, self.reason)


async def test_a_gated_call_waits_for_approval_then_runs(context: ToolContext) -> None:
    decider = Decider(approve=True)
    gated = Approvals(frozenset({"calculator"}), decider.wait)
    events = await agent("Time in Europe/Paris and 6 * 7?", context, approvals=gated)

    started = [e for e in events if isinstance(e, ToolCallStarted)]
    assert [(e.call.name, e.needs_approval) for e in started] == [
        ("current_time", False),
        ("calculator", True),
    ]
    assert decider.asked == ["calculator"]
    assert finished(events)[1].result == {"expression": "6 * 7", "result": 42}


async def test_a_declined_call_gets_an_error_result_and_the_loop_goes_on(
    context: ToolContext,
) -> None:
    decider = Decider(approve=False, reason="not now")
    gated = Approvals(frozenset({"calculator"}), decider.wait)
    events = await agent("What is 6 * 7?", context, approvals=gated)

    [result] = finished(events)
    assert (result.is_error, result.declined) == (True, True)
    assert result.result == {"error": "The user declined this tool call: not now"}
    assert "declined" in text_of(events[events.index(result) :])
    assert isinstance(events[-1], AgentFinished) and events[-1].finish_reason == "STOP"


async def test_a_gated_tool_not_offered_is_not_asked_about(context: ToolContext) -> None:
    decider = Decider(approve=True)
    gated = Approvals(frozenset({"calculator"}), decider.wait)
    events = await agent("6 * 7?", context, tool_names=["current_time"], approvals=gated)

    assert decider.asked == []
    assert not finished(events)

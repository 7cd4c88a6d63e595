"""The offline demo provider: deterministic text, tool calls, limits and the failure trigger."""

import asyncio
import time

import pytest

from src.lib.llm.demo import DemoProvider
from src.lib.llm.tools import default_registry
from src.lib.llm.types import (
    ChatMessage,
    GenerationOptions,
    ProviderEvent,
    ProviderFinish,
    TextChunk,
    ToolCallRequest,
    Usage,
    tool_message,
)
from tests.helpers import wait_until
from tests.lib.llm.helpers import collect, collect_failing

ALL_TOOLS = default_registry().specs()
NO_OPTIONS = GenerationOptions()


async def reply(
    text: str, options: GenerationOptions = NO_OPTIONS, tools: bool = True
) -> list[ProviderEvent]:
    messages = [ChatMessage("system", "Be nice."), ChatMessage("user", text)]
    return await collect(
        DemoProvider().stream("demo", messages, ALL_TOOLS if tools else [], options)
    )


def text_of(events: list[ProviderEvent]) -> str:
    return "".join(event.text for event in events if isinstance(event, TextChunk))


def calls_of(events: list[ProviderEvent]) -> list[ToolCallRequest]:
    return [event for event in events if isinstance(event, ToolCallRequest)]


def test_offers_the_demo_model() -> None:
    [model] = DemoProvider().models()

    assert (model.id, model.name, model.provider, model.supports_tools) == (
        "demo",
        "Demo model",
        "demo",
        True,
    )


async def test_reply_is_deterministic_word_by_word_and_says_it_is_a_demo() -> None:
    first, second = await reply("Hello there, friend"), await reply("Hello there, friend")

    assert first == second
    text = text_of(first)
    assert "demo model" in text
    assert '"Hello there, friend"' in text
    chunks = [event.text for event in first if isinstance(event, TextChunk)]
    assert len(chunks) > 20
    assert all(chunk.strip() and " " not in chunk.strip() for chunk in chunks)
    assert all(chunk.endswith(" ") for chunk in chunks[:-1])
    assert first[-1] == ProviderFinish("stop", Usage(input_tokens=5, output_tokens=len(chunks)))


@pytest.mark.parametrize(
    ("text", "zone"),
    [("What time is it in Europe/Paris?", "Europe/Paris"), ("What TIME is it?", "UTC")],
)
async def test_asking_the_time_calls_current_time(text: str, zone: str) -> None:
    events = await reply(text)

    assert calls_of(events) == [ToolCallRequest("call_demo_1", "current_time", {"timezone": zone})]
    assert events[-1] == ProviderFinish("tool_calls", Usage(len(text.split()) + 2, 11))
    assert "current_time" in text_of(events)


@pytest.mark.parametrize(
    ("text", "expression"),
    [
        ("What is (2 + 3) * 4?", "(2 + 3) * 4"),
        ("compute 2**10.", "2**10"),
        ("17 // 5 and then", "17 // 5"),
    ],
)
async def test_arithmetic_calls_the_calculator(text: str, expression: str) -> None:
    assert calls_of(await reply(text)) == [
        ToolCallRequest("call_demo_1", "calculator", {"expression": expression})
    ]


async def test_search_calls_search_chats_with_what_follows() -> None:
    assert calls_of(await reply("Search my chats for pizza dough!")) == [
        ToolCallRequest("call_demo_1", "search_chats", {"query": "pizza dough"})
    ]


async def test_several_asks_give_parallel_calls() -> None:
    calls = calls_of(await reply("What time is it in Asia/Tokyo, and what is 6 * 7?"))

    assert [(call.id, call.name) for call in calls] == [
        ("call_demo_1", "current_time"),
        ("call_demo_2", "calculator"),
    ]


async def test_tools_not_offered_are_not_called() -> None:
    events = await reply("What time is it? And 1 + 1?", tools=False)

    assert calls_of(events) == []
    assert events[-1].reason == "stop"  # type: ignore[union-attr]


async def test_call_ids_follow_the_calls_already_in_the_conversation() -> None:
    earlier = ToolCallRequest("call_demo_1", "calculator", {"expression": "1+1"})
    messages = [
        ChatMessage("user", "1+1"),
        ChatMessage("assistant", None, [earlier]),
        tool_message("call_demo_1", "calculator", {"result": 2}),
        ChatMessage("assistant", "It is 2."),
        ChatMessage("user", "and 2+2?"),
    ]

    events = await collect(DemoProvider().stream("demo", messages, ALL_TOOLS, NO_OPTIONS))

    assert calls_of(events)[0].id == "call_demo_2"


async def test_after_tool_results_it_answers_with_them() -> None:
    call = ToolCallRequest("call_demo_1", "calculator", {"expression": "6*7"})
    messages = [
        ChatMessage("user", "6*7"),
        ChatMessage("assistant", "Let me ask.", [call]),
        tool_message("call_demo_1", "calculator", {"expression": "6*7", "result": 42}),
    ]

    events = await collect(DemoProvider().stream("demo", messages, ALL_TOOLS, NO_OPTIONS))

    assert calls_of(events) == []
    assert '"result": 42' in text_of(events)
    assert text_of(events).startswith("\n\nThe tools are back:")
    assert events[-1].reason == "stop"  # type: ignore[union-attr]


async def test_max_output_tokens_stops_with_length() -> None:
    events = await reply("What time is it?", GenerationOptions(max_output_tokens=4))

    assert len([e for e in events if isinstance(e, TextChunk)]) == 4
    assert calls_of(events) == []
    assert events[-1] == ProviderFinish("length", Usage(6, 4))


async def test_fail_trigger_raises_unavailable_after_a_few_tokens() -> None:
    messages = [ChatMessage("user", "please [[fail]] now")]

    events, error = await collect_failing(
        DemoProvider().stream("demo", messages, ALL_TOOLS, NO_OPTIONS)
    )

    assert len(events) == 3
    assert all(isinstance(event, TextChunk) for event in events)
    assert error.code == "PROVIDER_UNAVAILABLE"
    assert error.user_message


async def test_token_delay_spaces_the_chunks() -> None:
    provider = DemoProvider(token_delay=0.05)
    start = time.monotonic()

    await collect(
        provider.stream(
            "demo", [ChatMessage("user", "hi")], [], GenerationOptions(max_output_tokens=3)
        )
    )

    assert time.monotonic() - start >= 0.1


async def test_can_be_cancelled_mid_stream() -> None:
    provider = DemoProvider(token_delay=10)
    received: list[ProviderEvent] = []

    async def consume() -> None:
        async for event in provider.stream("demo", [], [], NO_OPTIONS):
            received.append(event)

    task = asyncio.create_task(consume())
    await wait_until(lambda: len(received) == 1)  # the next chunk is 10 s away

    task.cancel()

    with pytest.raises(asyncio.CancelledError):
        await task

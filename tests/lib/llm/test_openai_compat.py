"""The OpenAI-compatible provider against a real Chat Completions server on 127.0.0.1."""

import json
import socket
from collections.abc import AsyncGenerator

import pytest

from src.lib.llm.openai_compat import OpenAICompatProvider
from src.lib.llm.types import (
    ChatMessage,
    GenerationOptions,
    ProviderEvent,
    ProviderFinish,
    TextChunk,
    ToolCallRequest,
    ToolSpec,
    Usage,
)
from tests.lib.llm.chat_server import (
    ChatServer,
    Reply,
    call_piece,
    chunk,
    text_reply,
    tool_reply,
    usage_chunk,
)
from tests.lib.llm.helpers import collect, collect_failing

HELLO = [ChatMessage("user", "Hello")]
NO_OPTIONS = GenerationOptions()
CALCULATOR = ToolSpec("calculator", "Arithmetic.", {"type": "object", "properties": {}})


def stream(
    provider: OpenAICompatProvider, messages: list[ChatMessage] = HELLO
) -> AsyncGenerator[ProviderEvent, None]:
    return provider.stream("test-model", messages, [], NO_OPTIONS)


async def test_streams_text_then_finish_with_usage(
    chat_server: ChatServer, openai_provider: OpenAICompatProvider
) -> None:
    chat_server.replies = [text_reply("Hel", "lo", " world", prompt=9)]

    events = await collect(
        openai_provider.stream(
            "test-model",
            [ChatMessage("system", "Be brief."), *HELLO],
            [CALCULATOR],
            GenerationOptions(temperature=0.2, max_output_tokens=50),
        )
    )

    assert events == [
        TextChunk("Hel"),
        TextChunk("lo"),
        TextChunk(" world"),
        ProviderFinish("stop", Usage(9, 3)),
    ]
    [request] = chat_server.requests
    assert request.path == "/v1/chat/completions"
    assert request.headers["authorization"] == "Bearer test-key"
    body = request.json
    assert body["model"] == "test-model"
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hello"},
    ]
    assert body["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "calculator",
                "description": "Arithmetic.",
                "parameters": {"type": "object", "properties": {}},
            },
        }
    ]
    assert body["temperature"] == 0.2
    assert body["max_tokens"] == 50


async def test_sends_no_tools_and_no_unset_options(
    chat_server: ChatServer, openai_provider: OpenAICompatProvider
) -> None:
    chat_server.replies = [text_reply("ok")]

    await collect(stream(openai_provider))

    body = chat_server.requests[0].json
    assert "tools" not in body
    assert "temperature" not in body
    assert "max_tokens" not in body


async def test_sends_tool_calls_and_results_of_earlier_steps(
    chat_server: ChatServer, openai_provider: OpenAICompatProvider
) -> None:
    chat_server.replies = [text_reply("4")]
    call = ToolCallRequest("call_1", "calculator", {"expression": "2+2"})
    raw = ToolCallRequest("call_2", "calculator", {"_raw": "{not json"})
    messages = [
        *HELLO,
        ChatMessage("assistant", None, [call, raw]),
        ChatMessage("tool", '{"result": 4}', tool_call_id="call_1", name="calculator"),
        ChatMessage("tool", '{"error": "bad"}', tool_call_id="call_2", name="calculator"),
    ]

    await collect(stream(openai_provider, messages))

    sent = chat_server.requests[0].json["messages"]
    assert sent[1] == {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "calculator", "arguments": '{"expression": "2+2"}'},
            },
            {
                "id": "call_2",
                "type": "function",
                "function": {"name": "calculator", "arguments": "{not json"},
            },
        ],
    }
    assert sent[2] == {"role": "tool", "content": '{"result": 4}', "tool_call_id": "call_1"}


async def test_assembles_a_tool_call_split_across_chunks(
    chat_server: ChatServer, openai_provider: OpenAICompatProvider
) -> None:
    arguments = json.dumps({"expression": "(2 + 3) * 4"})
    chat_server.replies = [tool_reply(("call_1", "calculator", arguments))]

    events = await collect(stream(openai_provider))

    assert events == [
        ToolCallRequest("call_1", "calculator", {"expression": "(2 + 3) * 4"}),
        ProviderFinish("tool_calls", Usage(11, 5)),
    ]


async def test_assembles_interleaved_parallel_tool_calls_in_index_order(
    chat_server: ChatServer, openai_provider: OpenAICompatProvider
) -> None:
    chat_server.replies = [
        Reply(
            events=[
                chunk("Let me check. "),
                chunk(tool_calls=[call_piece(1, id="call_b", name="calculator")]),
                chunk(tool_calls=[call_piece(0, id="call_a", name="current_time")]),
                chunk(tool_calls=[call_piece(1, arguments='{"expression"')]),
                chunk(tool_calls=[call_piece(0, arguments='{"timezone": ')]),
                chunk(tool_calls=[call_piece(1, arguments=': "1+1"}')]),
                chunk(tool_calls=[call_piece(0, arguments='"Europe/Paris"}')]),
                chunk(finish_reason="tool_calls"),
                usage_chunk(20, 12),
            ]
        )
    ]

    events = await collect(stream(openai_provider))

    assert events == [
        TextChunk("Let me check. "),
        ToolCallRequest("call_a", "current_time", {"timezone": "Europe/Paris"}),
        ToolCallRequest("call_b", "calculator", {"expression": "1+1"}),
        ProviderFinish("tool_calls", Usage(20, 12)),
    ]


async def test_tool_calls_count_even_when_the_server_says_stop(
    chat_server: ChatServer, openai_provider: OpenAICompatProvider
) -> None:
    chat_server.replies = [
        Reply(
            events=[
                chunk(tool_calls=[call_piece(0, name="current_time", arguments="")]),
                chunk(finish_reason="stop"),
            ]
        )
    ]

    *calls, finish = await collect(stream(openai_provider))

    [call] = calls
    assert isinstance(call, ToolCallRequest)
    assert (call.name, call.arguments) == ("current_time", {})
    assert call.id.startswith("call_")
    assert finish == ProviderFinish("tool_calls", None)


@pytest.mark.parametrize("arguments", ['{"expression": ', "[1, 2]"])
async def test_arguments_that_are_not_a_json_object_are_kept_raw(
    chat_server: ChatServer, openai_provider: OpenAICompatProvider, arguments: str
) -> None:
    chat_server.replies = [tool_reply(("call_1", "calculator", arguments))]

    events = await collect(stream(openai_provider))

    assert events[0] == ToolCallRequest("call_1", "calculator", {"_raw": arguments})


async def test_length_finish_drops_cut_tool_calls(
    chat_server: ChatServer, openai_provider: OpenAICompatProvider
) -> None:
    chat_server.replies = [
        Reply(
            events=[
                chunk("Partial"),
                chunk(tool_calls=[call_piece(0, id="c", name="calculator", arguments='{"ex')]),
                chunk(finish_reason="length"),
                usage_chunk(3, 2),
            ]
        )
    ]

    events = await collect(stream(openai_provider))

    assert events == [TextChunk("Partial"), ProviderFinish("length", Usage(3, 2))]


async def test_connection_lost_mid_stream_keeps_the_text_and_is_not_retried(
    chat_server: ChatServer, openai_provider: OpenAICompatProvider
) -> None:
    chat_server.replies = [
        Reply(events=[chunk("one "), chunk("two "), chunk("three")], cut_after=2)
    ]
    chat_server.replies.append(text_reply("never sent"))

    events, error = await collect_failing(stream(openai_provider))

    assert events == [TextChunk("one "), TextChunk("two ")]
    assert error.code == "PROVIDER_UNAVAILABLE"
    assert len(chat_server.requests) == 1


async def test_connection_lost_before_any_event_is_retried(
    chat_server: ChatServer, openai_provider: OpenAICompatProvider
) -> None:
    chat_server.replies = [Reply(events=[chunk("lost")], cut_after=0), text_reply("fine")]

    events = await collect(stream(openai_provider))

    assert events[0] == TextChunk("fine")
    assert len(chat_server.requests) == 2


async def test_stream_ending_without_a_finish_is_a_bad_response(
    chat_server: ChatServer, openai_provider: OpenAICompatProvider
) -> None:
    chat_server.replies = [Reply(events=[chunk("half a")])]

    events, error = await collect_failing(stream(openai_provider))

    assert events == [TextChunk("half a")]
    assert error.code == "PROVIDER_BAD_RESPONSE"


@pytest.mark.parametrize(
    "bad_event",
    [
        "{not json",
        json.dumps({"choices": [{"index": 0, "delta": {"content": 42}}]}),
        json.dumps({"choices": "nope"}),
        json.dumps({"choices": [{"index": 0, "delta": {"tool_calls": [{"index": "x"}]}}]}),
    ],
)
async def test_malformed_chunk_is_a_bad_response(
    chat_server: ChatServer, openai_provider: OpenAICompatProvider, bad_event: str
) -> None:
    chat_server.replies = [Reply(events=[chunk("ok "), bad_event, chunk(finish_reason="stop")])]

    events, error = await collect_failing(stream(openai_provider))

    assert events == [TextChunk("ok ")]
    assert error.code == "PROVIDER_BAD_RESPONSE"
    assert len(chat_server.requests) == 1


async def test_a_malformed_usage_is_ignored(
    chat_server: ChatServer, openai_provider: OpenAICompatProvider
) -> None:
    bad_usage = usage_chunk(1, 1) | {"usage": {"prompt_tokens": "many"}}
    chat_server.replies = [Reply(events=[chunk("ok"), chunk(finish_reason="stop"), bad_usage])]

    events = await collect(stream(openai_provider))

    assert events == [TextChunk("ok"), ProviderFinish("stop", None)]


async def test_error_event_mid_stream_fails_with_a_masked_message(
    chat_server: ChatServer, openai_provider: OpenAICompatProvider
) -> None:
    secret = "internal shard 7 overloaded"
    chat_server.replies = [Reply(events=[chunk("Hi "), {"error": {"message": secret}}])]

    events, error = await collect_failing(stream(openai_provider))

    assert events == [TextChunk("Hi ")]
    assert error.code == "PROVIDER_ERROR"
    assert secret not in error.user_message


async def test_output_beyond_the_cap_is_refused(chat_server: ChatServer) -> None:
    provider = OpenAICompatProvider(
        models=["test-model"], base_url=chat_server.base_url, max_output_chars=10
    )
    chat_server.replies = [text_reply("12345", "67890", "overflow")]

    events, error = await collect_failing(stream(provider))
    await provider.close()

    assert events == [TextChunk("12345"), TextChunk("67890")]
    assert error.code == "PROVIDER_BAD_RESPONSE"


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (401, "PROVIDER_AUTH"),
        (403, "PROVIDER_AUTH"),
        (400, "PROVIDER_ERROR"),
        (404, "PROVIDER_ERROR"),
    ],
)
async def test_client_errors_are_mapped_and_not_retried(
    chat_server: ChatServer, openai_provider: OpenAICompatProvider, status: int, code: str
) -> None:
    body = {"error": {"message": "Incorrect API key sk-secret", "type": "invalid_request_error"}}
    chat_server.replies = [Reply(status=status, body=body), text_reply("never")]

    events, error = await collect_failing(stream(openai_provider))

    assert events == []
    assert error.code == code
    assert "sk-secret" not in error.user_message
    assert len(chat_server.requests) == 1


async def test_rate_limit_then_success_is_retried_before_the_first_token(
    chat_server: ChatServer, openai_provider: OpenAICompatProvider
) -> None:
    chat_server.replies = [Reply(status=429, headers={"retry-after": "0"}), text_reply("ok")]

    events = await collect(stream(openai_provider))

    assert events[0] == TextChunk("ok")
    assert len(chat_server.requests) == 2


async def test_rate_limit_asking_for_a_long_wait_fails_at_once(
    chat_server: ChatServer, openai_provider: OpenAICompatProvider
) -> None:
    chat_server.replies = [Reply(status=429, headers={"retry-after": "3600"}), text_reply("ok")]

    _, error = await collect_failing(stream(openai_provider))

    assert error.code == "PROVIDER_RATE_LIMITED"
    assert len(chat_server.requests) == 1


async def test_server_errors_are_retried_up_to_max_retries(
    chat_server: ChatServer, openai_provider: OpenAICompatProvider
) -> None:
    chat_server.replies = [Reply(status=503), Reply(status=500), Reply(status=502)]

    _, error = await collect_failing(stream(openai_provider))

    assert error.code == "PROVIDER_UNAVAILABLE"
    assert len(chat_server.requests) == 3


async def test_stall_times_out_without_retry(chat_server: ChatServer) -> None:
    provider = OpenAICompatProvider(
        models=["test-model"], base_url=chat_server.base_url, timeout=0.3, max_retries=2
    )
    chat_server.replies = [Reply(events=[chunk("late")], stall=30)]

    _, error = await collect_failing(stream(provider))
    await provider.close()

    assert error.code == "PROVIDER_TIMEOUT"
    assert len(chat_server.requests) == 1


async def test_refused_connection_is_unavailable() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    provider = OpenAICompatProvider(
        models=["m"], base_url=f"http://127.0.0.1:{port}/v1", max_retries=1, retry_backoff=0.01
    )

    _, error = await collect_failing(provider.stream("m", HELLO, [], NO_OPTIONS))
    await provider.close()

    assert error.code == "PROVIDER_UNAVAILABLE"


def test_lists_the_configured_models() -> None:
    provider = OpenAICompatProvider(models=["gpt-a", "llama3"], base_url="http://127.0.0.1:9/v1")

    assert [(m.id, m.provider, m.supports_tools) for m in provider.models()] == [
        ("gpt-a", "openai", True),
        ("llama3", "openai", True),
    ]


async def test_an_endless_line_is_refused_before_it_is_buffered(chat_server: ChatServer) -> None:
    provider = OpenAICompatProvider(
        models=["test-model"], base_url=chat_server.base_url, max_line_bytes=64 * 1024
    )
    chat_server.replies = [text_reply("ok ", "x" * 500_000)]

    events, error = await collect_failing(stream(provider))
    await provider.close()

    assert events == [TextChunk("ok ")]
    assert error.code == "PROVIDER_BAD_RESPONSE"


async def test_redirects_are_not_followed(
    chat_server: ChatServer, openai_provider: OpenAICompatProvider
) -> None:
    chat_server.replies = [
        Reply(status=307, headers={"location": f"{chat_server.base_url}/chat/completions"}),
        text_reply("followed"),
    ]

    _, error = await collect_failing(stream(openai_provider))

    assert error.code == "PROVIDER_ERROR"
    assert len(chat_server.requests) == 1

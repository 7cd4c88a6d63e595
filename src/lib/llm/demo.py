"""The built-in `demo` provider: offline and deterministic, with no language model behind it.

Offers:
- DemoProvider: serves the model `demo` ("Demo model").
- DEMO_MODEL, FAIL_TRIGGER.

How it answers (the end of the conversation decides):
- To a title request (its system prompt is `titles.TITLE_INSTRUCTIONS`): the first
  TITLE_WORDS words of the first user message.
- After tool results (the conversation ends with `tool` messages): a short answer quoting them.
- Otherwise from the text of the last user message:
  - FAIL_TRIGGER (`[[fail]]`) anywhere: streams FAIL_AFTER_TOKENS words of its usual reply,
    then raises `ProviderError("PROVIDER_UNAVAILABLE")`; a hidden trigger for tests of a
    provider that fails mid-stream.
  - The word "time": calls `current_time` with the first IANA zone name in the text
    (`Europe/Paris`, `America/New_York`) or `UTC`.
  - Arithmetic (numbers joined by `+ - * / // % **`, with parentheses): calls `calculator`
    with it.
  - The word "search": calls `search_chats` with what follows ("search my chats for pizza"
    looks for "pizza").
  Several of these make parallel calls, each only when that tool is offered; the reply then is
  one sentence announcing them. With none, a few sentences say that this is the demo model and
  echo the text.

Every `TextChunk` is one word with the whitespace after it, `token_delay` seconds apart. Usage:
input tokens are the words of all messages, output tokens the chunks streamed.
`max_output_tokens` ends the stream early with reason "length" (and no tool calls).
"""

import asyncio
import re
from collections.abc import AsyncGenerator
from dataclasses import dataclass

from src.lib.llm.provider import Provider, ProviderError
from src.lib.llm.titles import TITLE_INSTRUCTIONS
from src.lib.llm.types import (
    ChatMessage,
    GenerationOptions,
    ModelInfo,
    ProviderEvent,
    ProviderFinish,
    TextChunk,
    ToolCallRequest,
    ToolSpec,
    Usage,
)

DEMO_MODEL = ModelInfo(id="demo", name="Demo model", provider="demo", supports_tools=True)
FAIL_TRIGGER = "[[fail]]"
FAIL_AFTER_TOKENS = 3
QUOTE_CHARS = 200
TITLE_WORDS = 6

_WORD = re.compile(r"\s*\S+\s*")
_TIME = re.compile(r"\btime\b", re.IGNORECASE)
_ZONE = re.compile(r"\b[A-Z][A-Za-z_]+(?:/[A-Z][A-Za-z0-9_+\-]+)+")
_ARITHMETIC_RUN = re.compile(r"[\d.+\-*/%()\s]+")
_OPERATION = re.compile(r"[\d)]\s*(?:\*\*|//|[-+*/%])\s*[-+(\d.]")
_SEARCH = re.compile(
    r"\bsearch\b(?:\s+(?:my|our|the)\b)?(?:\s+(?:chats?|messages?)\b)?(?:\s+for\b)?(.*)",
    re.IGNORECASE | re.DOTALL,
)


@dataclass(frozen=True, slots=True)
class _Reply:
    """What the demo model will stream: text, then tool calls, or a failure after some text."""

    text: str
    calls: list[ToolCallRequest]
    fail: bool = False


def _quote(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= QUOTE_CHARS else flat[:QUOTE_CHARS] + "..."


def _find_arithmetic(text: str) -> str | None:
    for run in _ARITHMETIC_RUN.finditer(text):
        candidate = run.group().strip().rstrip(".").strip()
        if _OPERATION.search(candidate):
            return candidate
    return None


def _wanted_calls(text: str) -> list[tuple[str, dict[str, str]]]:
    calls: list[tuple[str, dict[str, str]]] = []
    if _TIME.search(text):
        zone = _ZONE.search(text)
        calls.append(("current_time", {"timezone": zone.group() if zone else "UTC"}))
    if expression := _find_arithmetic(text):
        calls.append(("calculator", {"expression": expression}))
    if search := _SEARCH.search(text):
        query = search.group(1).strip(" \t\r\n\"'?!.:") or text
        calls.append(("search_chats", {"query": _quote(query)}))
    return calls


def _echo(text: str) -> str:
    return (
        "This is the demo model, a stand-in that runs offline with no language model behind it. "
        f'You said: "{_quote(text)}" ({len(text.split())} words). '
        "Ask me what time it is in Europe/Paris, to work out (2 + 3) * 4, or to search your "
        "chats, and I will call a tool to answer."
    )


def _answer_user(messages: list[ChatMessage], offered: set[str]) -> _Reply:
    text = next((m.content or "" for m in reversed(messages) if m.role == "user"), "")
    if FAIL_TRIGGER in text:
        return _Reply(_echo(text), [], fail=True)
    wanted = [(name, arguments) for name, arguments in _wanted_calls(text) if name in offered]
    if not wanted:
        return _Reply(_echo(text), [])
    earlier = sum(len(m.tool_calls) for m in messages)
    calls = [
        ToolCallRequest(id=f"call_demo_{earlier + number}", name=name, arguments=arguments)
        for number, (name, arguments) in enumerate(wanted, start=1)
    ]
    names = " and ".join(call.name for call in calls)
    return _Reply(f"This is the demo model. Let me ask {names} for that.", calls)


def _answer_title_request(messages: list[ChatMessage]) -> _Reply:
    text = next((m.content or "" for m in messages if m.role == "user"), "")
    return _Reply(" ".join(text.split()[:TITLE_WORDS]), [])


def _answer_tool_results(messages: list[ChatMessage]) -> _Reply:
    results: list[str] = []
    for message in reversed(messages):
        if message.role != "tool":
            break
        results.insert(0, f"{message.name} answered {_quote(message.content or '')}")
    answer = "The tools are back: " + "; ".join(results) + "."
    return _Reply("\n\n" + answer, [])  # a new paragraph after the text before the calls


class DemoProvider(Provider):
    """The offline demo model (see the module docstring for its triggers).

    Attributes:
        token_delay: Seconds between two text chunks (0 for benchmarks).
    """

    name = "demo"

    def __init__(self, token_delay: float = 0.0) -> None:
        self.token_delay = token_delay

    def models(self) -> list[ModelInfo]:
        """The single `demo` model."""
        return [DEMO_MODEL]

    async def stream(
        self,
        model: str,
        messages: list[ChatMessage],
        tools: list[ToolSpec],
        options: GenerationOptions,
    ) -> AsyncGenerator[ProviderEvent, None]:
        """Stream the demo reply to the conversation (see the module docstring).

        Raises:
            ProviderError: PROVIDER_UNAVAILABLE, when the last user message holds FAIL_TRIGGER.
        """
        if messages and messages[0].content == TITLE_INSTRUCTIONS:
            reply = _answer_title_request(messages)
        elif messages and messages[-1].role == "tool":
            reply = _answer_tool_results(messages)
        else:
            reply = _answer_user(messages, {tool.name for tool in tools})
        input_tokens = sum(len((message.content or "").split()) for message in messages)
        limit = options.max_output_tokens
        sent = 0
        for word in _WORD.findall(reply.text):
            if limit is not None and sent >= limit:
                yield ProviderFinish("length", Usage(input_tokens, sent))
                return
            if reply.fail and sent == FAIL_AFTER_TOKENS:
                raise ProviderError("PROVIDER_UNAVAILABLE")
            await asyncio.sleep(self.token_delay if sent else 0)
            yield TextChunk(word)
            sent += 1
        for call in reply.calls:
            yield call
        yield ProviderFinish("tool_calls" if reply.calls else "stop", Usage(input_tokens, sent))

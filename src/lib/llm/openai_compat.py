"""A provider for any OpenAI-compatible Chat Completions server, through the `openai` SDK.

Offers:
- OpenAICompatProvider: streams from OpenAI, Ollama, vLLM, llama.cpp server, LM Studio,
  OpenRouter and the like.
- MAX_OUTPUT_CHARS, MAX_TOOL_CALLS, MAX_LINE_BYTES: the most one reply may carry.

Behaviour:
- Streaming with `stream_options.include_usage`; usage comes from the final chunk (a usage that
  is not two counts is ignored rather than failing the reply).
- Tool calls arrive in pieces keyed by `index`: the first non-empty `id` and `name` of an index
  win, the `arguments` pieces are joined. The calls are emitted when the stream ends, in index
  order, unless it ended for `length` (their arguments are then likely cut); any other finish
  reason (`content_filter`) counts as `stop`. A server that
  omits `index` is followed by the ids: a new id starts a new call. Arguments that
  are not a JSON object become `{RAW_ARGUMENTS_KEY: text}`; the agent loop answers those with
  an error result. A call without an id gets a generated one; one without a name is malformed.
- `max_output_tokens` is sent as `max_tokens`, which every compatible server understands
  (OpenAI's reasoning models want `max_completion_tokens` instead).
- `timeout` bounds connecting and every read, so it is both the wait for the first byte and
  the longest silence allowed mid-stream.
- Retries (connection refused or lost, 429, 5xx) only while nothing has been yielded, up to
  `max_retries`, after `Retry-After` when the server sends one (giving up at once when it asks
  for more than MAX_RETRY_AFTER seconds) or an exponential backoff. Timeouts are not retried:
  the caller has already waited `timeout`.
- More than MAX_OUTPUT_CHARS of text and arguments, MAX_TOOL_CALLS calls, or a line of the
  response over MAX_LINE_BYTES ends the reply with PROVIDER_BAD_RESPONSE, so a runaway server
  cannot exhaust memory. Redirects are not followed (a 3xx is PROVIDER_ERROR).
- SDK errors become `ProviderError`s; the SDK error stays as `__cause__` for logging.
"""

import asyncio
import json
import uuid
from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any

from openai import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AsyncOpenAI,
    AuthenticationError,
    OpenAIError,
    PermissionDeniedError,
    RateLimitError,
    omit,
)
from openai.types import CompletionUsage
from openai.types.chat import (
    ChatCompletionChunk,
    ChatCompletionFunctionToolParam,
    ChatCompletionMessageFunctionToolCallParam,
    ChatCompletionMessageParam,
)
from openai.types.chat.chat_completion_chunk import (
    Choice,
    ChoiceDelta,
    ChoiceDeltaToolCall,
    ChoiceDeltaToolCallFunction,
)

from src.lib.llm.bounded_http import bounded_http_client
from src.lib.llm.provider import Provider, ProviderError
from src.lib.llm.types import (
    RAW_ARGUMENTS_KEY,
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

MAX_OUTPUT_CHARS = 1_000_000
MAX_TOOL_CALLS = 32
MAX_LINE_BYTES = 4 * 1024 * 1024
MAX_RETRY_AFTER = 20.0
NO_API_KEY = "none"
"""Sent when no key is configured: local servers (Ollama, llama.cpp) ignore the key."""


def _to_provider_error(error: Exception) -> ProviderError:
    """The ProviderError for an SDK error (or a ValueError from a malformed stream)."""
    match error:
        case AuthenticationError() | PermissionDeniedError():
            code = "PROVIDER_AUTH"
        case RateLimitError():
            code = "PROVIDER_RATE_LIMITED"
        case APITimeoutError():
            code = "PROVIDER_TIMEOUT"
        case APIConnectionError():
            code = "PROVIDER_UNAVAILABLE"
        case APIStatusError() if error.status_code >= 500:
            code = "PROVIDER_UNAVAILABLE"
        case ValueError():
            code = "PROVIDER_BAD_RESPONSE"
        case _:
            code = "PROVIDER_ERROR"
    return ProviderError(code)


def _retry_delay(error: Exception, attempt: int, backoff: float) -> float | None:
    """Seconds to wait before retrying after `error`, or None when it must not be retried."""
    if isinstance(error, APITimeoutError):
        return None
    if isinstance(error, APIStatusError):
        if error.status_code != 429 and error.status_code < 500:
            return None
        try:
            asked = float(error.response.headers.get("retry-after", ""))
        except ValueError:
            asked = None
        if asked is not None:
            return max(asked, 0.0) if asked <= MAX_RETRY_AFTER else None
    elif not isinstance(error, APIConnectionError):
        return None
    return float(backoff * 2**attempt)


def _arguments_text(call: ToolCallRequest) -> str:
    raw = call.arguments.get(RAW_ARGUMENTS_KEY)
    if isinstance(raw, str) and len(call.arguments) == 1:
        return raw
    return json.dumps(call.arguments, ensure_ascii=False)


def _to_sdk_message(message: ChatMessage) -> ChatCompletionMessageParam:
    content = message.content or ""
    match message.role:
        case "system":
            return {"role": "system", "content": content}
        case "user":
            return {"role": "user", "content": content}
        case "tool":
            return {"role": "tool", "content": content, "tool_call_id": message.tool_call_id or ""}
    calls: list[ChatCompletionMessageFunctionToolCallParam] = [
        {
            "id": call.id,
            "type": "function",
            "function": {"name": call.name, "arguments": _arguments_text(call)},
        }
        for call in message.tool_calls
    ]
    if calls:
        return {"role": "assistant", "content": message.content, "tool_calls": calls}
    return {"role": "assistant", "content": content}


def _to_sdk_tool(spec: ToolSpec) -> ChatCompletionFunctionToolParam:
    return {
        "type": "function",
        "function": {
            "name": spec.name,
            "description": spec.description,
            "parameters": spec.parameters,
        },
    }


def _expect[T](value: object, kind: type[T]) -> T:
    """`value` when it is a `kind` (not a bool for int), else a PROVIDER_BAD_RESPONSE."""
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ProviderError("PROVIDER_BAD_RESPONSE")
    return value


def _usage_of(usage: object) -> Usage | None:
    """The usage a chunk reports; None when it has none, or one that is not two counts."""
    if not isinstance(usage, CompletionUsage):
        return None
    counts = (usage.prompt_tokens, usage.completion_tokens)
    if not all(isinstance(count, int) and not isinstance(count, bool) for count in counts):
        return None
    return Usage(*counts)


def _parse_arguments(text: str) -> dict[str, Any]:
    if not text.strip():
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {RAW_ARGUMENTS_KEY: text}
    return value if isinstance(value, dict) else {RAW_ARGUMENTS_KEY: text}


@dataclass(slots=True)
class _PendingCall:
    """A tool call being assembled from its pieces."""

    id: str = ""
    name: str = ""
    arguments: str = ""


class _ReplyAssembler:
    """Turns the chunks of one streamed reply into provider events.

    Raises ProviderError(PROVIDER_BAD_RESPONSE) for chunks that are malformed, for a reply
    larger than the limits, and for a stream that ends without a finish reason.
    """

    def __init__(self, max_chars: int) -> None:
        self._max_chars = max_chars
        self._chars = 0
        self._calls: dict[int, _PendingCall] = {}
        self._finish_reason: str | None = None
        self._usage: Usage | None = None

    def feed(self, chunk: ChatCompletionChunk) -> list[TextChunk]:
        """The text of one chunk; records its tool-call pieces, finish reason and usage.

        The SDK builds chunks without validating them, so every field used is checked here.
        """
        self._usage = _usage_of(chunk.usage) or self._usage
        texts: list[TextChunk] = []
        for choice in _expect(chunk.choices or [], list):
            if _expect(choice, Choice).index not in (0, None):
                continue
            delta = _expect(choice.delta or ChoiceDelta(), ChoiceDelta)
            for text in (delta.content, delta.refusal):
                if text:
                    self._take(_expect(text, str))
                    texts.append(TextChunk(text))
            for piece in _expect(delta.tool_calls or [], list):
                self._add_piece(_expect(piece, ChoiceDeltaToolCall))
            if choice.finish_reason:
                self._finish_reason = _expect(choice.finish_reason, str)
        return texts

    def _index_of(self, piece: ChoiceDeltaToolCall) -> int:
        """The piece's call index; servers that omit it start each call with a new id."""
        if piece.index is not None:
            return _expect(piece.index, int)
        last = max(self._calls, default=-1)
        if last < 0 or (piece.id and piece.id != self._calls[last].id):
            return last + 1
        return last

    def _add_piece(self, piece: ChoiceDeltaToolCall) -> None:
        index = self._index_of(piece)
        if index not in self._calls and len(self._calls) >= MAX_TOOL_CALLS:
            raise ProviderError("PROVIDER_BAD_RESPONSE")
        call = self._calls.setdefault(index, _PendingCall())
        call.id = call.id or _expect(piece.id or "", str)
        if piece.function is not None:
            function = _expect(piece.function, ChoiceDeltaToolCallFunction)
            call.name = call.name or _expect(function.name or "", str)
            arguments = _expect(function.arguments or "", str)
            self._take(arguments)
            call.arguments += arguments

    def _take(self, text: str) -> None:
        self._chars += len(text)
        if self._chars > self._max_chars:
            raise ProviderError("PROVIDER_BAD_RESPONSE", "The model's reply was too large.")

    def finish(self) -> list[ProviderEvent]:
        """The tool calls, then the finish event, once the stream has ended."""
        if self._finish_reason is None:
            raise ProviderError("PROVIDER_BAD_RESPONSE")
        if self._finish_reason == "length":
            return [ProviderFinish("length", self._usage)]
        events: list[ProviderEvent] = []
        for _, call in sorted(self._calls.items()):
            if not call.name:
                raise ProviderError("PROVIDER_BAD_RESPONSE")
            call_id = call.id or f"call_{uuid.uuid4().hex[:24]}"
            events.append(ToolCallRequest(call_id, call.name, _parse_arguments(call.arguments)))
        events.append(ProviderFinish("tool_calls" if events else "stop", self._usage))
        return events


class OpenAICompatProvider(Provider):
    """Models of one OpenAI-compatible server (see the module docstring).

    Attributes:
        name: The provider's name shown on its models ("openai" by default).
    """

    def __init__(
        self,
        *,
        models: list[str],
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: float = 60.0,
        max_retries: int = 2,
        retry_backoff: float = 0.5,
        max_output_chars: int = MAX_OUTPUT_CHARS,
        max_line_bytes: int = MAX_LINE_BYTES,
        name: str = "openai",
    ) -> None:
        """Create the provider and its SDK client (no connection is made yet).

        Args:
            models: The model ids served (as the server names them).
            base_url: The server's `/v1` URL; None for the SDK's default (OpenAI).
            api_key: The bearer key; None for servers that need none.
            timeout: Seconds allowed to connect and between two reads.
            max_retries: Retries before the first event (0: none).
            retry_backoff: Seconds before the first retry, doubled for each next one.
            max_output_chars: The most text and arguments one reply may carry.
            max_line_bytes: The longest line of a response accepted.
            name: The provider's name.
        """
        self.name = name
        self._models = [ModelInfo(model, model, name, supports_tools=True) for model in models]
        self._max_retries = max_retries
        self._retry_backoff = retry_backoff
        self._max_output_chars = max_output_chars
        self._client = AsyncOpenAI(
            base_url=base_url or None,
            api_key=api_key or NO_API_KEY,
            timeout=timeout,
            max_retries=0,
            http_client=bounded_http_client(max_line_bytes),
        )

    def models(self) -> list[ModelInfo]:
        """The configured models."""
        return list(self._models)

    async def stream(
        self,
        model: str,
        messages: list[ChatMessage],
        tools: list[ToolSpec],
        options: GenerationOptions,
    ) -> AsyncGenerator[ProviderEvent, None]:
        """Stream one reply, retrying only while nothing has been yielded.

        Raises:
            ProviderError: See the module docstring for the codes.
        """
        attempt = 0
        while True:
            yielded = False
            try:
                async with aclosing(self._attempt(model, messages, tools, options)) as events:
                    async for event in events:
                        yielded = True
                        yield event
                return
            except (OpenAIError, ValueError) as error:
                delay = _retry_delay(error, attempt, self._retry_backoff)
                if yielded or delay is None or attempt >= self._max_retries:
                    raise _to_provider_error(error) from error
            attempt += 1
            await asyncio.sleep(delay)

    async def _attempt(
        self,
        model: str,
        messages: list[ChatMessage],
        tools: list[ToolSpec],
        options: GenerationOptions,
    ) -> AsyncGenerator[ProviderEvent, None]:
        """One request: yields the text as it arrives, then the tool calls and the finish."""
        stream = await self._client.chat.completions.create(
            model=model,
            messages=[_to_sdk_message(message) for message in messages],
            tools=[_to_sdk_tool(spec) for spec in tools] if tools else omit,
            temperature=omit if options.temperature is None else options.temperature,
            max_tokens=omit if options.max_output_tokens is None else options.max_output_tokens,
            stream=True,
            stream_options={"include_usage": True},
        )
        assembler = _ReplyAssembler(self._max_output_chars)
        async with stream:
            async for chunk in stream:
                for text in assembler.feed(chunk):
                    yield text
        for event in assembler.finish():
            yield event

    async def close(self) -> None:
        """Close the SDK client's connections."""
        await self._client.close()

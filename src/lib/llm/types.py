"""Plain data shared by the providers, the tools and the agent loop.

Offers:
- ModelInfo: a model one can pick (`Query.models`).
- ToolSpec: a tool as offered to a model (name, description, JSON Schema parameters).
- ToolCallRequest: a tool call asked for by a model; also a provider stream event.
- ChatMessage: a provider-facing message in the roles of OpenAI Chat Completions.
- Usage, GenerationOptions.
- TextChunk, ProviderFinish, ProviderEvent: what `Provider.stream` yields.
- RAW_ARGUMENTS_KEY: the only key of the arguments of a call whose JSON could not be parsed.
- tool_message: the provider message carrying a tool's result back to the model.
"""

import json
from dataclasses import dataclass, field
from typing import Any, Literal

RAW_ARGUMENTS_KEY = "_raw"
"""A model that sends arguments that are not a JSON object gets a call with `{"_raw": text}`.

The text is kept (so the saved tool call shows what the model sent) and the agent loop answers
such a call with an error result instead of running the tool.
"""


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """A model offered by a provider.

    Attributes:
        id: The id clients pass as `chatModelConfig.model` (unique across providers).
        name: A name fit to show.
        provider: The name of the provider serving it (`demo`, `openai`).
        supports_tools: Whether the model may be offered tools.
    """

    id: str
    name: str
    provider: str
    supports_tools: bool


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A tool as described to a model.

    Attributes:
        name: The tool's name, as the model calls it.
        description: What the tool does, for the model.
        parameters: JSON Schema of the arguments object.
    """

    name: str
    description: str
    parameters: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ToolCallRequest:
    """A tool call asked for by a model, emitted once its arguments are complete.

    Attributes:
        id: The call id, given back with the result.
        name: The tool's name.
        arguments: The parsed arguments (`{RAW_ARGUMENTS_KEY: text}` when not a JSON object).
    """

    id: str
    name: str
    arguments: dict[str, Any]


@dataclass(slots=True)
class ChatMessage:
    """A message as sent to a provider (OpenAI Chat Completions roles).

    Attributes:
        role: system, user, assistant or tool.
        content: The text (for a tool message: its result as JSON); None when there is none.
        tool_calls: The calls an assistant message asks for.
        tool_call_id: For a tool message, the call it answers.
        name: For a tool message, the tool's name.
    """

    role: Literal["system", "user", "assistant", "tool"]
    content: str | None = None
    tool_calls: list[ToolCallRequest] = field(default_factory=list)
    tool_call_id: str | None = None
    name: str | None = None


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts of one or more provider calls."""

    input_tokens: int
    output_tokens: int

    def __add__(self, other: "Usage") -> "Usage":
        return Usage(
            self.input_tokens + other.input_tokens, self.output_tokens + other.output_tokens
        )


@dataclass(frozen=True, slots=True)
class TextChunk:
    """A piece of the reply's text, in order."""

    text: str


@dataclass(frozen=True, slots=True)
class ProviderFinish:
    """The last event of a provider stream.

    Attributes:
        reason: stop (done), length (output limit reached) or tool_calls (tools asked for).
        usage: Token counts, when the provider reported them.
    """

    reason: Literal["stop", "length", "tool_calls"]
    usage: Usage | None


ProviderEvent = TextChunk | ToolCallRequest | ProviderFinish


@dataclass(frozen=True, slots=True)
class GenerationOptions:
    """Per-request sampling options; None leaves the provider's default."""

    temperature: float | None = None
    max_output_tokens: int | None = None


def tool_message(tool_call_id: str, name: str, result: Any) -> ChatMessage:
    """The tool message that gives a tool's result back to the model.

    Args:
        tool_call_id: The id of the call answered.
        name: The tool's name.
        result: The JSON value the tool returned (an error result is `{"error": ...}`).

    Returns:
        A `tool` message whose content is the result as JSON text.
    """
    return ChatMessage(
        role="tool",
        content=json.dumps(result, ensure_ascii=False),
        tool_call_id=tool_call_id,
        name=name,
    )

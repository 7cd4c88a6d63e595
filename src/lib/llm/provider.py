"""The interface every model provider implements, and the one error it raises.

Offers:
- Provider: lists its models and streams a reply as `ProviderEvent`s.
- ProviderError: a failure with a stable `code` and a message fit to show a user.
- USER_MESSAGES: the default user message of each code.
"""

from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator

from src.lib.llm.types import (
    ChatMessage,
    GenerationOptions,
    ModelInfo,
    ProviderEvent,
    ToolSpec,
)

USER_MESSAGES: dict[str, str] = {
    "PROVIDER_AUTH": "The model provider refused the server's credentials.",
    "PROVIDER_RATE_LIMITED": "The model provider is busy (rate limited). Please try again soon.",
    "PROVIDER_TIMEOUT": "The model provider took too long to answer.",
    "PROVIDER_UNAVAILABLE": "The model provider could not be reached. Please try again.",
    "PROVIDER_BAD_RESPONSE": "The model provider sent a reply that could not be read.",
    "PROVIDER_ERROR": "The model provider could not complete the reply.",
}


class ProviderError(Exception):
    """A provider call failed.

    Attributes:
        code: Stable machine code, one of PROVIDER_AUTH, PROVIDER_RATE_LIMITED,
            PROVIDER_TIMEOUT, PROVIDER_UNAVAILABLE (connection lost or refused, 5xx),
            PROVIDER_BAD_RESPONSE (malformed or oversized stream), PROVIDER_ERROR (anything else).
        user_message: Short text fit to show a user, never a trace or a provider's raw answer;
            by default the code's entry in USER_MESSAGES.
    """

    def __init__(self, code: str, user_message: str | None = None) -> None:
        self.code = code
        self.user_message = user_message or USER_MESSAGES.get(code, USER_MESSAGES["PROVIDER_ERROR"])
        super().__init__(f"{code}: {self.user_message}")


class Provider(ABC):
    """A source of model replies.

    Attributes:
        name: The provider's name, as shown in `ModelInfo.provider`.
    """

    name: str

    @abstractmethod
    def models(self) -> list[ModelInfo]:
        """The models this provider serves."""

    @abstractmethod
    def stream(
        self,
        model: str,
        messages: list[ChatMessage],
        tools: list[ToolSpec],
        options: GenerationOptions,
    ) -> AsyncGenerator[ProviderEvent, None]:
        """Stream one reply (an async generator, closed by the caller when it stops early).

        Args:
            model: One of this provider's model ids.
            messages: The conversation, oldest first.
            tools: The tools the model may call (empty: none).
            options: Sampling options.

        Yields:
            `TextChunk`s and `ToolCallRequest`s, then exactly one `ProviderFinish`.

        Raises:
            ProviderError: The call failed, possibly after some events were yielded.
        """

    async def close(self) -> None:  # noqa: B027 - most providers hold nothing to release
        """Release the provider's connections."""

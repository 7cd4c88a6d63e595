"""Short chat titles written by a model.

Offers:
- `write_title(provider, model, question, answer)`: asks the model for a title of a chat from
  its first exchange; returns it cleaned (`clean_title`), or None when nothing usable came.
- `clean_title(text)`: the first line, without quotes, a "Title:" label or a final period, at
  most `TITLE_MAX_CHARS` characters, cut at a word boundary.
- `TITLE_INSTRUCTIONS`: the system prompt of a title request (the demo model recognizes it and
  answers with the first words of the user's message).
"""

import re

from src.lib.llm.provider import Provider
from src.lib.llm.types import ChatMessage, GenerationOptions, TextChunk

TITLE_MAX_CHARS = 60
EXCHANGE_MAX_CHARS = 2_000
"""Of the question and of the answer, at most this many characters are sent."""
TITLE_MAX_TOKENS = 40

TITLE_INSTRUCTIONS = (
    "You write titles for chats. When asked, answer with a title of at most six words for "
    "the conversation: no quotes, no final period, nothing else."
)
TITLE_REQUEST = "Write the title of this conversation."

_LABEL = re.compile(r"^(?:title)\s*:\s*", re.IGNORECASE)
_TRIM = " \t\"'`*#\u201c\u201d\u2018\u2019\u00ab\u00bb."  # spaces, quotes, emphasis, period


def clean_title(text: str) -> str | None:
    """A title fit to show, from what a model wrote.

    Args:
        text: The model's answer.

    Returns:
        The cleaned title (1 to TITLE_MAX_CHARS characters), or None when nothing is left.
    """
    line = next((line for line in text.splitlines() if line.strip(_TRIM)), "")
    title = " ".join(_LABEL.sub("", line.strip(_TRIM)).strip(_TRIM).split())
    if len(title) > TITLE_MAX_CHARS:
        head = title[: TITLE_MAX_CHARS + 1]
        title = (head.rsplit(" ", 1)[0] if " " in head else head[:-1]).strip(_TRIM)
    return title or None


async def write_title(provider: Provider, model: str, question: str, answer: str) -> str | None:
    """Ask a model for a short title of a chat.

    Args:
        provider: The provider of the model.
        model: The model's id.
        question: The user's first message.
        answer: The model's reply to it.

    Returns:
        The title, or None when the model wrote nothing usable.

    Raises:
        ProviderError: The call failed.
    """
    messages = [
        ChatMessage("system", TITLE_INSTRUCTIONS),
        ChatMessage("user", question[:EXCHANGE_MAX_CHARS]),
        ChatMessage("assistant", answer[:EXCHANGE_MAX_CHARS]),
        ChatMessage("user", TITLE_REQUEST),
    ]
    options = GenerationOptions(temperature=0.2, max_output_tokens=TITLE_MAX_TOKENS)
    chunks: list[str] = []
    async for event in provider.stream(model, messages, [], options):
        if isinstance(event, TextChunk):
            chunks.append(event.text)
    return clean_title("".join(chunks))

"""GraphQL inputs of chatStream, and their conversion into checked plain values."""

import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

import strawberry
from strawberry.types.unset import UnsetType

from src.api.common.types import parse_id
from src.core.exceptions import ValidationError

MAX_PARTS = 20
MAX_TEXT_CHARS = 32_000
MAX_URL_CHARS = 2_048
MAX_SYSTEM_PROMPT_CHARS = 8_000
MAX_OUTPUT_TOKENS = 32_768
FIELD = "input.message.parts"


@strawberry.input
class FilePartInput:
    """A file referenced by URL."""

    url: str = strawberry.field(description="http(s) URL of the file.")
    media_type: str
    name: str | None = None


@strawberry.input(one_of=True, description="Exactly one field must be set.")
class MessagePartInput:
    """One part of a new user message."""

    text: str | None = strawberry.UNSET
    file: FilePartInput | None = strawberry.UNSET


@strawberry.input
class ChatMessageInput:
    """A new user message."""

    id: strawberry.ID | None = strawberry.field(
        default=None,
        description="Client-generated UUID; sending the same id twice does not create a "
        "second message (idempotent).",
    )
    parts: list[MessagePartInput]


@strawberry.input
class ChatModelConfigInput:
    """How the reply is generated."""

    model: strawberry.ID | None = strawberry.field(
        default=None, description="One of Query.models ids; default: the configured default model."
    )
    temperature: float | None = None
    max_output_tokens: int | None = None
    system_prompt: str | None = None
    tools: list[str] | None = strawberry.field(
        default=None, description="Names of the tools the model may call; default: all tools."
    )


@strawberry.input
class ChatStreamInput:
    """What to reply to."""

    chat_id: strawberry.ID = strawberry.field(
        description="The chat; created on first use when it does not exist yet "
        "(client-generated UUID), owned by the caller."
    )
    message: ChatMessageInput | None = strawberry.field(
        default=None,
        description="The new user message. Omitted: regenerate the reply to parentId, "
        "which must be a USER message.",
    )
    parent_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET,
        description="The message this one follows; default: the chat's current leaf. "
        "Another parent creates a branch.",
    )
    chat_model_config: ChatModelConfigInput | None = None


@dataclass(frozen=True, slots=True)
class ModelConfig:
    """Checked generation settings (None: the server's default)."""

    model: str | None = None
    temperature: float | None = None
    max_output_tokens: int | None = None
    system_prompt: str | None = None
    tools: list[str] | None = None


@dataclass(frozen=True, slots=True)
class StreamRequest:
    """A checked chatStream input."""

    chat_id: uuid.UUID
    message_id: uuid.UUID | None
    parts: list[dict[str, Any]] | None
    parent_id: uuid.UUID | None
    parent_given: bool
    config: ModelConfig


def _file_part(file: FilePartInput) -> dict[str, Any]:
    url = file.url.strip()
    if len(url) > MAX_URL_CHARS or urlparse(url).scheme not in {"http", "https"}:
        raise ValidationError("A file must have an http(s) URL.", field=f"{FIELD}.file.url")
    if not file.media_type.strip() or len(file.media_type) > 255:
        raise ValidationError("A file needs a media type.", field=f"{FIELD}.file.mediaType")
    return {"type": "file", "url": url, "media_type": file.media_type.strip(), "name": file.name}


def _parts(inputs: list[MessagePartInput]) -> list[dict[str, Any]]:
    if not 1 <= len(inputs) <= MAX_PARTS:
        raise ValidationError(f"A message needs 1 to {MAX_PARTS} parts.", field=FIELD)
    parts: list[dict[str, Any]] = []
    for part in inputs:
        if isinstance(part.text, str):
            if len(part.text) > MAX_TEXT_CHARS:
                raise ValidationError(
                    f"A text part may hold at most {MAX_TEXT_CHARS} characters.", field=FIELD
                )
            parts.append({"type": "text", "text": part.text})
        elif isinstance(part.file, FilePartInput):
            parts.append(_file_part(part.file))
    if not any(p["type"] == "file" or p["text"].strip() for p in parts):
        raise ValidationError("A message cannot be empty.", field=FIELD)
    return parts


def _config(config: ChatModelConfigInput | None) -> ModelConfig:
    if config is None:
        return ModelConfig()
    field = "input.chatModelConfig"
    if config.temperature is not None and not 0 <= config.temperature <= 2:
        raise ValidationError("temperature must be between 0 and 2.", field=f"{field}.temperature")
    if (
        config.max_output_tokens is not None
        and not 1 <= config.max_output_tokens <= MAX_OUTPUT_TOKENS
    ):
        raise ValidationError(
            f"maxOutputTokens must be between 1 and {MAX_OUTPUT_TOKENS}.",
            field=f"{field}.maxOutputTokens",
        )
    if config.system_prompt is not None and len(config.system_prompt) > MAX_SYSTEM_PROMPT_CHARS:
        raise ValidationError("systemPrompt is too long.", field=f"{field}.systemPrompt")
    return ModelConfig(
        model=config.model,
        temperature=config.temperature,
        max_output_tokens=config.max_output_tokens,
        system_prompt=config.system_prompt,
        tools=config.tools,
    )


def stream_request(data: ChatStreamInput) -> StreamRequest:
    """Check a chatStream input.

    Raises:
        ValidationError: A malformed id, part or setting (names the field).
    """
    message = data.message
    parent_given = not isinstance(data.parent_id, UnsetType)
    parent_id = parse_id(data.parent_id, "input.parentId") if data.parent_id else None
    if message is None and parent_id is None:
        raise ValidationError("Regenerating a reply needs parentId.", field="input.parentId")
    return StreamRequest(
        chat_id=parse_id(data.chat_id, "input.chatId"),
        message_id=parse_id(message.id, "input.message.id") if message and message.id else None,
        parts=_parts(message.parts) if message else None,
        parent_id=parent_id,
        parent_given=parent_given,
        config=_config(data.chat_model_config),
    )

"""GraphQL inputs of chatStream, and the plain request they make."""

from typing import Any

import strawberry
from strawberry.types.unset import UnsetType

from src.api.common.types import parse_id
from src.api.stream.requests import ModelConfig, StreamRequest


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
    approval_required_tools: list[str] | None = strawberry.field(
        default=None,
        description="Names of tools that wait for the owner's approval before they run; "
        "default: none.",
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


def _part(part: MessagePartInput) -> dict[str, Any]:
    if isinstance(part.file, FilePartInput):
        file = part.file
        return {"type": "file", "url": file.url, "media_type": file.media_type, "name": file.name}
    return {"type": "text", "text": part.text if isinstance(part.text, str) else ""}


def _config(config: ChatModelConfigInput | None) -> ModelConfig:
    if config is None:
        return ModelConfig()
    return ModelConfig(
        model=config.model,
        temperature=config.temperature,
        max_output_tokens=config.max_output_tokens,
        system_prompt=config.system_prompt,
        tools=config.tools,
        approval_required_tools=config.approval_required_tools or [],
    )


def stream_request(data: ChatStreamInput) -> StreamRequest:
    """The request a chatStream input makes (its rules are checked by the service).

    Raises:
        ValidationError: A malformed id (names the field).
    """
    message = data.message
    return StreamRequest(
        chat_id=parse_id(data.chat_id, "input.chatId"),
        message_id=parse_id(message.id, "input.message.id") if message and message.id else None,
        parts=[_part(part) for part in message.parts] if message else None,
        parent_id=parse_id(data.parent_id, "input.parentId") if data.parent_id else None,
        parent_given=not isinstance(data.parent_id, UnsetType),
        config=_config(data.chat_model_config),
    )

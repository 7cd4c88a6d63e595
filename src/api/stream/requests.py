"""A chatStream request as plain values, and the rules it must follow.

Operations:
- check_request: validate a request's parts and settings, and normalise them.
"""

import uuid
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlparse

from src.core.exceptions import ValidationError
from src.core.text import check_no_nul

MAX_PARTS = 20
MAX_TEXT_CHARS = 32_000
MAX_URL_CHARS = 2_048
MAX_MEDIA_TYPE_CHARS = 255
MAX_SYSTEM_PROMPT_CHARS = 8_000
MAX_OUTPUT_TOKENS = 32_768
PARTS_FIELD = "input.message.parts"
CONFIG_FIELD = "input.chatModelConfig"


@dataclass(frozen=True, slots=True)
class ModelConfig:
    """Generation settings (None: the server's default)."""

    model: str | None = None
    temperature: float | None = None
    max_output_tokens: int | None = None
    system_prompt: str | None = None
    tools: list[str] | None = None
    approval_required_tools: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class StreamRequest:
    """What a chatStream asks for.

    Attributes:
        chat_id: The chat, created on first use.
        message_id: The client's id for the new user message, if it gave one.
        parts: The new user message's parts (`src.lib.parts` format); None to regenerate.
        parent_id: The message to answer or branch from; None for the chat's current leaf.
        parent_given: Whether the client named a parent (even null: a new root).
        config: The generation settings.
    """

    chat_id: uuid.UUID
    message_id: uuid.UUID | None
    parts: list[dict[str, Any]] | None
    parent_id: uuid.UUID | None
    parent_given: bool
    config: ModelConfig


def _file_part(part: dict[str, Any]) -> dict[str, Any]:
    for key, name in (("url", "url"), ("media_type", "mediaType"), ("name", "name")):
        check_no_nul(part.get(key) or "", f"{PARTS_FIELD}.file.{name}")
    url, media_type = part["url"].strip(), part["media_type"].strip()
    if len(url) > MAX_URL_CHARS or urlparse(url).scheme not in {"http", "https"}:
        raise ValidationError("A file must have an http(s) URL.", field=f"{PARTS_FIELD}.file.url")
    if not media_type or len(part["media_type"]) > MAX_MEDIA_TYPE_CHARS:
        raise ValidationError("A file needs a media type.", field=f"{PARTS_FIELD}.file.mediaType")
    return part | {"url": url, "media_type": media_type}


def _checked_parts(parts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if not 1 <= len(parts) <= MAX_PARTS:
        raise ValidationError(f"A message needs 1 to {MAX_PARTS} parts.", field=PARTS_FIELD)
    checked = []
    for part in parts:
        if part["type"] == "file":
            checked.append(_file_part(part))
        elif len(part["text"]) > MAX_TEXT_CHARS:
            raise ValidationError(
                f"A text part may hold at most {MAX_TEXT_CHARS} characters.", field=PARTS_FIELD
            )
        else:
            check_no_nul(part["text"], PARTS_FIELD)
            checked.append(part)
    if not any(p["type"] == "file" or p["text"].strip() for p in checked):
        raise ValidationError("A message cannot be empty.", field=PARTS_FIELD)
    return checked


def _check_config(config: ModelConfig) -> None:
    if config.temperature is not None and not 0 <= config.temperature <= 2:
        raise ValidationError(
            "temperature must be between 0 and 2.", field=f"{CONFIG_FIELD}.temperature"
        )
    tokens = config.max_output_tokens
    if tokens is not None and not 1 <= tokens <= MAX_OUTPUT_TOKENS:
        raise ValidationError(
            f"maxOutputTokens must be between 1 and {MAX_OUTPUT_TOKENS}.",
            field=f"{CONFIG_FIELD}.maxOutputTokens",
        )
    if config.system_prompt is not None and len(config.system_prompt) > MAX_SYSTEM_PROMPT_CHARS:
        raise ValidationError("systemPrompt is too long.", field=f"{CONFIG_FIELD}.systemPrompt")


def check_request(request: StreamRequest) -> StreamRequest:
    """The request with its parts normalised, once every rule holds.

    Raises:
        ValidationError: A regeneration without a parent, a malformed part, or a setting out
            of range (names the field).
    """
    if request.parts is None and request.parent_id is None:
        raise ValidationError("Regenerating a reply needs parentId.", field="input.parentId")
    if request.parts is not None:
        request = replace(request, parts=_checked_parts(request.parts))
    _check_config(request.config)
    return request

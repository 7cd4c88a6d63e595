"""Helpers of the model-layer tests: reading streams to the end, a recording search callback."""

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from src.core.enums import MessageRole
from src.lib.llm.provider import ProviderError


async def collect[T](stream: AsyncIterator[T]) -> list[T]:
    """Every item of a stream."""
    return [item async for item in stream]


async def collect_failing[T](stream: AsyncIterator[T]) -> tuple[list[T], ProviderError]:
    """The items a stream yields before it raises ProviderError, and the error."""
    items: list[T] = []
    with pytest.raises(ProviderError) as raised:
        async for item in stream:
            items.append(item)
    return items, raised.value


@dataclass(frozen=True)
class Hit:
    """A message found by a search (a `SearchHit`)."""

    text: str
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    chat_id: uuid.UUID = field(default_factory=uuid.uuid4)
    role: MessageRole = MessageRole.USER
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))


class SearchRecorder:
    """A `search_messages` callback that records its calls and answers from a fixed list."""

    def __init__(self, hits: list[Hit] | None = None) -> None:
        self.calls: list[tuple[str, int]] = []
        self.hits = hits or []

    async def __call__(self, query: str, limit: int) -> list[Hit]:
        self.calls.append((query, limit))
        return self.hits

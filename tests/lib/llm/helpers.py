"""Helpers of the model-layer tests: reading streams to the end, a recording search callback."""

from collections.abc import AsyncIterator
from typing import Any

import pytest

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


class SearchRecorder:
    """A `search_messages` callback that records its calls and answers from a fixed list."""

    def __init__(self, results: list[dict[str, Any]] | None = None) -> None:
        self.calls: list[tuple[str, int]] = []
        self.results = results or []

    async def __call__(self, query: str, limit: int) -> list[dict[str, Any]]:
        self.calls.append((query, limit))
        return self.results

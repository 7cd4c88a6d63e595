"""Fixtures of the model layer: a loopback Chat Completions server and a provider on it."""

import uuid
from collections.abc import AsyncIterator

import pytest

from src.lib.llm.openai_compat import OpenAICompatProvider
from src.lib.llm.tools.registry import ToolContext
from tests.lib.llm.chat_server import ChatServer
from tests.lib.llm.helpers import Hit, SearchRecorder


@pytest.fixture
async def chat_server() -> AsyncIterator[ChatServer]:
    server = ChatServer()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def openai_provider(chat_server: ChatServer) -> AsyncIterator[OpenAICompatProvider]:
    provider = OpenAICompatProvider(
        models=["test-model"],
        base_url=chat_server.base_url,
        api_key="test-key",
        timeout=5,
        max_retries=2,
        retry_backoff=0.01,
    )
    yield provider
    await provider.close()


@pytest.fixture
def search() -> SearchRecorder:
    return SearchRecorder([Hit("pizza dough recipe " + "x" * 600)])


@pytest.fixture
def context(search: SearchRecorder) -> ToolContext:
    return ToolContext(user_id=uuid.uuid4(), search_messages=search)

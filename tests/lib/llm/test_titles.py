"""Titles written by a model: what is asked, what the demo model answers, how it is cleaned."""

import pytest

from src.lib.llm.demo import DemoProvider
from src.lib.llm.openai_compat import OpenAICompatProvider
from src.lib.llm.provider import ProviderError
from src.lib.llm.titles import TITLE_INSTRUCTIONS, TITLE_MAX_CHARS, clean_title, write_title
from tests.lib.llm.chat_server import ChatServer, Reply, chunk


async def test_the_demo_model_titles_a_chat_with_the_first_words_of_the_question() -> None:
    title = await write_title(
        DemoProvider(), "demo", "  What is  the capital of Portugal and of Spain?", "Lisbon."
    )
    assert title == "What is the capital of Portugal"


@pytest.mark.parametrize(
    ("written", "title"),
    [
        ('"Trip to Lisbon."', "Trip to Lisbon"),
        ("Title: **Trip to Lisbon**\nA chat about a trip", "Trip to Lisbon"),
        ("\n\n  \u201cWeekend plans\u201d  ", "Weekend plans"),
        ("word " * 30, ("word " * 12).strip()),
        ("x" * 80, "x" * TITLE_MAX_CHARS),
        (' "" \n', None),
    ],
)
def test_a_written_title_is_cleaned_and_capped(written: str, title: str | None) -> None:
    assert clean_title(written) == title


async def test_the_title_request_carries_the_exchange_and_asks_for_a_title(
    chat_server: ChatServer, openai_provider: OpenAICompatProvider
) -> None:
    chat_server.replies.append(Reply(events=[chunk("Lisbon in May"), chunk(finish_reason="stop")]))
    title = await write_title(openai_provider, "test-model", "Plan my trip", "Here is a plan")
    assert title == "Lisbon in May"
    sent = chat_server.requests[0].json
    assert [m["role"] for m in sent["messages"]] == ["system", "user", "assistant", "user"]
    assert sent["messages"][0]["content"] == TITLE_INSTRUCTIONS
    assert sent["messages"][1]["content"] == "Plan my trip"
    assert "tools" not in sent


async def test_a_failing_title_model_raises_a_provider_error(
    chat_server: ChatServer, openai_provider: OpenAICompatProvider
) -> None:
    with pytest.raises(ProviderError):  # no scripted reply: the server answers 500
        await write_title(openai_provider, "test-model", "Plan my trip", "Here is a plan")

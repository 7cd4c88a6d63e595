"""The tool registry and the built-in tools: calculator, current_time, search_chats."""

from datetime import datetime, timedelta
from typing import Any

import pytest

from src.lib.llm.tools import (
    CalculatorTool,
    CurrentTimeTool,
    SearchChatsTool,
    ToolContext,
    ToolError,
    ToolRegistry,
    UnknownToolError,
    default_registry,
)
from src.lib.llm.tools.calculator import evaluate
from tests.lib.llm.helpers import Hit, SearchRecorder


@pytest.mark.parametrize(
    ("expression", "result"),
    [
        ("1 + 2", 3),
        ("(2 + 3) * 4", 20),
        ("7 / 2", 3.5),
        ("7 // 2", 3),
        ("-7 % 3", 2),
        ("2 ** 10", 1024),
        ("2 ** -1", 0.5),
        ("-(-3)", 3),
        ("+4", 4),
        ("1.5e3 - 0.5", 1499.5),
        ("2 ** 3 ** 2", 512),
        ("9 ** 1000 // 9 ** 999", 9),
    ],
)
def test_calculator_computes(expression: str, result: float) -> None:
    assert evaluate(expression) == result


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("x + 1", "Only numbers"),
        ("__import__('os').system('true')", "Only numbers"),
        ("(1).real", "Only numbers"),
        ("abs(-1)", "Only numbers"),
        ("'a' * 3", "Only numbers"),
        ("True + 1", "Only numbers"),
        ("1j * 2", "Only numbers"),
        ("[1, 2]", "Only numbers"),
        ("1 < 2", "Only numbers"),
        ("1 << 100000", "Only numbers"),
        ("lambda: 1", "Only numbers"),
        ("2 ** 10000", "Exponents larger"),
        ("2 ** 1000 ** 1000", "Exponents larger"),
        ("99 ** 999 * 99 ** 999 * 99 ** 999 * 99 ** 999 * 99 ** 999", "too large"),
        ("123456789 ** 999", "too large"),
        ("1" + " + 1" * 60, "limited to 200"),
        ("1 / 0", "Division by zero"),
        ("1 // 0", "Division by zero"),
        ("5 % 0", "Division by zero"),
        ("0 ** -1", "Division by zero"),
        ("10.0 ** 400", "too large"),
        ("1e308 * 10", "not a finite"),
        ("(-8) ** 0.5", "not a real"),
        ("3 ** 999 / 2", "too large"),
        ("1 +", "Not a valid"),
        ("", "Not a valid"),
    ],
)
def test_calculator_refuses(expression: str, message: str) -> None:
    with pytest.raises(ToolError, match=message):
        evaluate(expression)


async def test_calculator_tool_returns_expression_and_result(context: ToolContext) -> None:
    result = await CalculatorTool().run({"expression": "6 * 7"}, context)

    assert result == {"expression": "6 * 7", "result": 42}


@pytest.mark.parametrize("arguments", [{}, {"expression": 42}, {"expression": None}])
async def test_calculator_tool_checks_its_argument(
    context: ToolContext, arguments: dict[str, Any]
) -> None:
    with pytest.raises(ToolError):
        await CalculatorTool().run(arguments, context)


async def test_current_time_in_a_zone(context: ToolContext) -> None:
    result = await CurrentTimeTool().run({"timezone": "Asia/Kolkata"}, context)

    assert result["timezone"] == "Asia/Kolkata"
    assert datetime.fromisoformat(result["iso"]).utcoffset() == timedelta(hours=5.5)


async def test_current_time_defaults_to_utc(context: ToolContext) -> None:
    result = await CurrentTimeTool().run({}, context)

    assert result["timezone"] == "UTC"
    assert result["iso"].endswith("+00:00")


@pytest.mark.parametrize(
    "zone", ["Mars/Olympus", "../../etc/passwd", "/etc/passwd", "Europe", "x" * 300, 5]
)
async def test_current_time_refuses_a_bad_zone(context: ToolContext, zone: object) -> None:
    with pytest.raises(ToolError):
        await CurrentTimeTool().run({"timezone": zone}, context)


async def test_search_chats_asks_only_the_callback(
    context: ToolContext, search: SearchRecorder
) -> None:
    result = await SearchChatsTool().run({"query": " pizza ", "limit": 3}, context)

    (hit,) = search.hits
    assert search.calls == [("pizza", 3)]
    assert result == {
        "results": [
            {
                "chatId": str(hit.chat_id),
                "messageId": str(hit.id),
                "role": "USER",
                "text": hit.text[:500],
                "createdAt": hit.created_at.isoformat(),
            }
        ]
    }


async def test_search_chats_defaults_and_trims_to_the_limit(context: ToolContext) -> None:
    search = SearchRecorder([Hit(f"x{n}") for n in range(10)])
    own = ToolContext(user_id=context.user_id, search_messages=search)

    result = await SearchChatsTool().run({"query": "x"}, own)

    assert search.calls == [("x", 5)]
    assert len(result["results"]) == 5


@pytest.mark.parametrize(
    "arguments",
    [
        {},
        {"query": "  "},
        {"query": "x" * 201},
        {"query": "x", "limit": 0},
        {"query": "x", "limit": 21},
        {"query": "x", "limit": True},
    ],
)
async def test_search_chats_refuses_bad_arguments(
    context: ToolContext, search: SearchRecorder, arguments: dict[str, Any]
) -> None:
    with pytest.raises(ToolError):
        await SearchChatsTool().run(arguments, context)
    assert search.calls == []


def test_default_registry_offers_the_built_in_tools() -> None:
    registry = default_registry()

    assert [tool.name for tool in registry.all()] == ["current_time", "calculator", "search_chats"]
    specs = registry.specs()
    assert [spec.name for spec in specs] == ["current_time", "calculator", "search_chats"]
    assert all(spec.description and spec.parameters["type"] == "object" for spec in specs)


def test_registry_selects_tools_by_name() -> None:
    registry = default_registry()

    assert [spec.name for spec in registry.specs(["calculator", "calculator"])] == ["calculator"]
    assert registry.specs([]) == []
    assert registry.get("calculator") is not None
    assert registry.get("nope") is None


def test_registry_refuses_unknown_names_and_duplicates() -> None:
    registry = ToolRegistry()
    registry.register(CalculatorTool())

    with pytest.raises(UnknownToolError) as raised:
        registry.specs(["calculator", "rm"])
    assert raised.value.name == "rm"
    assert isinstance(raised.value, ValueError)
    with pytest.raises(ValueError, match="already registered"):
        registry.register(CalculatorTool())

"""build_history: stored threads turned into provider messages within a budget."""

from typing import Any

from src.lib.llm.history import build_history
from src.lib.llm.types import ChatMessage, ToolCallRequest


def text(value: str) -> dict[str, Any]:
    return {"type": "text", "text": value}


def call(call_id: str, name: str = "calculator", **arguments: Any) -> dict[str, Any]:
    return {"type": "tool_call", "tool_call_id": call_id, "tool_name": name, "arguments": arguments}


def result(call_id: str, value: Any, name: str = "calculator") -> dict[str, Any]:
    return {
        "type": "tool_result",
        "tool_call_id": call_id,
        "tool_name": name,
        "result": value,
        "is_error": False,
    }


def test_turns_in_order_with_the_system_prompt_first() -> None:
    thread = [("USER", [text("Hi")]), ("ASSISTANT", [text("Hello!")]), ("USER", [text("Bye")])]

    assert build_history("Be kind.", thread, 10_000) == [
        ChatMessage("system", "Be kind."),
        ChatMessage("user", "Hi"),
        ChatMessage("assistant", "Hello!"),
        ChatMessage("user", "Bye"),
    ]


def test_no_system_prompt() -> None:
    assert build_history(None, [("USER", [text("Hi")])], 100) == [ChatMessage("user", "Hi")]
    assert build_history("", [("USER", [text("Hi")])], 100) == [ChatMessage("user", "Hi")]


def test_files_are_mentioned_in_the_user_text() -> None:
    parts = [
        text("Look at "),
        text("this:"),
        {"type": "file", "url": "https://x.test/a.png", "media_type": "image/png", "name": "a.png"},
        {"type": "file", "url": "https://x.test/b", "media_type": "text/plain"},
        text("Thanks"),
    ]

    [message] = build_history(None, [("USER", parts)], 10_000)

    assert message.content == (
        "Look at this:\n[file: a.png (image/png) https://x.test/a.png]\n"
        "[file: unnamed (text/plain) https://x.test/b]\nThanks"
    )


def test_tool_steps_become_assistant_calls_then_tool_results() -> None:
    reply = [
        text("Let me compute. "),
        call("c1", expression="2+2"),
        call("c2", "current_time", timezone="UTC"),
        result("c1", {"result": 4}),
        result("c2", {"iso": "2030-01-01T00:00:00+00:00"}, "current_time"),
        call("c3", expression="4*4"),
        result("c3", {"error": "nope"}),
        text("It is 4."),
    ]

    messages = build_history(None, [("USER", [text("2+2?")]), ("ASSISTANT", reply)], 10_000)

    assert messages[1:] == [
        ChatMessage(
            "assistant",
            "Let me compute. ",
            [
                ToolCallRequest("c1", "calculator", {"expression": "2+2"}),
                ToolCallRequest("c2", "current_time", {"timezone": "UTC"}),
            ],
        ),
        ChatMessage("tool", '{"result": 4}', tool_call_id="c1", name="calculator"),
        ChatMessage(
            "tool", '{"iso": "2030-01-01T00:00:00+00:00"}', tool_call_id="c2", name="current_time"
        ),
        ChatMessage(
            "assistant", None, [ToolCallRequest("c3", "calculator", {"expression": "4*4"})]
        ),
        ChatMessage("tool", '{"error": "nope"}', tool_call_id="c3", name="calculator"),
        ChatMessage("assistant", "It is 4."),
    ]


def test_calls_without_results_and_empty_replies_are_left_out() -> None:
    thread = [
        ("USER", [text("Q1")]),
        ("ASSISTANT", [text("Partial "), call("c1", expression="1"), result("zz", 1)]),
        ("USER", [text("Q2")]),
        ("ASSISTANT", []),
        ("USER", [text("Q3")]),
    ]

    assert build_history(None, thread, 10_000) == [
        ChatMessage("user", "Q1"),
        ChatMessage("assistant", "Partial "),
        ChatMessage("user", "Q2"),
        ChatMessage("user", "Q3"),
    ]


def test_budget_drops_the_oldest_turns_first() -> None:
    thread = [
        ("USER", [text("a" * 40)]),
        ("ASSISTANT", [text("b" * 40)]),
        ("USER", [text("c" * 40)]),
        ("ASSISTANT", [text("d" * 40)]),
        ("USER", [text("e" * 40)]),
    ]

    messages = build_history("System prompt not counted.", thread, 120)

    assert [m.content[0] for m in messages[1:]] == ["c", "d", "e"]  # type: ignore[index]
    assert messages[0].role == "system"


def test_the_kept_turns_open_with_a_user_turn() -> None:
    thread = [
        ("USER", [text("a" * 40)]),
        ("ASSISTANT", [text("b" * 40)]),
        ("USER", [text("c" * 40)]),
    ]

    assert build_history(None, thread, 80) == [ChatMessage("user", "c" * 40)]


def test_a_tool_step_is_dropped_whole_never_split() -> None:
    reply = [call("c1", expression="1+1"), result("c1", {"result": 2}), text("Two.")]
    thread = [("USER", [text("1+1?")]), ("ASSISTANT", reply), ("USER", [text("x" * 30)])]

    kept = build_history(None, thread, 50)

    assert kept == [ChatMessage("user", "x" * 30)]
    assert build_history(None, thread, 200)[1].tool_calls[0].id == "c1"


def test_the_last_user_turn_is_kept_even_beyond_the_budget() -> None:
    thread = [
        ("USER", [text("old")]),
        ("ASSISTANT", [text("older reply")]),
        ("USER", [text("z" * 500)]),
    ]

    assert build_history("S", thread, 100) == [
        ChatMessage("system", "S"),
        ChatMessage("user", "z" * 500),
    ]

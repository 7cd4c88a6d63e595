"""Event encoding, terminal events and delta merging."""

import json
from uuid import uuid4

import pytest

from src.lib.streaming.broker import coalesce
from src.lib.streaming.events import (
    StreamEvent,
    StreamFailed,
    StreamFinished,
    StreamStarted,
    TextDelta,
    ToolApprovalRequested,
    ToolCallEvent,
    ToolResultEvent,
    decode_event,
    encode_event,
    is_terminal,
)

MESSAGE = uuid4()
OTHER = uuid4()

ALL_EVENTS: list[StreamEvent] = [
    StreamStarted(0, uuid4(), MESSAGE, uuid4(), "demo"),
    StreamStarted(0, uuid4(), MESSAGE, None, "gpt-4o"),
    TextDelta(1, MESSAGE, 'Hé "quoted" \\ back\nslash \u2028 \U0001f600 \ud800'),
    ToolCallEvent(2, MESSAGE, "call_1", "calculator", {"expression": "1+2", "nested": [1, None]}),
    ToolApprovalRequested(3, MESSAGE, "call_1", "calculator", {"expression": "1+2"}),
    ToolResultEvent(3, MESSAGE, "call_1", "calculator", {"value": 3}, False),
    ToolResultEvent(4, MESSAGE, "call_2", "current_time", "unknown zone", True),
    StreamFinished(5, MESSAGE, "STOP", {"input_tokens": 3, "output_tokens": 9}),
    StreamFinished(5, MESSAGE, "CANCELLED", None),
    StreamFailed(6, MESSAGE, "PROVIDER_TIMEOUT", "The model did not answer in time."),
]


@pytest.mark.parametrize("event", ALL_EVENTS, ids=lambda e: type(e).__name__)
def test_every_event_survives_an_encode_decode_round_trip(event: StreamEvent) -> None:
    encoded = encode_event(event)

    assert decode_event(encoded) == event
    assert decode_event(encoded.encode()) == event
    assert json.loads(encoded)["t"]
    assert encoded == json.dumps(json.loads(encoded), separators=(",", ":"))


def test_every_event_names_its_generation() -> None:
    assert {e.message_id for e in ALL_EVENTS} == {MESSAGE}


def test_only_finished_and_failed_are_terminal() -> None:
    assert [type(e).__name__ for e in ALL_EVENTS if is_terminal(e)] == [
        "StreamFinished",
        "StreamFinished",
        "StreamFailed",
    ]


@pytest.mark.parametrize("data", ["{}", '{"t":"?"}', "[1]", "not json", '{"t":"d","s":1}'])
def test_decoding_something_else_is_a_value_error(data: str) -> None:
    with pytest.raises(ValueError, match=r"stream event|Expecting"):
        decode_event(data)


def test_coalesce_merges_adjacent_deltas_of_one_message() -> None:
    call = ToolCallEvent(3, MESSAGE, "c", "calculator", {})
    events: list[StreamEvent] = [
        TextDelta(1, MESSAGE, "a"),
        TextDelta(2, MESSAGE, "b"),
        call,
        TextDelta(4, MESSAGE, "c"),
        TextDelta(5, MESSAGE, "d"),
        TextDelta(6, MESSAGE, "e"),
        TextDelta(0, OTHER, "x"),
        TextDelta(1, OTHER, "y"),
    ]

    assert coalesce(events) == [
        TextDelta(2, MESSAGE, "ab"),
        call,
        TextDelta(6, MESSAGE, "cde"),
        TextDelta(1, OTHER, "xy"),
    ]


@pytest.mark.parametrize("count", [0, 1])
def test_coalesce_leaves_short_lists_alone(count: int) -> None:
    events: list[StreamEvent] = [TextDelta(1, MESSAGE, "a") for _ in range(count)]
    assert coalesce(events) == events

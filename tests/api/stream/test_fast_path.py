"""The stream-event fast path renders exactly what graphql-core's execution would."""

import inspect
import uuid
from typing import Any

import pytest
import strawberry
from graphql import parse
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from src.api.messages.types import TokenUsage
from src.api.schema import schema
from src.api.stream.fast_path import StreamingExecutionContext, event_sink
from src.api.stream.types import (
    StreamFailed,
    StreamFinished,
    StreamStarted,
    TextDelta,
    ToolCallEvent,
)
from src.core.enums import FinishReason

EVENT = TextDelta(seq=7, message_id=strawberry.ID(str(uuid.uuid4())), delta="hello ")
CHAT = {"c": str(uuid.uuid4())}
ALL_FIELDS = (
    "subscription S($c: ID!) { chatEvents(chatId: $c) { __typename "
    "... on StreamStarted { seq chatId assistantMessageId model } "
    "... on TextDelta { seq messageId delta } "
    "... on ToolCallEvent { seq messageId toolCallId toolName arguments } "
    "... on StreamFinished { seq finishReason u: usage { inputTokens outputTokens } } "
    "... on StreamFailed { seq messageId code errorMessage } } }"
)
PLAIN_EVENTS = [
    StreamStarted(
        seq=0,
        chat_id=strawberry.ID("c1"),
        assistant_message_id=strawberry.ID("m1"),
        model=strawberry.ID("demo"),
        user_message_id=None,
    ),
    EVENT,
    ToolCallEvent(
        seq=2,
        message_id=strawberry.ID("m1"),
        tool_call_id="t1",
        tool_name="calculator",
        arguments={"expression": "1 + 2", "nested": [1, {"a": None}]},  # type: ignore[arg-type]
    ),
    StreamFinished(
        seq=3,
        finish_reason=FinishReason.LENGTH,
        usage=TokenUsage(input_tokens=3, output_tokens=4),
        message_id=uuid.uuid4(),
    ),
    StreamFinished(seq=3, finish_reason=FinishReason.STOP, usage=None, message_id=uuid.uuid4()),
    StreamFailed(seq=4, message_id=strawberry.ID("m1"), code="PROVIDER_ERROR", error_message="x"),
]


async def _execute(
    executor_class: type[StrawberryGraphQLCoreExecutionContext],
    document: str,
    variables: dict[str, Any],
    event: object = EVENT,
) -> Any:
    executor = executor_class.build(schema._schema, parse(document), raw_variable_values=variables)
    assert not isinstance(executor, list), executor  # a list holds the document's errors
    per_event = executor.build_per_event_executor(event)
    result = per_event.execute_operation(False)
    return (await result if inspect.isawaitable(result) else result), per_event


@pytest.mark.parametrize(
    ("document", "variables"),
    [
        (
            "subscription S($c: ID!) { chatEvents(chatId: $c) "
            "{ __typename ... on TextDelta { seq messageId delta } } }",
            CHAT,
        ),
        (
            "subscription S($c: ID!) { watch: chatEvents(chatId: $c) { kind: __typename "
            "... on TextDelta { n: seq text: delta } ... on StreamFinished { seq } } }",
            CHAT,
        ),
        (
            "subscription S($c: ID!, $ids: Boolean!) { chatEvents(chatId: $c) { ...F } } "
            "fragment F on StreamEvent { ... on TextDelta { delta messageId @include(if: $ids) "
            "seq @skip(if: true) delta } }",
            CHAT | {"ids": False},
        ),
        ("subscription S($c: ID!) { chatEvents(chatId: $c) { __typename } }", CHAT),
    ],
)
async def test_fast_path_output_equals_execution(document: str, variables: dict[str, Any]) -> None:
    fast, per_event = await _execute(StreamingExecutionContext, document, variables)
    slow, _ = await _execute(StrawberryGraphQLCoreExecutionContext, document, variables)
    assert type(per_event).__name__ == "_RenderedEvent"  # the fast path was taken
    assert fast.errors is None and slow.errors is None
    assert fast.data == slow.data


@pytest.mark.parametrize("event", PLAIN_EVENTS, ids=lambda event: type(event).__name__)
async def test_every_plain_event_renders_as_executed(event: object) -> None:
    fast, per_event = await _execute(StreamingExecutionContext, ALL_FIELDS, CHAT, event)
    slow, _ = await _execute(StrawberryGraphQLCoreExecutionContext, ALL_FIELDS, CHAT, event)
    assert type(per_event).__name__ == "_RenderedEvent"
    assert fast.errors is None and slow.errors is None
    assert fast.data == slow.data


@pytest.mark.parametrize(
    ("document", "event"),
    [
        (  # a resolver field: the saved message is loaded
            "subscription S($c: ID!) { chatEvents(chatId: $c) "
            "{ ... on StreamFinished { seq message { id } } } }",
            PLAIN_EVENTS[3],
        ),
        (  # a null where the type forbids one: graphql-core reports it
            "subscription S($c: ID!) { chatEvents(chatId: $c) { ... on TextDelta { delta } } }",
            TextDelta(seq=1, message_id=strawberry.ID("m"), delta=None),  # type: ignore[arg-type]
        ),
    ],
)
async def test_what_cannot_be_rendered_is_executed(document: str, event: object) -> None:
    executor = StreamingExecutionContext.build(
        schema._schema, parse(document), raw_variable_values=CHAT
    )
    assert isinstance(executor, StreamingExecutionContext), executor
    assert type(executor.build_per_event_executor(event)).__name__ != "_RenderedEvent"


async def _events(log: list[object]) -> Any:
    for event in (EVENT, "not a TextDelta", EVENT):
        log.append(("read", event))
        yield event


def _subscription_executor() -> StreamingExecutionContext:
    document = (
        "subscription S($c: ID!) { w: chatEvents(chatId: $c) { ... on TextDelta { delta } } }"
    )
    executor = StreamingExecutionContext.build(
        schema._schema, parse(document), raw_variable_values=CHAT
    )
    assert isinstance(executor, StreamingExecutionContext), executor
    return executor


async def test_a_sink_gets_each_text_delta_rendered_in_stream_order() -> None:
    log: list[object] = []

    async def sink(data: dict[str, Any]) -> None:
        log.append(("sent", data))

    token = event_sink.set(sink)
    try:
        stream = _subscription_executor().cancellable_iterable(_events(log))
    finally:
        event_sink.reset(token)
    async for event in stream:
        log.append(("yielded", event))
    sent = ("sent", {"w": {"delta": EVENT.delta}})
    assert log == [
        ("read", EVENT),
        sent,
        ("read", "not a TextDelta"),
        ("yielded", "not a TextDelta"),
        ("read", EVENT),
        sent,
    ]


async def test_without_a_sink_every_event_takes_the_normal_path() -> None:
    log: list[object] = []
    source = _events(log)
    assert _subscription_executor().cancellable_iterable(source) is source


def _executor(document: Any, variables: dict[str, Any]) -> StreamingExecutionContext:
    executor = StreamingExecutionContext.build(
        schema._schema, document, raw_variable_values=variables
    )
    assert isinstance(executor, StreamingExecutionContext), executor
    return executor


async def test_operations_of_one_document_share_renderers_per_directive_values() -> None:
    document = parse(
        "subscription S($c: ID!, $ids: Boolean!) { chatEvents(chatId: $c) "
        "{ ... on TextDelta { delta messageId @include(if: $ids) } } }"
    )
    other_chat = {"c": str(uuid.uuid4())}
    with_ids = [_executor(document, chat | {"ids": True}) for chat in (CHAT, other_chat)]
    without_ids = _executor(document, CHAT | {"ids": False})

    rendered = [
        executor.build_per_event_executor(EVENT).execute_operation(False).data
        for executor in (*with_ids, without_ids)
    ]

    assert with_ids[0]._event_renderers is with_ids[1]._event_renderers
    assert without_ids._event_renderers is not with_ids[0]._event_renderers
    both = {"delta": EVENT.delta, "messageId": EVENT.message_id}
    assert rendered == [{"chatEvents": both}] * 2 + [{"chatEvents": {"delta": EVENT.delta}}]

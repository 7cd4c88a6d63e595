"""The TextDelta fast path renders exactly what graphql-core's execution would."""

import inspect
import uuid
from typing import Any

import pytest
import strawberry
from graphql import parse
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from src.api.schema import schema
from src.api.stream.fast_path import StreamingExecutionContext
from src.api.stream.types import TextDelta

EVENT = TextDelta(seq=7, message_id=strawberry.ID(str(uuid.uuid4())), delta="hello ")
CHAT = {"c": str(uuid.uuid4())}


async def _execute(
    executor_class: type[StrawberryGraphQLCoreExecutionContext],
    document: str,
    variables: dict[str, Any],
) -> Any:
    executor = executor_class.build(schema._schema, parse(document), raw_variable_values=variables)
    assert not isinstance(executor, list), executor  # a list holds the document's errors
    per_event = executor.build_per_event_executor(EVENT)
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

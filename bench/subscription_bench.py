"""CPU per subscription event in the GraphQL layer alone: graphql-core execution vs fast path.

Run by hand (numbers go to bench/README.md):
    uv run python -m bench.subscription_bench [--events 20000]

A subscription yields TextDelta objects as fast as it can, through Strawberry with the
project's extensions, once with Strawberry's execution context and once with the TextDelta
fast path (`src/api/stream/fast_path.py`). In process, no sockets: the least noisy view of
what the GraphQL layer adds per token. Best of three runs each.
"""

import argparse
import asyncio
import time
import uuid
from collections.abc import AsyncGenerator

import strawberry
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from src.api.errors import ErrorCodes
from src.api.limits import QueryLimits
from src.api.observability import OperationNameRecorder
from src.api.stream.fast_path import StreamingExecutionContext
from src.api.stream.types import StreamEvent, TextDelta, to_graphql
from src.lib.streaming import events

DOCUMENT = """subscription { chatEvents {
  __typename ... on TextDelta { seq messageId delta } ... on StreamFinished { seq }
} }"""


def build_schema(count: int, context: type) -> strawberry.Schema:
    """A schema whose one subscription yields `count` TextDeltas."""
    message_id = uuid.uuid4()

    @strawberry.type
    class Query:
        ok: bool = True

    @strawberry.type
    class Subscription:
        @strawberry.subscription
        async def chat_events(self) -> AsyncGenerator[StreamEvent, None]:
            for seq in range(count):
                yield to_graphql(events.TextDelta(seq, message_id, "word "))

    return strawberry.Schema(
        query=Query,
        subscription=Subscription,
        types=[TextDelta],
        extensions=[OperationNameRecorder, ErrorCodes, QueryLimits],
        execution_context_class=context,
    )


async def per_event(schema: strawberry.Schema, count: int) -> float:
    """Best CPU µs per event over three runs."""
    best = float("inf")
    for _ in range(3):
        started = time.process_time()
        async for _result in await schema.subscribe(DOCUMENT):
            pass
        best = min(best, (time.process_time() - started) / count * 1e6)
    return best


def main() -> None:
    """Measure both paths and print them."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=20_000)
    count = parser.parse_args().events
    for label, context in (
        ("graphql-core execution", StrawberryGraphQLCoreExecutionContext),
        ("TextDelta fast path", StreamingExecutionContext),
    ):
        cost = asyncio.run(per_event(build_schema(count, context), count))
        print(f"{label:<24}{cost:8.1f} µs/event")


if __name__ == "__main__":
    main()

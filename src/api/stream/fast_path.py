"""The per-token fast path: TextDelta events rendered, and sent, without the per-event machinery.

A subscription event normally goes through graphql-core's whole execution of the selection
set (field collection, type resolution, a resolver per field), then Strawberry's per-result
work (extension hooks, result objects) and its protocol handler's: most of the server's cost
per token. A TextDelta has only scalar fields, so once per operation we collect the fields the
client selected on TextDelta (aliases, fragments and @skip/@include resolved by graphql-core
itself) and from then on build each TextDelta's response directly.

Where the WebSocket handler gives the operation's task an `EventSink` (`event_sink`), a
TextDelta's response goes straight to it from the source stream, and never enters
graphql-core's response stream or Strawberry's; every other event takes the normal path, in
order, since the stream waits for each send before it reads the next event. Without a sink
(or with a selection we cannot render the same way) the rendered response still replaces
graphql-core's execution of the event.
"""

from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable
from contextvars import ContextVar
from typing import Any

from graphql import ExecutionResult, GraphQLObjectType, OperationType
from graphql.execution.async_iterables import aclosing
from graphql.execution.collect_fields import collect_fields, collect_subfields
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from src.api.stream.types import TextDelta

Renderer = Callable[[TextDelta], dict[str, Any]]

EventSink = Callable[[dict[str, Any]], Awaitable[None]]
"""Sends one event's response data to the client, as its operation's next message."""

event_sink: ContextVar[EventSink | None] = ContextVar("event_sink", default=None)
"""The sink of the subscription that the current task runs, set by its WebSocket handler."""

_FIELDS: dict[str, Callable[[TextDelta], Any]] = {
    "__typename": lambda _: "TextDelta",
    "seq": lambda event: event.seq,
    "messageId": lambda event: event.message_id,
    "delta": lambda event: event.delta,
}


class _RenderedEvent:
    """Stands in for graphql-core's per-event executor: its result is already built."""

    __slots__ = ("_result",)

    def __init__(self, data: dict[str, Any]) -> None:
        self._result = ExecutionResult(data=data, errors=None)

    def execute_operation(self, serially: bool | None = None) -> ExecutionResult:
        return self._result


class StreamingExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's execution context, with TextDelta events rendered directly."""

    _text_delta_renderer: Renderer | None

    def cancellable_iterable(self, iterable: AsyncIterable[Any]) -> AsyncIterable[Any]:
        """A subscription's source stream, its TextDeltas sent to the task's sink if it has one."""
        events = super().cancellable_iterable(iterable)
        sink = event_sink.get()
        if sink is None or self.operation.operation is not OperationType.SUBSCRIPTION:
            return events
        event_sink.set(None)  # the operation's own stream only, not a nested one
        render = self._renderer()
        return events if render is None else _sending_text_deltas(events, render, sink)

    def build_per_event_executor(self, payload: Any) -> Any:
        """The executor for one subscription event: a rendered one for a TextDelta."""
        if type(payload) is TextDelta and (render := self._renderer()) is not None:
            return _RenderedEvent(render(payload))
        return super().build_per_event_executor(payload)

    def _renderer(self) -> Renderer | None:
        try:
            return self._text_delta_renderer
        except AttributeError:
            render = self._text_delta_renderer = self._compile_text_delta()
            return render

    def _compile_text_delta(self) -> Renderer | None:
        """How to render a TextDelta for this operation, or None when it must be executed."""
        root_type = self.schema.subscription_type
        text_delta = self.schema.get_type("TextDelta")
        if root_type is None or not isinstance(text_delta, GraphQLObjectType):
            return None
        root = collect_fields(
            self.schema, self.fragments, self.variable_values, root_type, self.operation
        )
        if len(root.grouped_field_set) != 1 or root.new_defer_usages:
            return None
        ((root_key, root_details),) = root.grouped_field_set.items()
        fields = collect_subfields(
            self.schema,
            self.fragments,
            self.variable_values,
            self.operation,
            text_delta,
            root_details,
        )
        if fields.new_defer_usages:
            return None
        plan: list[tuple[str, Callable[[TextDelta], Any]]] = []
        for key, details in fields.grouped_field_set.items():
            node = details[0].node
            getter = _FIELDS.get(node.name.value)
            if getter is None or node.arguments or node.selection_set:
                return None
            plan.append((key, getter))

        def render(event: TextDelta) -> dict[str, Any]:
            return {root_key: {key: getter(event) for key, getter in plan}}

        return render


async def _sending_text_deltas(
    events: AsyncIterable[Any], render: Renderer, sink: EventSink
) -> AsyncIterator[Any]:
    """The events that need executing; each TextDelta is rendered and sent on the way."""
    async with aclosing(events):
        async for event in events:
            if type(event) is TextDelta:
                await sink(render(event))
            else:
                yield event

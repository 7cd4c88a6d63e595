"""The per-token fast path: TextDelta events rendered without running graphql-core per event.

A subscription event normally goes through graphql-core's whole execution of the selection
set (field collection, type resolution, a resolver per field): most of the server's cost per
token. A TextDelta has only scalar fields, so once per operation we collect the fields the
client selected on TextDelta (aliases, fragments and @skip/@include resolved by graphql-core
itself) and from then on build each TextDelta's response directly. Any other event, or any
selection we cannot render the same way, takes the normal path.
"""

from collections.abc import Callable
from typing import Any

from graphql import ExecutionResult, GraphQLObjectType
from graphql.execution.collect_fields import collect_fields, collect_subfields
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from src.api.stream.types import TextDelta

Renderer = Callable[[TextDelta], dict[str, Any]]

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

    def build_per_event_executor(self, payload: Any) -> Any:
        """The executor for one subscription event: a rendered one for a TextDelta."""
        if type(payload) is TextDelta:
            try:
                render = self._text_delta_renderer
            except AttributeError:
                render = self._text_delta_renderer = self._compile_text_delta()
            if render is not None:
                return _RenderedEvent(render(payload))
        return super().build_per_event_executor(payload)

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

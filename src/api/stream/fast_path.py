"""The per-event fast path: stream events rendered, and sent, without the per-event machinery.

A subscription event normally goes through graphql-core's whole execution of the selection
set (field collection, type resolution, a resolver per field), then Strawberry's per-result
work (extension hooks, result objects) and its protocol handler's: most of the server's cost
per token. Most stream events are plain records, so once per operation we collect the fields
the client selected on each event type (aliases, fragments and @skip/@include resolved by
graphql-core itself) and, for every type whose selected fields are all plain attributes
(scalars, enums, and objects of those), build each event's response directly, each value
serialized by its GraphQL type as graphql-core would. A type with a selected resolver field
(StreamFinished.message, say), or an event with a null where its type forbids one, is executed
by graphql-core as usual.

Where the WebSocket handler gives the operation's task an `EventSink` (`event_sink`), a
rendered response goes straight to it from the source stream, and never enters graphql-core's
response stream or Strawberry's; every other event takes the normal path, in order, since the
stream waits for each send before it reads the next event. Without a sink the rendered
response still replaces graphql-core's execution of the event.
"""

from collections import OrderedDict
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DirectiveNode,
    ExecutionResult,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    OperationDefinitionNode,
    OperationType,
    VariableNode,
    Visitor,
    get_nullable_type,
    is_abstract_type,
    is_leaf_type,
    is_object_type,
    visit,
)
from graphql.execution.async_iterables import aclosing
from graphql.execution.collect_fields import FieldDetails, collect_fields, collect_subfields
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField

Renderer = Callable[[Any], dict[str, Any]]
"""Builds the response data of one event of one type."""

EventSink = Callable[[dict[str, Any]], Awaitable[None]]
"""Sends one event's response data to the client, as its operation's next message."""

event_sink: ContextVar[EventSink | None] = ContextVar("event_sink", default=None)
"""The sink of the subscription that the current task runs, set by its WebSocket handler."""


class _NullInNonNull(Exception):
    """An event holds a null where its type forbids one: graphql-core reports that."""


class _RenderedEvent:
    """Stands in for graphql-core's per-event executor: its result is already built."""

    __slots__ = ("_result",)

    def __init__(self, data: dict[str, Any]) -> None:
        self._result = ExecutionResult(data=data, errors=None)

    def execute_operation(self, serially: bool | None = None) -> ExecutionResult:
        return self._result


class StreamingExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's execution context, with plain stream events rendered directly."""

    _event_renderers: Mapping[type, Renderer]
    """This operation's renderers: shared by every operation of the same document."""

    def cancellable_iterable(self, iterable: AsyncIterable[Any]) -> AsyncIterable[Any]:
        """A subscription's source stream, its plain events sent to the task's sink if any."""
        events = super().cancellable_iterable(iterable)
        sink = event_sink.get()
        if sink is None or self.operation.operation is not OperationType.SUBSCRIPTION:
            return events
        event_sink.set(None)  # the operation's own stream only, not a nested one
        renderers = self._renderers()
        return _sending_rendered(events, renderers, sink) if renderers else events

    def build_per_event_executor(self, payload: Any) -> Any:
        """The executor for one subscription event: a rendered one for a plain event."""
        render = self._renderers().get(type(payload))
        if render is not None:
            try:
                return _RenderedEvent(render(payload))
            except _NullInNonNull:
                pass
        return super().build_per_event_executor(payload)

    def _renderers(self) -> Mapping[type, Renderer]:
        try:
            return self._event_renderers
        except AttributeError:
            renderers = self._event_renderers = _PLANS.renderers(self)
            return renderers

    def _compile(self) -> dict[type, Renderer]:
        """A renderer for each event type this operation can render, by Python class."""
        root_type = self.schema.subscription_type
        if root_type is None or self.operation.operation is not OperationType.SUBSCRIPTION:
            return {}
        root = collect_fields(
            self.schema, self.fragments, self.variable_values, root_type, self.operation
        )
        if len(root.grouped_field_set) != 1 or root.new_defer_usages:
            return {}
        ((root_key, root_details),) = root.grouped_field_set.items()
        root_field = root_type.fields.get(root_details[0].node.name.value)
        event_type = get_nullable_type(root_field.type) if root_field else None
        if is_abstract_type(event_type):
            types = self.schema.get_possible_types(event_type)
        elif is_object_type(event_type):
            types = [event_type]
        else:
            return {}
        renderers: dict[type, Renderer] = {}
        for object_type in types:
            definition = object_type.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
            render = self._object_plan(object_type, root_details)
            if definition is not None and render is not None:
                renderers[definition.origin] = _under(root_key, render)
        return renderers

    def _object_plan(
        self, object_type: GraphQLObjectType, details: list[FieldDetails]
    ) -> Renderer | None:
        """How to render an object's selected fields, or None if one needs executing."""
        fields = collect_subfields(
            self.schema, self.fragments, self.variable_values, self.operation, object_type, details
        )
        if fields.new_defer_usages:
            return None
        plan: list[tuple[str, Callable[[Any], Any]]] = []
        for key, field_details in fields.grouped_field_set.items():
            node = field_details[0].node
            name = node.name.value
            if name == "__typename":
                plan.append((key, _constant(object_type.name)))
                continue
            graphql_field = object_type.fields.get(name)
            strawberry_field = (
                graphql_field.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
                if graphql_field
                else None
            )
            if (
                graphql_field is None
                or node.arguments
                or not isinstance(strawberry_field, StrawberryField)
                or strawberry_field.base_resolver is not None
            ):
                return None
            value = self._value_plan(graphql_field.type, field_details)
            if value is None:
                return None
            plan.append((key, _attribute(strawberry_field.python_name, value)))

        def render(source: Any) -> dict[str, Any]:
            return {key: get(source) for key, get in plan}

        return render

    def _value_plan(
        self, field_type: GraphQLOutputType, details: list[FieldDetails]
    ) -> Callable[[Any], Any] | None:
        """How to complete a plain attribute's value of this type, or None if it cannot be."""
        required = isinstance(field_type, GraphQLNonNull)
        named = get_nullable_type(field_type)
        complete: Callable[[Any], Any]
        if is_leaf_type(named):
            complete = named.serialize
        elif is_object_type(named):
            render = self._object_plan(named, details)
            if render is None:
                return None
            complete = render
        else:  # lists and abstract types: left to graphql-core
            return None

        def value(raw: Any) -> Any:
            if raw is None:
                if required:
                    raise _NullInNonNull
                return None
            return complete(raw)

        return value


class _Plans:
    """The renderers of recent operations, made once per operation and @skip/@include values.

    Every chatStream and chatEvents of a client sends the same document, which the parser
    cache gives as the same AST: its renderers are made once, and an idle watcher holds none
    of its own. The operation node is kept with its entry, so its id cannot be reused while
    the entry lives.
    """

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._entries: OrderedDict[int, _PlanEntry] = OrderedDict()

    def renderers(self, executor: StreamingExecutionContext) -> Mapping[type, Renderer]:
        """The executor's renderers, made on the first operation of its document."""
        operation = executor.operation
        entry = self._entries.get(id(operation))
        if entry is None or entry.operation is not operation:
            entry = _PlanEntry(operation, _directive_variables(executor))
            self._entries[id(operation)] = entry
            if len(self._entries) > self.maxsize:
                self._entries.popitem(last=False)
        else:
            self._entries.move_to_end(id(operation))
        if entry.variables is None:  # fragment arguments: not worth a key of their own
            return executor._compile()
        coerced = executor.variable_values.coerced
        values = tuple(coerced.get(name) for name in entry.variables)
        renderers = entry.by_values.get(values)
        if renderers is None:
            renderers = entry.by_values[values] = executor._compile()
        return renderers


@dataclass(slots=True)
class _PlanEntry:
    operation: OperationDefinitionNode
    variables: tuple[str, ...] | None
    by_values: dict[tuple[Any, ...], Mapping[type, Renderer]] = field(default_factory=dict)


class _DirectiveVariables(Visitor):
    """Collects the variables that @skip and @include read."""

    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()

    def enter_directive(self, node: DirectiveNode, *_args: Any) -> None:
        """Note the variable of an @skip or @include."""
        if node.name.value in ("skip", "include"):
            for argument in node.arguments or ():
                if isinstance(argument.value, VariableNode):
                    self.names.add(argument.value.name.value)


def _directive_variables(executor: StreamingExecutionContext) -> tuple[str, ...] | None:
    """The variables whose values decide which fields the operation selects.

    None when a fragment takes arguments (an experimental feature): its own variables decide.
    """
    if any(details.variable_signatures for details in executor.fragments.values()):
        return None
    visitor = _DirectiveVariables()
    visit(executor.operation, visitor)
    for details in executor.fragments.values():
        visit(details.definition, visitor)
    return tuple(sorted(visitor.names))


_PLANS = _Plans(maxsize=256)  # as many as the parser cache keeps documents


def _constant(value: str) -> Callable[[Any], str]:
    return lambda _: value


def _attribute(name: str, complete: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda source: complete(getattr(source, name))


def _under(key: str, render: Renderer) -> Renderer:
    return lambda event: {key: render(event)}


async def _sending_rendered(
    events: AsyncIterable[Any], renderers: Mapping[type, Renderer], sink: EventSink
) -> AsyncIterator[Any]:
    """The events that need executing; each plain one is rendered and sent on the way."""
    async with aclosing(events):
        async for event in events:
            render = renderers.get(type(event))
            if render is None:
                yield event
                continue
            try:
                data = render(event)
            except _NullInNonNull:
                yield event
                continue
            await sink(data)

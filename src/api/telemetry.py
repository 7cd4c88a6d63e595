"""Metrics and tracing for the application: `GET /metrics`, GraphQL counts, OpenTelemetry.

Offers:
- install_telemetry: turns tracing on or off for the process (`OTEL_EXPORTER_OTLP_ENDPOINT`),
  instruments the app for it, counts its WebSockets and serves `/metrics` (`METRICS_ENABLED`).
- schema_extensions: the schema extensions that count operations and subscriptions, plus
  Strawberry's OpenTelemetry extension while tracing is on.
- OperationMetrics: the counting extension.
- WebSocketGauge, ServerSpanStamp: ASGI middleware counting WebSockets (the `/graphql` one,
  which skips the middleware, is counted by src/api/socket_shortcut.py), and stamping the
  request id on the HTTP server span while tracing.

The metrics themselves are defined in `src.lib.metrics`.
"""

from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI, Response
from graphql import FieldNode, OperationDefinitionNode, OperationType
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from starlette.types import ASGIApp, Receive, Scope, Send
from strawberry.extensions import SchemaExtension

from src.core.config import Settings
from src.core.logger import request_id_var
from src.lib import metrics, tracing

SUBSCRIPTION_KINDS = frozenset({"chatStream", "chatEvents"})
"""Subscriptions counted by their own name; the others count as `other`."""

_operation_names: set[str] = set()


def _operation(execution_context: Any) -> OperationDefinitionNode | None:
    """The operation the request runs (the named one, else the first), once parsed."""
    document = execution_context.graphql_document
    name = execution_context.operation_name
    for definition in document.definitions if document else ():
        if isinstance(definition, OperationDefinitionNode) and (
            name is None or (definition.name and definition.name.value == name)
        ):
            return definition
    return None


def _subscription_kind(operation: OperationDefinitionNode) -> str:
    for selection in operation.selection_set.selections:
        if isinstance(selection, FieldNode) and selection.name.value in SUBSCRIPTION_KINDS:
            return selection.name.value
    return "other"


class OperationMetrics(SchemaExtension):
    """Counts operations by name, type and outcome, and the subscriptions running by kind."""

    def on_operation(self) -> Iterator[None]:
        """Count the operation once it ends (a subscription ends with its stream).

        A subscription the client stops ends with an exception thrown in here (cancellation):
        it is counted down all the same, as `ok`.
        """
        self._subscription: str | None = None
        failed = False
        try:
            yield
        except Exception:
            failed = True
            raise
        finally:
            if self._subscription is not None:
                metrics.SUBSCRIPTIONS_OPEN.labels(self._subscription).dec()
            self._count(failed)

    def _count(self, failed: bool) -> None:
        context = self.execution_context
        operation = _operation(context)
        failed = failed or bool(
            context.pre_execution_errors or (context.result and context.result.errors)
        )
        metrics.GRAPHQL_OPERATIONS.labels(
            metrics.bounded_label(context.operation_name or "-", _operation_names),
            operation.operation.value if operation else "-",
            "error" if failed else "ok",
        ).inc()

    def on_execute(self) -> Iterator[None]:
        """A subscription starts running: count it by its root field."""
        operation = _operation(self.execution_context)
        if operation is not None and operation.operation is OperationType.SUBSCRIPTION:
            self._subscription = _subscription_kind(operation)
            metrics.SUBSCRIPTIONS_OPEN.labels(self._subscription).inc()
        yield


def _no_arguments(arguments: dict[str, Any], info: Any) -> dict[str, Any]:
    """Resolver arguments are never put on spans: they hold passwords and message text."""
    return {}


def schema_extensions() -> list[Any]:
    """The extensions for a schema built now: counting, and tracing if it is on."""
    provider = tracing.tracer_provider()
    if provider is None:
        return [OperationMetrics]
    from strawberry.extensions.tracing import OpenTelemetryExtension  # only when tracing

    return [
        OperationMetrics,
        lambda: OpenTelemetryExtension(arg_filter=_no_arguments, tracer_provider=provider),
    ]


class WebSocketGauge:
    """ASGI middleware counting the WebSocket connections open (HTTP passes through)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the connection, counted while it lasts if it is a WebSocket."""
        if scope["type"] != "websocket":
            await self.app(scope, receive, send)
            return
        with metrics.WEBSOCKETS_OPEN.track_inprogress():
            await self.app(scope, receive, send)


class ServerSpanStamp:
    """ASGI middleware (while tracing) putting the request id on the request's server span.

    That span starts outside the request-log middleware, before the id exists.
    """

    def __init__(self, app: ASGIApp) -> None:
        from opentelemetry import trace  # only when tracing

        from src.lib.otel import REQUEST_ID_ATTRIBUTE

        self.app = app
        self._current_span = trace.get_current_span
        self._attribute = REQUEST_ID_ATTRIBUTE

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Stamp the current span, then serve."""
        self._current_span().set_attribute(self._attribute, request_id_var.get())
        await self.app(scope, receive, send)


def _serve_metrics(app: FastAPI) -> None:
    @app.get("/metrics", include_in_schema=False)
    async def metrics_page() -> Response:
        # Runs on the event loop, like the code it reads: collectors see consistent state.
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)


def install_telemetry(app: FastAPI, settings: Settings) -> None:
    """Set up metrics and tracing for the app (before its schema is built).

    Tracing belongs to the process: the last app installed decides whether it is on.
    """
    tracing.configure(settings.otel_exporter_otlp_endpoint)
    provider = tracing.tracer_provider()
    if provider is not None:
        from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor  # when tracing

        # Per-message spans of WebSockets would cost one span per streamed token.
        FastAPIInstrumentor.instrument_app(
            app, tracer_provider=provider, exclude_spans=["receive", "send"]
        )
        app.add_middleware(ServerSpanStamp)
    app.add_middleware(WebSocketGauge)
    if settings.metrics_enabled:
        _serve_metrics(app)

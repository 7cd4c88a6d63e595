"""The OpenTelemetry side of tracing, imported by `src.lib.tracing` only when tracing is on.

Offers:
- Tracing: the process's tracer provider (batched export), spans, and shutdown.
- build_exporter: the OTLP/HTTP span exporter for an endpoint (tests use an in-memory one).
- RequestIdStamp: stamps every span with the id of the request it starts in.
- Attributes: what a span's attributes may be.
"""

import os
from collections.abc import AsyncIterator
from contextlib import AbstractContextManager, asynccontextmanager

from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.trace import Status, StatusCode

from src.core.logger import request_id_var

REQUEST_ID_ATTRIBUTE = "request.id"
DEFAULT_SERVICE_NAME = "chat-api"

type Attributes = dict[str, str | int | float | bool]
"""The attributes the server's own spans carry."""


def build_exporter(endpoint: str) -> SpanExporter:
    """The OTLP/HTTP exporter that posts to `<endpoint>/v1/traces`."""
    return OTLPSpanExporter(endpoint=f"{endpoint.rstrip('/')}/v1/traces")


class RequestIdStamp(SpanProcessor):
    """Puts the current request's id on every span that starts within a request."""

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        """Stamp the span (spans started outside any request are left alone)."""
        request_id = request_id_var.get()
        if request_id != "-":
            span.set_attribute(REQUEST_ID_ATTRIBUTE, request_id)


class Tracing:
    """A tracer provider exporting in batches, and the server's spans.

    The service is named by `OTEL_SERVICE_NAME`, else `chat-api`.
    """

    def __init__(self, exporter: SpanExporter) -> None:
        name = os.environ.get("OTEL_SERVICE_NAME") or DEFAULT_SERVICE_NAME
        self.provider = TracerProvider(resource=Resource.create({SERVICE_NAME: name}))
        self.provider.add_span_processor(RequestIdStamp())
        self.provider.add_span_processor(BatchSpanProcessor(exporter))
        self._tracer = self.provider.get_tracer("chat-api")

    def span(self, name: str, attributes: Attributes) -> AbstractContextManager[object]:
        """A span current for the block (see `tracing.span`)."""
        return self._tracer.start_as_current_span(name, attributes=attributes)

    @asynccontextmanager
    async def side_span(self, name: str, attributes: Attributes) -> AsyncIterator[None]:
        """A span that is not made current (see `tracing.side_span`)."""
        span = self._tracer.start_span(name, attributes=attributes)
        try:
            yield
        except Exception as error:
            span.record_exception(error)
            span.set_status(Status(StatusCode.ERROR, type(error).__name__))
            raise
        finally:
            span.end()

    def shutdown(self) -> None:
        """Export what is pending and stop."""
        self.provider.shutdown()

"""OpenTelemetry tracing for the process, on when an OTLP endpoint is configured.

Offers:
- configure: turn tracing on (an OTLP/HTTP endpoint) or off (""), for the whole process.
- tracer_provider: the provider while tracing is on (for the API's instrumentations), or None.
- span: a span made current for a block of a coroutine or task (its children nest in it).
- side_span: an async block's span that is not made current, for the inside of an async
  generator (a current span would leak into its consumer between yields).

While tracing is off, OpenTelemetry is not even imported (see `src.lib.otel`) and both spans
are `nullcontext()`. Every span carries the id of the request it belongs to (`request.id`).
"""

from contextlib import AbstractAsyncContextManager, AbstractContextManager, nullcontext
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider

    from src.lib.otel import Attributes, Tracing

_tracing: "Tracing | None" = None
_OFF = nullcontext()


def configure(endpoint: str) -> None:
    """Trace to an OTLP/HTTP endpoint (such as `http://collector:4318`), or stop tracing ("")."""
    global _tracing
    if _tracing is not None:
        _tracing.shutdown()
        _tracing = None
    if endpoint:
        from src.lib import otel  # imported only when tracing is on

        _tracing = otel.Tracing(otel.build_exporter(endpoint))


def tracer_provider() -> "TracerProvider | None":
    """The process's tracer provider, or None when tracing is off."""
    return _tracing.provider if _tracing is not None else None


def span(name: str, attributes: "Attributes") -> AbstractContextManager[object]:
    """A span, current for the block (for coroutines and tasks, never async generators)."""
    return _OFF if _tracing is None else _tracing.span(name, attributes)


def side_span(name: str, attributes: "Attributes") -> AbstractAsyncContextManager[object]:
    """A span for an async block, not made current (safe across an async generator's yields).

    An exception leaving the block marks the span as failed.
    """
    return _OFF if _tracing is None else _tracing.side_span(name, attributes)

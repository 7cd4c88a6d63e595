"""OpenTelemetry tracing: a streamed reply leaves real spans, each with its request id.

The app traces as with `OTEL_EXPORTER_OTLP_ENDPOINT` set, its exporter swapped for the SDK's
in-memory one (through `src.lib.otel.build_exporter`, the one place the exporter is made).
"""

import json
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import NamedTuple

import httpx
import pytest
from fastapi import FastAPI
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from main import create_app
from src.lib import otel, tracing
from tests.api.stream.operations import message_input, stream_reply
from tests.conftest import make_settings, serve
from tests.helpers import wait_until
from tests.processes import ROOT


class TracedServer(NamedTuple):
    http: httpx.AsyncClient
    ws_url: str
    exporter: InMemorySpanExporter


@pytest.fixture
async def traced(
    database_url: str, tmp_path: Path, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[TracedServer]:
    """A traced app on the session's database (`app` here: its tables are emptied after)."""
    exporter = InMemorySpanExporter()
    monkeypatch.setattr(otel, "build_exporter", lambda endpoint: exporter)
    settings = make_settings(
        database_url, tmp_path, otel_exporter_otlp_endpoint="http://127.0.0.1:4318"
    )
    application = create_app(settings)
    transport = httpx.ASGITransport(app=application)
    try:
        async with (
            application.router.lifespan_context(application),
            serve(application) as ws_url,
            httpx.AsyncClient(transport=transport, base_url="http://test") as http,
        ):
            yield TracedServer(http, ws_url, exporter)
    finally:
        tracing.configure("")


def _finished(exporter: InMemorySpanExporter) -> list[ReadableSpan]:
    provider = tracing.tracer_provider()
    assert provider is not None
    provider.force_flush()
    return list(exporter.get_finished_spans())


async def test_a_streamed_reply_leaves_spans_with_the_request_id(traced: TracedServer) -> None:
    response = await traced.http.post(
        "/graphql",
        json={
            "query": "mutation Register($input: RegisterInput!) { register(input: $input) "
            "{ accessToken } }",
            "variables": {"input": {"email": "ada@example.com", "password": "correct horse"}},
        },
    )
    http_request_id = response.headers["x-request-id"]
    token = response.json()["data"]["register"]["accessToken"]

    events = await stream_reply(traced.ws_url, token, message_input(uuid.uuid4(), "What is 6*7?"))
    assert events[-1]["__typename"] == "StreamFinished"
    await wait_until(lambda: any(s.name == "chat.reply" for s in _finished(traced.exporter)))

    spans = _finished(traced.exporter)
    by_name = {span.name: span for span in spans}
    register = by_name["GraphQL Query: Register"]
    assert register.attributes is not None
    assert register.attributes["request.id"] == http_request_id
    assert _request_id(by_name["POST /graphql"]) == http_request_id
    assert "correct horse" not in str([span.attributes for span in spans])

    stream = by_name["GraphQL Query: Stream"]
    reply, tool = by_name["chat.reply"], by_name["chat.tool_call"]
    provider_calls = [span for span in spans if span.name == "chat.provider_call"]
    assert len(provider_calls) == 2  # the model asks for the tool, then answers with its result
    assert tool.attributes is not None and tool.attributes["chat.tool"] == "calculator"
    socket_request_id = _request_id(stream)
    assert socket_request_id != http_request_id
    for span in (reply, tool, *provider_calls):
        assert _request_id(span) == socket_request_id
        assert span.context is not None and reply.context is not None
        assert span.context.trace_id == reply.context.trace_id
    assert tool.parent is not None and reply.context is not None
    assert tool.parent.span_id == reply.context.span_id


def _request_id(span: ReadableSpan) -> str:
    assert span.attributes is not None, span.name
    value = span.attributes["request.id"]
    assert isinstance(value, str)
    return value


TRACING_MODULES = (  # redis-py imports opentelemetry.sdk's metrics on its own when installed
    "src.lib.otel",
    "opentelemetry.sdk.trace",
    "opentelemetry.exporter",
    "opentelemetry.instrumentation",
    "strawberry.extensions.tracing",
)
LOADED_AFTER_CREATE_APP = f"""
import json, sys
from main import create_app
create_app()
print(json.dumps(sorted(m for m in sys.modules if m.startswith({TRACING_MODULES!r}))))
"""


def test_without_an_endpoint_no_tracing_code_is_imported(tmp_path: Path) -> None:
    environment = {**os.environ, "ENVIRONMENT": "test", "DATA_DIR": str(tmp_path)}
    environment.pop("OTEL_EXPORTER_OTLP_ENDPOINT", None)
    run = subprocess.run(
        [sys.executable, "-c", LOADED_AFTER_CREATE_APP],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(run.stdout.splitlines()[-1]) == []

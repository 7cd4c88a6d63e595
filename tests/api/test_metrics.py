"""`GET /metrics`: streamed replies, operations, tools and provider errors move the metrics."""

import uuid
from pathlib import Path

import httpx

from main import create_app
from tests.api.stream.operations import CHAT_STREAM, message_input, stream_reply
from tests.api.telemetry import scrape
from tests.conftest import make_settings
from tests.helpers import GraphQLClient, wait_until
from tests.ws import open_socket

GAUGES: list[tuple[str, dict[str, str]]] = [
    ("chat_websockets_open", {}),
    ("chat_subscriptions_open", {"kind": "chatStream"}),
    ("chat_generations_running", {}),
    ("chat_broker_subscribers", {}),
]
"""Up while a reply streams to its socket, down once both are gone."""
LONG_MESSAGE = "hello " * 150  # the demo model echoes it: a reply of many tokens


async def test_a_streamed_reply_moves_the_metrics(client: GraphQLClient, server_url: str) -> None:
    token = (await client.register())["accessToken"]
    before = await scrape(client.http)

    async with open_socket(server_url, token) as socket:
        await socket.subscribe(
            "1", CHAT_STREAM, {"input": message_input(uuid.uuid4(), LONG_MESSAGE)}
        )
        events = socket.events("1")
        while (await anext(events))["chatStream"]["__typename"] != "TextDelta":
            pass
        during = await scrape(client.http)
        rest = [data["chatStream"] async for data in events]

    assert rest[-1]["__typename"] == "StreamFinished"
    for name, labels in GAUGES:
        assert during.value(name, **labels) >= 1, name

    async def gauges_back() -> bool:
        # At most where they were: others (left by earlier tests) can only have ended meanwhile.
        now = await scrape(client.http)
        return all(
            now.value(name, **labels) <= before.value(name, **labels) for name, labels in GAUGES
        )

    await wait_until(gauges_back)
    after = await scrape(client.http)
    deltas = 1 + sum(e["__typename"] == "TextDelta" for e in rest)
    assert after.grew(before, "chat_tokens_streamed_total") >= deltas > 10
    assert after.grew(before, "chat_replies_total", status="COMPLETE") >= 1
    assert after.grew(before, "chat_reply_time_to_first_token_seconds_count") >= 1
    assert after.grew(before, "chat_reply_duration_seconds_count", status="COMPLETE") >= 1
    assert after.grew(before, "chat_graphql_operations_total", **_ok("Stream")) >= 1


async def test_subscriptions_stopped_by_the_client_are_counted_down(
    client: GraphQLClient, server_url: str
) -> None:
    token = (await client.register())["accessToken"]
    before = await scrape(client.http)
    kind = {"kind": "chatStream"}

    async with open_socket(server_url, token) as socket:
        await socket.subscribe(
            "1", CHAT_STREAM, {"input": message_input(uuid.uuid4(), LONG_MESSAGE)}
        )
        events = socket.events("1")
        while (await anext(events))["chatStream"]["__typename"] != "TextDelta":
            pass
        assert (await scrape(client.http)).grew(before, "chat_subscriptions_open", **kind) >= 1
        await socket.complete("1")

        async def counted_down() -> bool:
            return (await scrape(client.http)).grew(before, "chat_subscriptions_open", **kind) <= 0

        await wait_until(counted_down)


def _ok(name: str, kind: str = "subscription") -> dict[str, str]:
    return {"operation": name, "type": kind, "outcome": "ok"}


async def test_tool_calls_and_provider_errors_are_counted(
    client: GraphQLClient, server_url: str
) -> None:
    token = (await client.register())["accessToken"]
    before = await scrape(client.http)

    events = await stream_reply(server_url, token, message_input(uuid.uuid4(), "What is 6*7?"))
    assert any(e["__typename"] == "ToolResultEvent" for e in events)
    events = await stream_reply(server_url, token, message_input(uuid.uuid4(), "hi [[fail]]"))
    assert events[-1]["__typename"] == "StreamFailed"

    after = await scrape(client.http)
    assert after.grew(before, "chat_tool_calls_total", tool="calculator", outcome="ok") >= 1
    assert after.grew(before, "chat_provider_errors_total", code="PROVIDER_UNAVAILABLE") >= 1
    assert after.grew(before, "chat_replies_total", status="FAILED") >= 1


async def test_operations_are_counted_by_name_and_outcome(client: GraphQLClient) -> None:
    token = (await client.register())["accessToken"]
    before = await scrape(client.http)

    await client.data("query Models { models { id } }", token=token)
    await client.error("query Models { models { id } }")
    await client.error("query Broken { models { nope } }", token=token)

    after = await scrape(client.http)
    operations = "chat_graphql_operations_total"
    assert after.grew(before, operations, **_ok("Models", "query")) == 1
    assert after.grew(before, operations, **_error("Models")) == 1
    assert after.grew(before, operations, **_error("Broken")) == 1


def _error(name: str) -> dict[str, str]:
    return {"operation": name, "type": "query", "outcome": "error"}


async def test_metrics_can_be_turned_off(database_url: str, tmp_path: Path) -> None:
    app = create_app(make_settings(database_url, tmp_path, metrics_enabled=False))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        assert (await http.get("/metrics")).status_code == 404
        assert (await http.get("/healthz")).status_code == 200

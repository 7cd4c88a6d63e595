"""Redis goes away mid-reply and comes back: the reply finishes, the rest says so, all recovers.

Two servers (A and B, in this process) share the database and a Redis server of this test
alone, which the test stops while A streams a reply and B watches it, then starts again (empty,
as after a crash without persistence).
"""

import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from main import create_app
from tests.api.stream.operations import (
    CHAT_EVENTS,
    CHAT_STREAM,
    STOP,
    message_input,
    streamed_text,
    until_terminal,
    watch_until_finished,
)
from tests.conftest import make_settings, serve
from tests.helpers import GraphQLClient, wait_until
from tests.processes import RedisServer, redis_server
from tests.ws import OperationError, open_socket

LONG = "tell me everything " * 40
EMAIL, PASSWORD = "ada@example.com", "correct horse"
LOGIN = "mutation Login($input: LoginInput!) { login(input: $input) { accessToken } }"


@pytest.fixture
async def outage(
    app: FastAPI, database_url: str, tmp_path: Path
) -> AsyncIterator[tuple[RedisServer, list[str], GraphQLClient]]:
    """Its Redis, the WebSocket URLs of A and B, and an HTTP client of A.

    (`app` is the session's app on the same database: taking it gets the tables cleaned.)
    """
    async with AsyncExitStack() as stack:
        redis = await stack.enter_async_context(redis_server())
        urls, apps = [], []
        for name in ("a", "b"):
            settings = make_settings(
                database_url,
                tmp_path / name,
                redis_url=redis.url,
                demo_token_delay_seconds=0.02,
                login_attempts_per_window=10,
            )
            application = create_app(settings)
            await stack.enter_async_context(application.router.lifespan_context(application))
            urls.append(await stack.enter_async_context(serve(application)))
            apps.append(application)
        http = await stack.enter_async_context(
            httpx.AsyncClient(transport=httpx.ASGITransport(app=apps[0]), base_url="http://a")
        )
        yield redis, urls, GraphQLClient(http)


async def test_a_reply_outlives_a_redis_outage_and_everything_recovers(
    outage: tuple[RedisServer, list[str], GraphQLClient],
) -> None:
    redis, (url_a, url_b), client = outage
    auth = await client.register()
    token, chat_id = auth["accessToken"], uuid.uuid4()
    async with open_socket(url_a, token) as author, open_socket(url_b, token) as watcher:
        await author.subscribe("a", CHAT_STREAM, {"input": message_input(chat_id, LONG)})
        first = [(await anext(author.events("a")))["chatStream"] for _ in range(3)]
        await watcher.subscribe("w", CHAT_EVENTS, {"chatId": str(chat_id), "afterSeq": 2})
        watching = watcher.events("w")
        await anext(watching)  # the watcher follows the reply

        await redis.stop()

        cut_off = await until_terminal(watching)
        rest = await author.collect("a", "chatStream")
        ready = await client.http.get("/readyz")
        stop = await client.error(STOP, {"chatId": str(chat_id)}, token)
        with pytest.raises(OperationError) as refused:
            new_chat = message_input(uuid.uuid4(), "hello")
            await author.subscribe("b", CHAT_STREAM, {"input": new_chat})
            await author.collect("b", "chatStream")
        signed_in = await client.data(LOGIN, {"input": {"email": EMAIL, "password": PASSWORD}})

    streamed = [*first, *rest]
    assert [event["seq"] for event in streamed] == list(range(len(streamed)))
    assert streamed[-1]["__typename"] == "StreamFinished"
    assert streamed[-1]["message"]["status"] == "COMPLETE"
    assert streamed[-1]["message"]["text"] == "".join(
        e["delta"] for e in streamed if e["__typename"] == "TextDelta"
    )
    assert cut_off["__typename"] == "StreamFailed"
    assert cut_off["code"] == "BROKER_UNAVAILABLE"
    assert (ready.status_code, ready.json()["broker"]) == (503, "down")
    assert stop["extensions"]["code"] == "SERVICE_UNAVAILABLE"
    assert refused.value.code == "SERVICE_UNAVAILABLE"
    assert signed_in["login"]["accessToken"]

    await redis.start()

    async def ready_again() -> bool:
        return (await client.http.get("/readyz")).status_code == 200

    await wait_until(ready_again)
    async with open_socket(url_a, token) as author, open_socket(url_b, token) as watcher:
        await watcher.subscribe("w", CHAT_EVENTS, {"chatId": str(chat_id)})
        await author.subscribe("a", CHAT_STREAM, {"input": message_input(chat_id, "again")})
        again = await author.collect("a", "chatStream")
        watched = await watch_until_finished(watcher, "w")
    assert again[-1]["message"]["status"] == "COMPLETE"
    assert streamed_text(watched) == streamed_text(again)  # deltas may come merged
    assert watched[-1]["seq"] == again[-1]["seq"]

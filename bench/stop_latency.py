"""How long stopGeneration takes to end a running reply (the issue asks for under 200 ms).

Run by hand (numbers go to bench/README.md):
    uv run python bench/stop_latency.py [--runs 20] [--redis-url redis://127.0.0.1:6379/0]

Starts the server (SQLite in a temporary folder, demo model), streams a long reply, and after
a few tokens calls stopGeneration over HTTP; the time measured is from sending the mutation to
receiving StreamFinished (CANCELLED) on the WebSocket. With --redis-url the stop request
travels through Redis pub/sub, as it does between server processes.
"""

import argparse
import asyncio
import json
import statistics
import tempfile
import time
import urllib.request
import uuid

import websockets

from bench.common import chat_server, register

STREAM = """subscription S($input: ChatStreamInput!) {
  chatStream(input: $input) { __typename ... on StreamFinished { finishReason } }
}"""
STOP = "mutation S($chatId: ID!) { stopGeneration(chatId: $chatId) }"


def post(base: str, token: str, query: str, variables: dict[str, str]) -> None:
    """Send a GraphQL mutation over HTTP."""
    request = urllib.request.Request(
        f"{base}/graphql",
        data=json.dumps({"query": query, "variables": variables}).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    urllib.request.urlopen(request).read()


async def one_stop(base: str, token: str) -> float:
    """Milliseconds from stopGeneration to StreamFinished for one reply."""
    chat_id = str(uuid.uuid4())
    async with websockets.connect(
        base.replace("http", "ws") + "/graphql",
        subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
    ) as ws:
        init = {"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}
        await ws.send(json.dumps(init))
        await ws.recv()
        message = {"parts": [{"text": "go on " * 200}]}
        payload = {"query": STREAM, "variables": {"input": {"chatId": chat_id, "message": message}}}
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
        for _ in range(5):
            await ws.recv()
        started = time.perf_counter()
        await asyncio.to_thread(post, base, token, STOP, {"chatId": chat_id})
        while True:
            event = json.loads(await ws.recv())
            if event["type"] == "next":
                data = event["payload"]["data"]["chatStream"]
                if data["__typename"] == "StreamFinished":
                    assert data["finishReason"] == "CANCELLED", data
                    return (time.perf_counter() - started) * 1000


def main() -> None:
    """Measure and print the distribution."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--redis-url", default="")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data:
        settings = {
            "DATA_DIR": data,
            "LOG_LEVEL": "WARNING",
            "SIGNUPS_PER_HOUR": "1000000",
            "REDIS_URL": args.redis_url,
            "REGULAR_DAILY_MESSAGES": str(args.runs + 10),
        }
        with chat_server(settings) as (_, base):
            token = register(base)
            times = [asyncio.run(one_stop(base, token)) for _ in range(args.runs)]
    times.sort()
    p95 = times[int(len(times) * 0.95) - 1]
    broker = "redis" if args.redis_url else "memory"
    print(
        f"broker={broker} runs={len(times)} median={statistics.median(times):.1f} ms "
        f"p95={p95:.1f} ms max={times[-1]:.1f} ms"
    )


if __name__ == "__main__":
    main()

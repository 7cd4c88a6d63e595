"""Server CPU per streamed event: chatStream through the whole stack vs a raw WebSocket.

Run by hand (numbers go to bench/README.md):
    uv run python bench/stream_bench.py [--replies 20] [--words 400]

It starts two servers as subprocesses on loopback, each measured by its own CPU time
(/proc/<pid>/stat, user + system):
- the chat server (`main.py`, SQLite in a temporary folder, demo model with no token delay),
  streaming `--replies` replies over graphql-transport-ws;
- a raw Starlette WebSocket that sends the same number of JSON frames shaped like the
  chat server's `next` messages.
The ratio of CPU per delivered event is the overhead of our stack over a bare socket.
"""

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import websockets

ROOT = Path(__file__).resolve().parents[1]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
STREAM = """subscription S($input: ChatStreamInput!) {
  chatStream(input: $input) {
    __typename ... on TextDelta { seq delta } ... on StreamFinished { seq }
  }
}"""
RAW_SERVER = """
import json, sys
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
import uvicorn

async def frames(ws):
    await ws.accept()
    count = int(await ws.receive_text())
    for seq in range(count):
        await ws.send_text(json.dumps({"id": "1", "type": "next", "payload": {"data": {
            "chatStream": {"__typename": "TextDelta", "seq": seq, "delta": "word "}}}}))
    await ws.close()

uvicorn.run(Starlette(routes=[WebSocketRoute("/", frames)]), host="127.0.0.1",
            port=int(sys.argv[1]), log_level="warning")
"""


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def wait_until_up(url: str) -> None:
    """Poll until the server answers."""
    for _ in range(200):
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def register(base: str) -> str:
    """A new account's access token."""
    query = 'mutation { register(input: {email: "bench@example.com", password: "benchmark"}) { accessToken } }'  # noqa: E501
    request = urllib.request.Request(
        f"{base}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as response:
        token: str = json.load(response)["data"]["register"]["accessToken"]
        return token


async def stream_replies(url: str, token: str, replies: int, words: int) -> tuple[int, int]:
    """Stream replies one after another; returns (events, text characters) received."""
    events = chars = 0
    text = " ".join(f"w{i}" for i in range(words))
    async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        await ws.send(
            json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}})
        )
        await ws.recv()
        for n in range(replies):
            chat = f"0190{n:04d}-0000-7000-8000-000000000000"
            variables = {"input": {"chatId": chat, "message": {"parts": [{"text": text}]}}}
            await ws.send(
                json.dumps(
                    {
                        "id": str(n),
                        "type": "subscribe",
                        "payload": {"query": STREAM, "variables": variables},
                    }
                )
            )
            while True:
                message = json.loads(await ws.recv())
                if message["type"] == "complete":
                    break
                events += 1
                chars += len(message["payload"]["data"]["chatStream"].get("delta", ""))
    return events, chars


async def raw_frames(url: str, count: int) -> int:
    """Receive `count` frames from the raw server."""
    async with websockets.connect(url) as ws:
        await ws.send(str(count))
        received = 0
        async for _ in ws:
            received += 1
    return received


def run_chat(replies: int, words: int) -> tuple[float, int, int]:
    """CPU seconds, events and characters for the chat server."""
    port = free_port()
    with tempfile.TemporaryDirectory() as data:
        env = os.environ | {
            "PORT": str(port),
            "DATA_DIR": data,
            "DEMO_TOKEN_DELAY_SECONDS": "0",
            "LOG_LEVEL": "WARNING",
            "REGULAR_DAILY_MESSAGES": str(replies + 10),
        }
        server = subprocess.Popen([sys.executable, "main.py"], cwd=ROOT, env=env)
        try:
            wait_until_up(f"http://127.0.0.1:{port}/healthz")
            token = register(f"http://127.0.0.1:{port}")
            before = cpu_seconds(server.pid)
            events, chars = asyncio.run(
                stream_replies(f"ws://127.0.0.1:{port}/graphql", token, replies, words)
            )
            return cpu_seconds(server.pid) - before, events, chars
        finally:
            server.terminate()
            server.wait()


def run_raw(frames: int) -> float:
    """CPU seconds the raw server spends sending `frames` frames."""
    port = free_port()
    server = subprocess.Popen([sys.executable, "-c", RAW_SERVER, str(port)])
    try:
        time.sleep(1.5)
        before = cpu_seconds(server.pid)
        asyncio.run(raw_frames(f"ws://127.0.0.1:{port}/", frames))
        return cpu_seconds(server.pid) - before
    finally:
        server.terminate()
        server.wait()


def main() -> None:
    """Run both measurements and print a table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--replies", type=int, default=20)
    parser.add_argument("--words", type=int, default=400)
    args = parser.parse_args()
    chat_cpu, events, chars = run_chat(args.replies, args.words)
    raw_cpu = run_raw(events)
    chat_us, raw_us = chat_cpu / events * 1e6, raw_cpu / events * 1e6
    print(f"replies={args.replies} events={events} text_chars={chars}")
    print(f"{'server':<12}{'cpu s':>10}{'µs/event':>12}")
    print(f"{'chat':<12}{chat_cpu:>10.2f}{chat_us:>12.1f}")
    print(f"{'raw ws':<12}{raw_cpu:>10.2f}{raw_us:>12.1f}")
    print(f"ratio chat/raw: {chat_us / raw_us:.1f}x")


if __name__ == "__main__":
    main()

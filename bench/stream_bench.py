"""Server CPU per streamed event: chatStream through the whole stack vs a raw WebSocket.

Run by hand (numbers go to bench/README.md):
    uv run python -m bench.stream_bench [--replies 20] [--delay 0.002]

It starts two servers as subprocesses on loopback, each measured by its own CPU time
(/proc/<pid>/stat, user + system):
- the chat server (`main.py`, SQLite in a temporary folder, the demo model with a small token
  delay so that the subscriber keeps up and every token is one event, as with a real model),
  streaming replies over graphql-transport-ws twice: full replies, and replies cut to
  SHORT_TOKENS tokens. The difference between the two runs is the cost of the extra events
  alone, without the per-reply work (saving messages, history, locks);
- a raw Starlette WebSocket that sends as many JSON frames, shaped like the chat server's
  `next` messages and paced by the same delay (so both pay the event loop's wake-ups).
The ratio of CPU per event is the overhead of our per-token path over a bare socket.
"""

import argparse
import asyncio
import json
import tempfile

import websockets

from bench.common import chat_server, cpu_seconds, raw_server, register

SHORT_TOKENS = 3
STREAM = """subscription S($input: ChatStreamInput!) {
  chatStream(input: $input) {
    __typename ... on TextDelta { seq delta } ... on StreamFinished { seq }
  }
}"""


async def stream_replies(
    url: str, token: str, replies: int, max_tokens: int | None
) -> tuple[int, int]:
    """Stream replies one after another; returns (events, text characters) received."""
    events = chars = 0
    text = " ".join(f"word{i}" for i in range(60))
    config = {"maxOutputTokens": max_tokens} if max_tokens else {}
    async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        await ws.send(
            json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}})
        )
        await ws.recv()
        for n in range(replies):
            chat = f"0190{n:04d}-{max_tokens or 0:04d}-7000-8000-000000000000"
            message = {"parts": [{"text": text}]}
            variables = {"input": {"chatId": chat, "message": message, "chatModelConfig": config}}
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


def run_chat(replies: int, delay: float) -> list[tuple[float, int]]:
    """(CPU seconds, events) of the chat server for full replies, then for short ones."""
    with tempfile.TemporaryDirectory() as data:
        settings = {
            "DATA_DIR": data,
            "DEMO_TOKEN_DELAY_SECONDS": str(delay),
            "LOG_LEVEL": "WARNING",
            "SIGNUPS_PER_HOUR": "1000000",
            "REGULAR_DAILY_MESSAGES": str(2 * replies + 10),
        }
        with chat_server(settings) as (server, base):
            token = register(base)
            url = base.replace("http", "ws") + "/graphql"
            runs = []
            for max_tokens in (None, SHORT_TOKENS):
                before = cpu_seconds(server.pid)
                events, _ = asyncio.run(stream_replies(url, token, replies, max_tokens))
                runs.append((cpu_seconds(server.pid) - before, events))
            return runs


def run_raw(frames: int, delay: float) -> float:
    """CPU seconds the raw server spends sending `frames` frames, `delay` seconds apart."""
    with raw_server(delay) as (pid, url):
        before = cpu_seconds(pid)
        asyncio.run(raw_frames(url, frames))
        return cpu_seconds(pid) - before


def main() -> None:
    """Run the measurements and print a table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--replies", type=int, default=20)
    parser.add_argument("--delay", type=float, default=0.002)
    args = parser.parse_args()
    (full_cpu, full_events), (short_cpu, short_events) = run_chat(args.replies, args.delay)
    extra_events = full_events - short_events
    chat_us = (full_cpu - short_cpu) / extra_events * 1e6
    print(f"replies={args.replies} full={full_events} events short={short_events} events")
    print(f"per reply, fixed work (short replies): {short_cpu / args.replies * 1e3:.1f} ms CPU")
    print(f"{'per event':<28}{'µs':>8}{'chat/this':>11}")
    print(f"{'chat server':<28}{chat_us:>8.1f}")
    for label, delay in (("raw ws, same pace", args.delay), ("raw ws, back to back", 0.0)):
        raw_us = run_raw(extra_events, delay) / extra_events * 1e6
        print(f"{label:<28}{raw_us:>8.1f}{chat_us / raw_us:>10.1f}x")


if __name__ == "__main__":
    main()

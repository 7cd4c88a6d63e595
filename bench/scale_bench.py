"""Scale-out: two chat server processes on one Redis, against one in memory and a raw WebSocket.

Run by hand (numbers go to bench/README.md), from the repository root:

    uv run python -m bench.scale_bench [--streams 500] [--repeat 2] [--clients 2]

Needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust: each case gets a database of its
own, dropped after) and `redis-server` on the PATH (each Redis case starts its own on a free
port, without persistence, so that its client list and CPU time are the bench's alone).

Cases (`--cases`), in this order, each run `--repeat` times:
- redis: two server processes (`main.py` with WORKERS=1, started as `uv run main.py` starts
  it) on one PostgreSQL database and one Redis, each with `--streams` chatStream subscriptions;
- memory: ONE server process with the in-memory broker on PostgreSQL with `--streams`
  subscriptions: the same load per process as each Redis process carries;
- memory-all: ONE in-memory process with 2 x `--streams` subscriptions: the same load in all
  as the two Redis processes carry. CPU per token depends on how long the replies last (each
  one saves its progress every FLUSH_INTERVAL_SECONDS of wall time), and on a small machine the
  server processes may get about as much CPU whether there are one or two of them, so this
  case gives as many replies about the same CPU as the Redis case; both comparisons are
  printed;
- raw: the raw WebSocket of `bench.common` in one process, `--streams` sockets each sent
  `--tokens` `next` frames `--delay` apart (the floor for the same frames at the same pace).

The load runs in `--clients` client processes. They first open every socket (with
graphql-transport-ws, `connection_init` carries the bearer token of one of `--users` users,
round robin), then, on a signal sent to all at once, subscribe on every socket: each stream in
a new chat, asking for a reply of `--tokens` tokens (`maxOutputTokens`; the demo model writes
one word per token, `--delay` seconds apart). No permessage-deflate anywhere.

Per case it prints: tokens lost (expected minus received words; a stream that ends in an error
or without StreamFinished loses all its tokens), TextDelta frames received (fewer than tokens:
deltas were merged because the subscriber fell behind), errors by code, StreamFinished reasons,
the peak Redis client connections of each server process and of both at once (our Redis's
`CLIENT LIST`, sampled every 0.2 s during the load, each connection assigned to a process by its
socket in /proc), server CPU per token (user + system CPU of the server processes from /proc
over the load, divided by tokens received), per stream the p99 gap between tokens (median and
worst stream), time to first and to last token (median and worst stream, from the stream's
subscribe), the client processes' CPU, Redis's own CPU and tokens per Redis CPU second, then,
`--settle` seconds after the load, the replies in the database by status and the terminal
events each chat's Redis log holds (what a watcher in another process would see). Then the
ratios of CPU per token, the team's targets for the Redis case, and the warnings and errors of
the server logs (kept in a temporary folder with `--keep-logs`).
"""

import argparse
import asyncio
import contextlib
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import asyncpg  # type: ignore[import-untyped]
import uvloop
import websockets
from redis.asyncio import Redis
from websockets.asyncio.client import ClientConnection

from bench.common import (
    blocking_postgres_database,
    chat_server,
    cpu_seconds,
    free_port,
    percentile,
    raw_server,
    register,
)
from src.lib.llm.demo import DemoProvider
from src.lib.llm.types import ChatMessage, GenerationOptions, TextChunk
from src.lib.streaming.events import (
    StreamEvent,
    StreamFailed,
    StreamFinished,
    TextDelta,
    decode_event,
)

PROMPT = "Please write a long reply for the scale benchmark"
STREAM = """subscription S($input: ChatStreamInput!) {
  chatStream(input: $input) {
    __typename
    ... on TextDelta { delta }
    ... on StreamFinished { finishReason }
    ... on StreamFailed { code }
  }
}"""
OPEN_AT_ONCE = 50
"""Sockets a client process opens at the same time (all are open before the load starts)."""
STREAM_TIMEOUT_SECONDS = 600
IDLE_CHECK_SECONDS = 1
"""How long an idle subscription must stay silent when its client checks it."""
SAMPLE_SECONDS = 0.2
RATIOS = [
    ("redis", "memory"),
    ("redis", "memory-all"),
    ("memory-all", "memory"),
    ("redis", "raw"),
    ("memory", "raw"),
]
"""The pairs of cases whose server CPU per token is compared."""
SERVER_SETTINGS = {
    "ENVIRONMENT": "test",
    "LOG_LEVEL": "WARNING",
    "JWT_SECRET": "scale-bench-secret-of-at-least-32-bytes",
    "ARGON2_TIME_COST": "1",
    "ARGON2_MEMORY_KIB": "8",
    "ARGON2_PARALLELISM": "1",
    "SIGNUPS_PER_HOUR": "1000000",
    "LOGIN_ATTEMPTS_PER_WINDOW": "1000000",
    "MAX_CONCURRENT_REPLIES": "1000000",
    "REGULAR_DAILY_MESSAGES": "1000000",
    "WORKERS": "1",
}

type Record = list[Any]
"""One stream: [ttft s, ttlt s, p99 gap s, tokens, TextDelta frames, error code or None,
finish reason or None]."""


# --- the load client (a process of its own: `python -m bench.scale_bench --client`) ---------


class _Stream:
    """What one subscription received, fed message by message."""

    def __init__(self, expected: str) -> None:
        self.expected = expected
        self.began = time.perf_counter()
        self.arrivals: list[float] = []
        self.text: list[str] = []
        self.error: str | None = None
        self.finished: str | None = None

    def feed(self, message: dict[str, Any], now: float) -> bool:
        """Take one graphql-transport-ws message; True when the stream is over."""
        kind = message.get("type")
        payload: Any = message.get("payload") or {}
        if kind == "complete":
            return True
        if kind == "error":
            self.error = _error_code(payload)
            return True
        if kind != "next":
            return False
        if payload.get("errors"):
            self.error = _error_code(payload["errors"])
            return False
        event = payload["data"]["chatStream"]
        typename = event["__typename"]
        if typename == "TextDelta":
            self.arrivals.append(now)
            self.text.append(event["delta"])
        elif typename == "StreamFinished":
            self.finished = event["finishReason"]
        elif typename == "StreamFailed":
            self.error = event["code"]
        return False

    def record(self) -> Record:
        """The stream's summary (see `Record`)."""
        text = "".join(self.text)
        error = self.error
        if error is None and not self.finished:
            error = "NO_STREAM_FINISHED"
        if error is None and text != self.expected:
            error = "WRONG_TEXT"
        gaps = [b - a for a, b in zip(self.arrivals, self.arrivals[1:], strict=False)]
        first = self.arrivals[0] - self.began if self.arrivals else None
        last = self.arrivals[-1] - self.began if self.arrivals else None
        tokens = len(text.split())
        return [
            first,
            last,
            percentile(gaps, 99),
            tokens,
            len(self.arrivals),
            error,
            self.finished,
        ]


def _error_code(errors: Any) -> str:
    """The code of the first GraphQL error (`extensions.code`), or its message."""
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        first = errors[0]
        return str((first.get("extensions") or {}).get("code") or first.get("message"))
    return str(errors)


async def open_socket(
    target: dict[str, Any], raw: bool, gate: asyncio.Semaphore
) -> ClientConnection:
    """Open one socket; on graphql-transport-ws, also send connection_init and get the ack."""
    async with gate:
        if raw:
            return await websockets.connect(
                target["url"], ping_interval=None, open_timeout=120, compression=None
            )
        ws = await websockets.connect(
            target["url"],
            subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
            ping_interval=None,
            open_timeout=120,
            compression=None,
        )
        init = {"authorization": f"Bearer {target['token']}"}
        await ws.send(json.dumps({"type": "connection_init", "payload": init}))
        ack = json.loads(await asyncio.wait_for(ws.recv(), 120))
        if ack.get("type") != "connection_ack":
            raise RuntimeError(f"no connection_ack: {ack}")
        return ws


def chat_stream_payload(chat_id: str, text: str, tokens: int) -> dict[str, Any]:
    """The subscribe payload of a chatStream in `chat_id`, user message `text`, `tokens` long."""
    variables = {
        "input": {
            "chatId": chat_id,
            "message": {"parts": [{"text": text}]},
            "chatModelConfig": {"maxOutputTokens": tokens},
        }
    }
    return {"query": STREAM, "variables": variables}


def _subscribe(payload: dict[str, Any]) -> str:
    return json.dumps({"id": "1", "type": "subscribe", "payload": payload})


async def run_stream(
    ws: ClientConnection, target: dict[str, Any], config: dict[str, Any]
) -> Record:
    """Subscribe with the target's payload (or ask the raw server for frames); read to the end."""
    stream = _Stream(config["expected"])
    try:
        async with asyncio.timeout(STREAM_TIMEOUT_SECONDS):
            if config["raw"]:
                await ws.send(str(config["tokens"]))
                stream.finished = "CLOSED"  # the raw server has no terminal event: it closes
            else:
                await ws.send(_subscribe(target["payload"]))
            async for frame in ws:
                if stream.feed(json.loads(frame), time.perf_counter()):
                    break
    except TimeoutError:
        stream.error = "CLIENT_TIMEOUT"
    except websockets.ConnectionClosedError as error:
        stream.error = f"SOCKET_CLOSED_{error.rcvd.code if error.rcvd else 'ABRUPTLY'}"
    return stream.record()


async def _idle_record(ws: ClientConnection) -> Record:
    """An idle subscription's record: finish reason IDLE while it is open and got nothing."""
    stream = _Stream("")
    try:
        message = json.loads(await asyncio.wait_for(ws.recv(), IDLE_CHECK_SECONDS))
    except TimeoutError:
        return [None, None, None, 0, 0, None, "IDLE"]
    except websockets.ConnectionClosed as error:
        return [
            None,
            None,
            None,
            0,
            0,
            f"SOCKET_CLOSED_{error.rcvd.code if error.rcvd else 'ABRUPTLY'}",
            None,
        ]
    stream.feed(message, time.perf_counter())
    return [None, None, None, 0, 0, stream.error or f"IDLE_GOT_{message.get('type')}", None]


async def _hold(pairs: list[tuple[ClientConnection, dict[str, Any]]], raw: bool) -> list[Record]:
    """Idle mode: subscribe on every socket (raw: send nothing), say so, wait for stdin.

    Then see whether each subscription is still open and silent.
    """
    for ws, target in pairs:
        if not raw:
            await ws.send(_subscribe(target["payload"]))
    print(json.dumps({"subscribed": len(pairs)}), flush=True)
    await asyncio.to_thread(sys.stdin.readline)
    return await asyncio.gather(*(_idle_record(ws) for ws, _ in pairs))


async def _client(config: dict[str, Any]) -> None:
    """Open every socket, say so, wait for "go" on stdin, run every stream, print the records.

    With `idle` in the configuration, the streams are idle subscriptions (see `_hold`). The
    process then waits for the end of stdin before it closes its sockets and exits, so that the
    orchestrator can read its CPU time.
    """
    gate = asyncio.Semaphore(OPEN_AT_ONCE)
    targets = config["targets"]
    opened = await asyncio.gather(
        *(open_socket(target, config["raw"], gate) for target in targets), return_exceptions=True
    )
    sockets = [ws for ws in opened if isinstance(ws, ClientConnection)]
    print(json.dumps({"opened": len(sockets)}), flush=True)
    await asyncio.to_thread(sys.stdin.readline)
    pairs = [
        (ws, target)
        for ws, target in zip(opened, targets, strict=True)
        if isinstance(ws, ClientConnection)
    ]
    if config.get("idle"):
        records = await _hold(pairs, config["raw"])
    else:
        records = await asyncio.gather(*(run_stream(ws, target, config) for ws, target in pairs))
    failed = [
        [None, None, None, 0, 0, f"CONNECT_{type(ws).__name__}", None]
        for ws in opened
        if isinstance(ws, BaseException)
    ]
    print(json.dumps({"records": [*records, *failed]}), flush=True)
    await asyncio.to_thread(sys.stdin.readline)  # stay until our CPU time has been read
    await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)


def client_main() -> None:
    """Entry point of a client process: its configuration is the first line on stdin."""
    config = json.loads(sys.stdin.readline())
    asyncio.run(_client(config), loop_factory=uvloop.new_event_loop)


# --- the orchestrator ---------------------------------------------------------------------


@dataclass
class Load:
    """What one load measured (see the module docstring for each figure)."""

    records: list[Record]
    wall: float
    server_cpu: float
    client_cpu: list[float]
    redis_cpu: float | None = None
    redis_clients: dict[str, Counter[str]] = field(default_factory=dict)
    redis_total_peak: int = 0


@dataclass
class Case:
    """One case's load, how it was set up, and what its servers logged."""

    name: str
    processes: int
    streams: int
    tokens: int
    load: Load
    log: Counter[str]
    replies: Counter[str] = field(default_factory=Counter)
    terminals: Counter[str] = field(default_factory=Counter)


def expected_reply(tokens: int, prompt: str = PROMPT) -> str:
    """The text the demo model streams for `prompt` when cut at `tokens` tokens.

    Raises:
        ValueError: The demo model's reply to `prompt` has fewer words than `tokens`.
    """

    async def collect() -> str:
        options = GenerationOptions(max_output_tokens=tokens)
        chunks = DemoProvider().stream("demo", [ChatMessage("user", prompt)], [], options)
        return "".join([event.text async for event in chunks if isinstance(event, TextChunk)])

    text = asyncio.run(collect())
    if len(text.split()) != tokens:
        raise ValueError(f"the demo model's reply to the prompt is shorter than {tokens} tokens")
    return text


@contextmanager
def own_redis(log: IO[bytes]) -> Iterator[tuple[int, str]]:
    """A redis-server of our own on a free port, without persistence: (pid, URL)."""
    port = free_port()
    command = ["redis-server", "--port", str(port), "--save", "", "--appendonly", "no"]
    server = subprocess.Popen(command, stdout=log, stderr=log)
    try:
        for _ in range(100):
            with contextlib.suppress(OSError, subprocess.CalledProcessError):
                subprocess.run(
                    ["redis-cli", "-p", str(port), "ping"], check=True, capture_output=True
                )
                break
            time.sleep(0.05)
        yield server.pid, f"redis://127.0.0.1:{port}/0"
    finally:
        server.terminate()
        server.wait()


def _redis_socket_owners(redis_port: int, pids: dict[str, int]) -> dict[int, str]:
    """Client port of each loopback connection to Redis -> the label of the process owning it."""
    owner_of_inode: dict[str, str] = {}
    for label, pid in pids.items():
        with contextlib.suppress(FileNotFoundError):
            for fd in os.listdir(f"/proc/{pid}/fd"):
                with contextlib.suppress(OSError):
                    link = os.readlink(f"/proc/{pid}/fd/{fd}")
                    if link.startswith("socket:["):
                        owner_of_inode[link[8:-1]] = label
    owners: dict[int, str] = {}
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        columns = line.split()
        local_port = int(columns[1].split(":")[1], 16)
        remote_port = int(columns[2].split(":")[1], 16)
        if remote_port == redis_port and columns[9] in owner_of_inode:
            owners[local_port] = owner_of_inode[columns[9]]
    return owners


async def _sample_redis_clients(url: str, pids: dict[str, int], load: Load) -> None:
    """Until cancelled: the connections of each process in CLIENT LIST, keeping the peaks."""
    redis = Redis.from_url(url, client_name="scale-bench-sampler")
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    try:
        while True:
            clients = await redis.client_list()
            owners = _redis_socket_owners(port, pids)
            now: dict[str, Counter[str]] = {label: Counter() for label in pids}
            for client in clients:
                label = owners.get(int(client["addr"].rsplit(":", 1)[1]))
                if label is not None:
                    now[label][client["name"] or f"unnamed, last command {client['cmd']}"] += 1
            for label, names in now.items():
                if names.total() > load.redis_clients.get(label, Counter()).total():
                    load.redis_clients[label] = names
            load.redis_total_peak = max(load.redis_total_peak, sum(c.total() for c in now.values()))
            await asyncio.sleep(SAMPLE_SECONDS)
    finally:
        await redis.aclose()


async def start_client(config: dict[str, Any]) -> asyncio.subprocess.Process:
    """Start a client process, give it its configuration and wait until its sockets are open."""
    client = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.scale_bench",
        "--client",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        limit=1 << 26,
    )
    assert client.stdin is not None and client.stdout is not None
    client.stdin.write(json.dumps(config).encode() + b"\n")
    await client.stdin.drain()
    return client


async def run_load(
    configs: list[dict[str, Any]], servers: dict[str, int], redis: tuple[int, str] | None
) -> Load:
    """Run the client processes' load against the servers; measure it.

    Args:
        configs: One configuration per client process (targets, tokens, expected text, raw).
        servers: The server processes to measure, by label.
        redis: Our Redis's pid and URL, or None.
    """
    clients = [await start_client(config) for config in configs]
    for client in clients:
        assert client.stdout is not None
        json.loads(await client.stdout.readline())  # every socket is open
    load = Load([], 0.0, 0.0, [])
    sampler = asyncio.create_task(_sample_redis_clients(redis[1], servers, load)) if redis else None
    await asyncio.sleep(2 * SAMPLE_SECONDS)
    watched = [*servers.values(), *(client.pid for client in clients)]
    watched += [redis[0]] if redis else []
    before = {pid: cpu_seconds(pid) for pid in watched}
    began = time.perf_counter()
    for client in clients:
        assert client.stdin is not None
        client.stdin.write(b"go\n")
    await asyncio.gather(*(client.stdin.drain() for client in clients if client.stdin))
    replies = [json.loads(await client.stdout.readline()) for client in clients if client.stdout]
    load.wall = time.perf_counter() - began
    spent = {pid: cpu_seconds(pid) - before[pid] for pid in watched}
    if sampler is not None:
        sampler.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sampler
    load.records = [record for reply in replies for record in reply["records"]]
    load.server_cpu = sum(spent[pid] for pid in servers.values())
    load.client_cpu = [spent[client.pid] for client in clients]
    load.redis_cpu = spent[redis[0]] if redis else None
    for client in clients:
        if client.stdin:
            client.stdin.close()
        await client.wait()
    return load


def client_configs(
    targets: list[dict[str, Any]], clients: int, tokens: int, expected: str, raw: bool
) -> list[dict[str, Any]]:
    """Deal the targets round robin to `clients` client processes."""
    return [
        {"targets": targets[n::clients], "tokens": tokens, "expected": expected, "raw": raw}
        for n in range(clients)
    ]


def log_summary(paths: dict[str, Path]) -> Counter[str]:
    """Warnings, errors and the exceptions of tracebacks in log files, by file label."""
    summary: Counter[str] = Counter()
    for label, path in paths.items():
        for line in path.read_text(errors="replace").splitlines():
            parts = [part.strip() for part in line.split(" | ", 3)]
            if len(parts) == 4 and parts[1] in {"WARNING", "ERROR", "CRITICAL"}:
                message = re.sub(r"[0-9a-f-]{36}", "<id>", parts[3])
                summary[f"{label}: {parts[1]} {message[:150]}"] += 1
            elif re.match(r"^[\w.]+(Error|Exception): ", line):
                summary[f"{label}: raised {line[:150]}"] += 1
    return summary


async def _audit_database(url: str) -> Counter[str]:
    """The replies in the database by status and finish reason."""
    connection = await asyncpg.connect(url.replace("+asyncpg", ""))
    try:
        rows = await connection.fetch(
            "SELECT status, finish_reason, count(*) FROM messages WHERE role = 'ASSISTANT'"
            " GROUP BY 1, 2"
        )
    finally:
        await connection.close()
    return Counter({f"{row[0]} {row[1]}": row[2] for row in rows})


def _terminals(events: list[StreamEvent], tokens: int) -> str:
    """The terminal events of a chat's log, each but a lone LENGTH with where it came."""
    ends, deltas = [], 0
    for event in events:
        if isinstance(event, TextDelta):
            deltas += 1
        elif isinstance(event, StreamFinished | StreamFailed):
            end = (
                event.finish_reason
                if isinstance(event, StreamFinished)
                else f"StreamFailed {event.code}"
            )
            where = "before any token" if deltas == 0 else f"after {deltas} tokens"
            ends.append(end if deltas == tokens and end == "LENGTH" else f"{end} {where}")
    return " + ".join(ends) or ("no events" if not events else "no end")


async def _audit_redis(url: str, chat_ids: list[str], tokens: int) -> Counter[str]:
    """Per chat, the terminal events its Redis event log holds (what a watcher would see)."""
    redis = Redis.from_url(url, client_name="scale-bench-audit")
    found: Counter[str] = Counter()
    try:
        for chat_id in chat_ids:
            entries: list[Any] = await redis.xrange(f"chatapi:chat:{{{chat_id}}}:events") or []
            events = [decode_event(fields[b"e"]) for _, fields in entries]
            found[_terminals(events, tokens)] += 1
    finally:
        await redis.aclose()
    return found


def run_chat_case(
    args: argparse.Namespace, name: str, processes: int, streams: int, logs: Path
) -> Case:
    """A chat server case: `processes` processes with `streams` streams each.

    Several processes share our own Redis; a single one uses the in-memory broker.
    """
    redis = processes > 1
    stem = f"{name}-{uuid.uuid4().hex[:6]}"
    log_paths = {f"server {n + 1}": logs / f"{stem}-server{n + 1}.log" for n in range(processes)}
    with ExitStack() as stack:
        database = stack.enter_context(blocking_postgres_database("scale_bench"))
        settings = SERVER_SETTINGS | {
            "DEMO_TOKEN_DELAY_SECONDS": str(args.delay),
            "DATA_DIR": stack.enter_context(tempfile.TemporaryDirectory()),
            "DATABASE_URL": database,
        }
        own = None
        if redis:
            redis_log = stack.enter_context((logs / f"{stem}-redis.log").open("wb"))
            own = stack.enter_context(own_redis(redis_log))
        settings["REDIS_URL"] = own[1] if own else ""
        servers: dict[str, int] = {}
        bases = []
        for label, path in log_paths.items():  # in turn: the first one migrates the database
            log = stack.enter_context(path.open("wb"))
            server, base = stack.enter_context(chat_server(settings, stderr=log))
            servers[label] = server.pid
            bases.append(base)
        run_id = uuid.uuid4().hex[:8]
        tokens = [register(bases[0], f"u{n}-{run_id}@example.com") for n in range(args.users)]
        targets: list[dict[str, Any]] = [
            {
                "url": base.replace("http", "ws") + "/graphql",
                "token": tokens[n % len(tokens)],
                "payload": chat_stream_payload(str(uuid.uuid4()), PROMPT, args.tokens),
            }
            for base in bases
            for n in range(streams)
        ]
        configs = client_configs(targets, args.clients, args.tokens, args.expected, raw=False)
        load = asyncio.run(run_load(configs, servers, own))
        case = Case(name, processes, streams, args.tokens, load, Counter())
        time.sleep(args.settle)  # let the orphan sweeps of the next seconds show up
        case.replies = asyncio.run(_audit_database(database))
        if own:
            chats = [target["payload"]["variables"]["input"]["chatId"] for target in targets]
            case.terminals = asyncio.run(_audit_redis(own[1], chats, args.tokens))
    case.log = log_summary(log_paths)
    return case


def run_raw_case(args: argparse.Namespace, logs: Path) -> Case:
    """The raw WebSocket server, one process, `--streams` sockets."""
    log_path = logs / f"raw-{uuid.uuid4().hex[:6]}.log"
    with log_path.open("wb") as log, raw_server(args.delay, stderr=log) as (pid, url):
        targets = [{"url": url} for _ in range(args.streams)]
        expected = "word " * args.tokens
        configs = client_configs(targets, args.clients, args.tokens, expected, raw=True)
        load = asyncio.run(run_load(configs, {"raw server": pid}, None))
    return Case("raw", 1, args.streams, args.tokens, load, log_summary({"raw": log_path}))


# --- the report ---------------------------------------------------------------------------


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value * 1000:,.0f} ms"


def _median_and_worst(values: list[float | None]) -> str:
    present = [value for value in values if value is not None]
    if not present:
        return "-"
    return f"{_ms(statistics.median(present))} / {_ms(max(present))}"


def _counts(counter: Counter[str]) -> str:
    return ", ".join(f"{key} {count:,}" for key, count in counter.most_common()) or "none"


def _redis_figures(load: Load, received: int) -> dict[str, str]:
    if load.redis_cpu is None:
        return {"Redis clients per process (peak)": "-", "Redis CPU; tokens per Redis CPU s": "-"}
    per_process = "; ".join(
        f"{label} {names.total()} ({_counts(names)})"
        for label, names in sorted(load.redis_clients.items())
    )
    return {
        "Redis clients per process (peak)": (
            f"{per_process}; both at once {load.redis_total_peak}"
        ),
        "Redis CPU; tokens per Redis CPU s": (
            f"{load.redis_cpu:.2f} s ({load.redis_cpu / load.wall:.0%} of a core); "
            f"{received / max(load.redis_cpu, 1e-9):,.0f}"
        ),
    }


def case_figures(case: Case) -> dict[str, str]:
    """The table's cells for one case."""
    load, records = case.load, case.load.records
    received = sum(r[3] for r in records)
    lost = sum(case.tokens if r[5] else case.tokens - r[3] for r in records)
    return {
        "processes x streams": f"{case.processes} x {case.streams}",
        "tokens lost / expected": f"{lost:,} / {case.tokens * len(records):,}",
        "TextDelta frames / tokens received": f"{sum(r[4] for r in records):,} / {received:,}",
        "errors by code": _counts(Counter(r[5] for r in records if r[5])),
        "StreamFinished reasons": _counts(Counter(r[6] for r in records if r[6])),
        "server CPU": f"{load.server_cpu:.2f} s",
        "server CPU per token": f"{load.server_cpu / max(received, 1) * 1e6:,.0f} µs",
        "gap between tokens, p99 per stream: median / worst stream": _median_and_worst(
            [r[2] for r in records]
        ),
        "time to first token: p50 / max": _median_and_worst([r[0] for r in records]),
        "time to last token: p50 / max": _median_and_worst([r[1] for r in records]),
        "load wall time": f"{load.wall:.1f} s",
        "client CPU per process (share of a core)": ", ".join(
            f"{cpu:.1f} s ({cpu / load.wall:.0%})" for cpu in load.client_cpu
        ),
        **_redis_figures(load, received),
        "replies in the database (status, finish reason)": _counts(case.replies),
        "terminal events per chat in Redis": _counts(case.terminals),
    }


def per_token(case: Case) -> float:
    """Server CPU seconds per token received."""
    received: int = sum(r[3] for r in case.load.records)
    return case.load.server_cpu / max(1, received)


def targets(by_name: dict[str, Case]) -> dict[str, bool]:
    """The team's targets for the redis case, and whether they hold."""
    redis = by_name["redis"]
    records = redis.load.records
    checks = {
        "no token lost": all(not r[5] and r[3] == redis.tokens for r in records),
        "no error": not any(r[5] for r in records),
        "at most 20 Redis clients for both processes": redis.load.redis_total_peak <= 20,
    }
    for name in ("memory", "memory-all"):
        if name in by_name:
            ratio = per_token(redis) / per_token(by_name[name])
            checks[f"CPU per token at most 1.5x {name} ({ratio:.2f}x)"] = ratio <= 1.5
    return checks


def print_report(run: int, cases: list[Case]) -> None:
    """One run's table, ratios, target checks and server log summary."""
    columns = [case_figures(case) for case in cases]
    rows = list(columns[0])
    print(f"\n### Run {run}\n")
    print("| | " + " | ".join(case.name for case in cases) + " |")
    print("|---" * (len(cases) + 1) + "|")
    for row in rows:
        print(f"| {row} | " + " | ".join(column[row] for column in columns) + " |")
    by_name = {case.name: case for case in cases}
    print()
    for a, b in RATIOS:
        if a in by_name and b in by_name:
            ratio = per_token(by_name[a]) / per_token(by_name[b])
            print(f"server CPU per token, {a} / {b}: {ratio:.2f}x")
    if "redis" in by_name:
        for target, holds in targets(by_name).items():
            print(f"target {target}: {'holds' if holds else 'FAILS'}")
    for case in cases:
        for line, count in case.log.most_common(15):
            print(f"{case.name} log: {count}x {line}")


def main() -> None:
    """Run every case `--repeat` times and print a table per run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--client", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--streams", type=int, default=500, help="per Redis process")
    parser.add_argument("--tokens", type=int, default=50)
    parser.add_argument("--delay", type=float, default=0.02, help="seconds between tokens")
    parser.add_argument("--users", type=int, default=4)
    parser.add_argument("--clients", type=int, default=2, help="load client processes")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--cases", default="redis,memory,memory-all,raw")
    parser.add_argument(
        "--settle", type=float, default=6, help="seconds to wait before auditing the replies"
    )
    parser.add_argument("--keep-logs", action="store_true")
    args = parser.parse_args()
    if args.client:
        client_main()
        return
    args.expected = expected_reply(args.tokens)
    logs = Path(tempfile.mkdtemp(prefix="scale-bench-"))
    print(f"server logs in {logs}; RLIMIT_NOFILE {os.sysconf('SC_OPEN_MAX')}", flush=True)
    runners = {
        "redis": lambda: run_chat_case(args, "redis", 2, args.streams, logs),
        "memory": lambda: run_chat_case(args, "memory", 1, args.streams, logs),
        "memory-all": lambda: run_chat_case(args, "memory-all", 1, 2 * args.streams, logs),
        "raw": lambda: run_raw_case(args, logs),
    }
    for run in range(1, args.repeat + 1):
        print_report(run, [runners[name]() for name in args.cases.split(",")])
    if not args.keep_logs:
        for path in logs.iterdir():
            path.unlink()
        logs.rmdir()


if __name__ == "__main__":
    main()

"""Reply cost (issue 9): per token, per reply, per idle watcher, against raw and bare Strawberry.

Run by hand (numbers go to bench/README.md), from the repository root:

    uv run python -m bench.reply_cost_bench [--backend sqlite|postgresql] [--streams 500]
        [--short 500] [--idle 1000] [--single 20] [--clients 2]

`--backend postgresql` needs PostgreSQL on 127.0.0.1:5432 (user postgres, trust; each server
gets a database of its own, dropped after). `--idle 10000` checks 10,000 idle watchers on one
process (the soft RLIMIT_NOFILE is raised to the hard one; the watchers are dealt to
`--clients` client processes).

Three servers, each a process of its own measured from /proc, in one run:
- raw: `bench.common.RAW_SERVER`, a bare Starlette WebSocket sending the same `next` frames at
  the same pace (it waits `--delay` before every frame, the first too);
- bare Strawberry: BARE_STRAWBERRY_SERVER, a minimal schema whose `chatStream` yields as many
  TextDelta-shaped objects `--delay` apart, then a StreamFinished, and whose `chatEvents` waits
  for ever; served by uvicorn with the chat server's options (src/cli/serve.py);
- this server: `main.py` (WORKERS=1, in-memory broker) on SQLite or PostgreSQL, the demo model
  with DEMO_TOKEN_DELAY_SECONDS=`--delay`, one user with the per-user limits raised; every
  stream in a new chat with a user message of 80 words (MESSAGE).

Each server runs twice, fresh each time. The first time:
- single reply: `--single` replies of SINGLE_TOKENS tokens one after another, each on a new
  socket (opened and, on GraphQL, acknowledged before the clock starts): time from the
  subscribe to the first token, p50;
- idle watchers: WARM_WATCHERS sockets with a subscription first (lazy imports and caches are
  not a watcher's cost), then the server's RSS (VmRSS); then `--idle` more sockets, each with a
  subscription (this server: `chatEvents` on one of the WATCHED_CHATS chats of the single
  replies; bare Strawberry: its `chatEvents`; raw: an open socket), and the RSS again once the
  server's CPU is quiet. Memory per watcher = the difference / `--idle`. Then each client
  checks that its subscriptions are still open and silent.
The second time, with the load client of `bench.scale_bench` (every socket opened first, then
all subscribe at once):
- burst: `--streams` streams of `--tokens` tokens: server CPU (user + system, all work the
  process did during the load) per token received; time to first and to last token, p50 over
  the streams; per stream the p99 gap between tokens, and its median over the streams;
- short replies: `--short` replies of SHORT_TOKENS tokens at once: server CPU per reply.

It prints one markdown table (rows = figures, columns = servers) with the targets of issue 9
for this server and whether each holds, then the warnings and errors of the server logs.
"""

import argparse
import asyncio
import itertools
import json
import resource
import statistics
import tempfile
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import (
    RAW_SERVER,
    blocking_postgres_database,
    chat_server,
    cpu_seconds,
    register,
    rss_bytes,
    script_server,
)
from bench.scale_bench import (
    PROMPT,
    SERVER_SETTINGS,
    Load,
    Record,
    chat_stream_payload,
    client_configs,
    expected_reply,
    log_summary,
    open_socket,
    run_load,
    run_stream,
    start_client,
)

MESSAGE = " ".join(itertools.islice(itertools.cycle(PROMPT.split()), 80))
"""The user message of every reply: 80 words."""
SHORT_TOKENS = 3
SINGLE_TOKENS = 3
WARM_WATCHERS = 20
WATCHED_CHATS = 5
QUIET_CPU_SECONDS = 0.01
"""At most this much server CPU in QUIET_INTERVAL_SECONDS: the server is idle."""
QUIET_INTERVAL_SECONDS = 0.5
QUIET_ATTEMPTS = 240
WATCH = """subscription W($chatId: ID!) {
  chatEvents(chatId: $chatId) {
    __typename
    ... on TextDelta { delta }
    ... on StreamFinished { finishReason }
  }
}"""
BARE_STREAM = """subscription S($tokens: Int!) {
  chatStream(tokens: $tokens) {
    __typename
    ... on TextDelta { delta }
    ... on StreamFinished { finishReason }
  }
}"""
BARE_WORD = "word "
BARE_STRAWBERRY_SERVER = """
import asyncio, sys
from collections.abc import AsyncGenerator
from typing import Annotated
import strawberry, uvicorn
from strawberry.asgi import GraphQL
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL

DELAY = float(sys.argv[2])

@strawberry.type
class TextDelta:
    seq: int
    delta: str

@strawberry.type
class StreamFinished:
    seq: int
    finish_reason: str

StreamEvent = Annotated[TextDelta | StreamFinished, strawberry.union("StreamEvent")]

@strawberry.type
class Query:
    ok: bool = True

@strawberry.type
class Subscription:
    @strawberry.subscription
    async def chat_stream(self, tokens: int) -> AsyncGenerator[StreamEvent, None]:
        for seq in range(tokens):
            if seq:
                await asyncio.sleep(DELAY)
            yield TextDelta(seq=seq, delta="word ")
        yield StreamFinished(seq=tokens, finish_reason="LENGTH")

    @strawberry.subscription
    async def chat_events(self, chat_id: strawberry.ID) -> AsyncGenerator[StreamEvent, None]:
        await asyncio.Event().wait()
        yield StreamFinished(seq=0, finish_reason="STOP")

schema = strawberry.Schema(query=Query, subscription=Subscription)
app = GraphQL(schema, subscription_protocols=[GRAPHQL_TRANSPORT_WS_PROTOCOL])
# The options of src/cli/serve.py.
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_config=None,
            ws_max_size=256 * 1024, ws_ping_interval=20, ws_per_message_deflate=False)
"""
COLUMNS = {"raw": "raw WebSocket", "bare": "bare Strawberry", "server": "this server"}


# --- the servers ------------------------------------------------------------------------------


@dataclass
class Server:
    """A running server of one kind: how to stream from it and how to watch on it."""

    kind: str
    pid: int
    url: str
    texts: dict[int, str]
    """What a stream carries, by its length in tokens."""
    token: str = ""
    chats: list[str] = field(default_factory=list)
    """This server: the chats its streams were started in."""

    @property
    def raw(self) -> bool:
        """Whether it speaks plain WebSocket rather than graphql-transport-ws."""
        return self.kind == "raw"

    def stream_target(self, tokens: int) -> dict[str, Any]:
        """A target of the load client: one stream of `tokens` tokens (this server: new chat)."""
        target = {"url": self.url, "token": self.token}
        if self.kind == "bare":
            return target | {"payload": {"query": BARE_STREAM, "variables": {"tokens": tokens}}}
        if self.kind == "server":
            chat = str(uuid.uuid4())
            self.chats.append(chat)
            return target | {"payload": chat_stream_payload(chat, MESSAGE, tokens)}
        return target

    def watch_target(self, n: int) -> dict[str, Any]:
        """A target of the load client in idle mode: the n-th watcher."""
        target = {"url": self.url, "token": self.token}
        if self.kind == "server":
            chat = self.chats[n % min(WATCHED_CHATS, len(self.chats))]
            return target | {"payload": {"query": WATCH, "variables": {"chatId": chat}}}
        return target | {"payload": {"query": WATCH, "variables": {"chatId": "1"}}}

    def configs(
        self, targets: list[dict[str, Any]], clients: int, tokens: int
    ) -> list[dict[str, Any]]:
        """The load client processes' configurations for these targets."""
        return client_configs(targets, clients, tokens, self.texts[tokens], self.raw)


@contextmanager
def start(kind: str, args: argparse.Namespace, log: Path) -> Iterator[Server]:
    """A fresh server of `kind` (raw, bare, server), its log in `log`, until the block ends."""
    lengths = {0, SINGLE_TOKENS, SHORT_TOKENS, args.tokens}
    with ExitStack() as stack:
        stderr = stack.enter_context(log.open("ab"))
        if kind in {"raw", "bare"}:
            script = RAW_SERVER if kind == "raw" else BARE_STRAWBERRY_SERVER
            pid, port = stack.enter_context(script_server(script, str(args.delay), stderr=stderr))
            url = f"ws://127.0.0.1:{port}/"
            texts = {n: BARE_WORD * n for n in lengths}
            # Bare Strawberry checks no token, but the load client sends one.
            yield Server(kind, pid, url, texts, token="" if kind == "raw" else "none")
            return
        folder = stack.enter_context(tempfile.TemporaryDirectory())
        database = (
            stack.enter_context(blocking_postgres_database("reply_cost_bench"))
            if args.backend == "postgresql"
            else f"sqlite+aiosqlite:///{folder}/chat.db"
        )
        settings = SERVER_SETTINGS | {
            "DEMO_TOKEN_DELAY_SECONDS": str(args.delay),
            "DATA_DIR": folder,
            "DATABASE_URL": database,
            "REDIS_URL": "",
        }
        process, base = stack.enter_context(chat_server(settings, stderr=stderr))
        token = register(base, f"reply-cost-{uuid.uuid4().hex[:8]}@example.com")
        texts = {n: expected_reply(n, MESSAGE) for n in lengths}
        yield Server(kind, process.pid, base.replace("http", "ws") + "/graphql", texts, token)


# --- the measures -------------------------------------------------------------------------


@dataclass
class Column:
    """What was measured on one kind of server."""

    single: list[Record] = field(default_factory=list)
    idle_bytes: int = 0
    idle: list[Record] = field(default_factory=list)
    burst: Load | None = None
    short: Load | None = None


async def single_replies(server: Server, count: int) -> list[Record]:
    """`count` replies of SINGLE_TOKENS tokens one after another, each on a new socket."""
    gate = asyncio.Semaphore(1)
    [config] = server.configs([], 1, SINGLE_TOKENS)
    records = []
    for _ in range(count):
        target = server.stream_target(SINGLE_TOKENS)
        ws = await open_socket(target, server.raw, gate)
        records.append(await run_stream(ws, target, config))
        await ws.close()
    return records


async def quiet(pid: int) -> None:
    """Wait until the process spends at most QUIET_CPU_SECONDS in two intervals in a row.

    Raises:
        RuntimeError: It did not quieten within QUIET_ATTEMPTS intervals.
    """
    quiet_intervals = 0
    for _ in range(QUIET_ATTEMPTS):
        spent = cpu_seconds(pid)
        await asyncio.sleep(QUIET_INTERVAL_SECONDS)
        quiet_intervals = (
            quiet_intervals + 1 if cpu_seconds(pid) - spent <= QUIET_CPU_SECONDS else 0
        )
        if quiet_intervals == 2:
            return
    raise RuntimeError(f"process {pid} stayed busy")


async def _lines(clients: list[asyncio.subprocess.Process], say: bytes | None) -> list[Any]:
    """Say `say` to every client (when given), then read one JSON line from each."""
    if say is not None:
        for client in clients:
            assert client.stdin is not None
            client.stdin.write(say)
        await asyncio.gather(*(client.stdin.drain() for client in clients if client.stdin))
    return [json.loads(await client.stdout.readline()) for client in clients if client.stdout]


async def _watchers(configs: list[dict[str, Any]]) -> list[asyncio.subprocess.Process]:
    """Start idle-mode clients; return once every socket has subscribed."""
    clients = [await start_client(config | {"idle": True}) for config in configs]
    await _lines(clients, None)  # opened
    await _lines(clients, b"go\n")  # subscribed
    return clients


async def idle_watchers(server: Server, watchers: int, clients: int) -> tuple[int, list[Record]]:
    """RSS growth for `watchers` idle subscriptions (after WARM_WATCHERS), and their records."""
    warm = server.configs([server.watch_target(n) for n in range(WARM_WATCHERS)], 1, 0)
    running = await _watchers(warm)
    await quiet(server.pid)
    before = rss_bytes(server.pid)
    targets = [server.watch_target(n) for n in range(watchers)]
    running += await _watchers(server.configs(targets, clients, 0))
    await quiet(server.pid)
    grown = rss_bytes(server.pid) - before
    replies = await _lines(running, b"check\n")
    for client in running:
        assert client.stdin is not None
        client.stdin.close()
        await client.wait()
    return grown, [record for reply in replies[1:] for record in reply["records"]]


def measure(kind: str, args: argparse.Namespace, log: Path) -> Column:
    """Every figure of one kind of server (see the module docstring)."""
    column = Column()
    with start(kind, args, log) as server:
        column.single = asyncio.run(single_replies(server, args.single))
        column.idle_bytes, column.idle = asyncio.run(idle_watchers(server, args.idle, args.clients))
    with start(kind, args, log) as server:
        servers = {kind: server.pid}
        targets = [server.stream_target(args.tokens) for _ in range(args.streams)]
        column.burst = asyncio.run(
            run_load(server.configs(targets, args.clients, args.tokens), servers, None)
        )
        targets = [server.stream_target(SHORT_TOKENS) for _ in range(args.short)]
        column.short = asyncio.run(
            run_load(server.configs(targets, args.clients, SHORT_TOKENS), servers, None)
        )
    return column


# --- the report ---------------------------------------------------------------------------


def _median(values: list[float | None]) -> float | None:
    present = [value for value in values if value is not None]
    return statistics.median(present) if present else None


def _errors(records: list[Record]) -> Counter[str]:
    return Counter(str(r[5]) for r in records if r[5])


@dataclass
class Figures:
    """One column's figures, as numbers (None: not measured)."""

    cpu_per_token: float
    first: float | None
    last: float | None
    gap: float | None
    burst_errors: Counter[str]
    lost: int
    cpu_per_reply: float
    short_errors: Counter[str]
    per_watcher: float
    alive: int
    single_first: float | None
    single_errors: Counter[str]


def figures(column: Column, args: argparse.Namespace) -> Figures:
    """The numbers of one column."""
    assert column.burst is not None and column.short is not None
    burst, short = column.burst.records, column.short.records
    received = sum(r[3] for r in burst)
    replies = sum(1 for r in short if not r[5])
    return Figures(
        cpu_per_token=column.burst.server_cpu / max(1, received),
        first=_median([r[0] for r in burst]),
        last=_median([r[1] for r in burst]),
        gap=_median([r[2] for r in burst]),
        burst_errors=_errors(burst),
        lost=args.tokens * len(burst) - received,
        cpu_per_reply=column.short.server_cpu / max(1, replies),
        short_errors=_errors(short),
        per_watcher=column.idle_bytes / max(1, args.idle),
        alive=sum(1 for r in column.idle if r[6] == "IDLE"),
        single_first=_median([r[0] for r in column.single]),
        single_errors=_errors(column.single),
    )


def _ms(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    return f"{seconds:.2f} s" if seconds >= 1 else f"{seconds * 1000:,.1f} ms"


def _us(seconds: float) -> str:
    return f"{seconds * 1e6:,.0f} µs"


def _counts(counter: Counter[str]) -> str:
    return ", ".join(f"{key} {count:,}" for key, count in counter.most_common()) or "none"


type Row = tuple[
    str, Callable[[Figures], str], str, Callable[[Figures, Figures | None], bool | None]
]
"""A table row: figure, cell of a column, target, and whether this server (1st) meets it, given
raw (2nd, None when not measured); None: not known from this run."""


def rows(args: argparse.Namespace) -> list[Row]:
    """The table's rows."""
    reply_budget = 0.002 if args.backend == "postgresql" else 0.003
    ideal = args.tokens * args.delay
    return [
        (
            f"server CPU per token, {args.streams} x {args.tokens} tokens at "
            f"{args.delay * 1000:g} ms, all work included",
            lambda f: _us(f.cpu_per_token),
            "≤ 4x raw",
            lambda f, raw: None if raw is None else f.cpu_per_token <= 4 * raw.cpu_per_token,
        ),
        (
            "time to first token p50 in that burst",
            lambda f: _ms(f.first),
            "≤ 1 s",
            lambda f, raw: f.first is not None and f.first <= 1,
        ),
        (
            f"time to last token p50 (ideal {ideal:g} s)",
            lambda f: _ms(f.last),
            "≤ 3 s",
            lambda f, raw: f.last is not None and f.last <= 3,
        ),
        (
            "gap between tokens p99 (median over streams)",
            lambda f: _ms(f.gap),
            "≤ 30 ms",
            lambda f, raw: f.gap is not None and f.gap <= 0.03,
        ),
        (
            "tokens lost; errors in the burst",
            lambda f: f"{f.lost:,}; {_counts(f.burst_errors)}",
            "none",
            lambda f, raw: f.lost == 0 and not f.burst_errors,
        ),
        (
            f"server CPU per reply, {args.short} replies of {SHORT_TOKENS} tokens at once",
            lambda f: (
                f"{f.cpu_per_reply * 1000:,.2f} ms"
                + (f" ({_counts(f.short_errors)})" if f.short_errors else "")
            ),
            f"≤ {reply_budget * 1000:g} ms",
            lambda f, raw: f.cpu_per_reply <= reply_budget and not f.short_errors,
        ),
        (
            f"memory per idle watcher ({args.idle:,} of them)",
            lambda f: f"{f.per_watcher / 1024:,.1f} KiB",
            "≤ 1.5x raw",
            lambda f, raw: None if raw is None else f.per_watcher <= 1.5 * raw.per_watcher,
        ),
        (
            "idle watchers still open and silent",
            lambda f: f"{f.alive:,} / {args.idle:,}",
            "10,000 on one process",
            lambda f, raw: f.alive == args.idle if args.idle >= 10_000 else None,
        ),
        (
            f"time to first token of a single reply, p50 of {args.single}",
            lambda f: (
                _ms(f.single_first) + (f" ({_counts(f.single_errors)})" if f.single_errors else "")
            ),
            "< 10 ms",
            lambda f, raw: f.single_first is not None and f.single_first < 0.01,
        ),
    ]


_VERDICTS = {True: "yes", False: "NO", None: "-"}


def print_report(columns: dict[str, Column], args: argparse.Namespace, logs: Path) -> None:
    """The table, then the server logs' warnings and errors."""
    numbers = {kind: figures(column, args) for kind, column in columns.items()}
    ours = f"{COLUMNS['server']} ({'PostgreSQL' if args.backend == 'postgresql' else 'SQLite'})"
    names = [ours if kind == "server" else COLUMNS[kind] for kind in numbers]
    print("\n| figure | " + " | ".join(names) + " | target | holds |")
    print("|---" * (len(names) + 3) + "|")
    for figure, cell, target, holds in rows(args):
        cells = " | ".join(cell(numbers[kind]) for kind in numbers)
        verdict = holds(numbers["server"], numbers.get("raw")) if "server" in numbers else None
        print(f"| {figure} | {cells} | {target} | {_VERDICTS[verdict]} |")
    print()
    for line, count in log_summary({kind: logs / f"{kind}.log" for kind in columns}).most_common(
        20
    ):
        print(f"log: {count}x {line}")


def main() -> None:
    """Measure every kind of server in turn and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--streams", type=int, default=500, help="streams in the burst")
    parser.add_argument("--tokens", type=int, default=50, help="tokens per burst stream")
    parser.add_argument("--delay", type=float, default=0.02, help="seconds between tokens")
    parser.add_argument("--short", type=int, default=500, help="short replies at once")
    parser.add_argument("--idle", type=int, default=1000, help="idle watchers")
    parser.add_argument("--single", type=int, default=20, help="single replies in a row")
    parser.add_argument("--clients", type=int, default=2, help="load client processes")
    parser.add_argument("--kinds", default="raw,bare,server", help="servers to measure")
    parser.add_argument("--keep-logs", action="store_true")
    args = parser.parse_args()
    if args.single < 1:
        parser.error("--single must be at least 1 (the watchers watch those chats)")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    logs = Path(tempfile.mkdtemp(prefix="reply-cost-bench-"))
    print(f"server logs in {logs}; RLIMIT_NOFILE {soft} raised to {hard}", flush=True)
    columns = {}
    for kind in args.kinds.split(","):
        print(f"measuring {COLUMNS[kind]}", flush=True)
        columns[kind] = measure(kind, args, logs / f"{kind}.log")
    print_report(columns, args, logs)
    if not args.keep_logs:
        for path in logs.iterdir():
            path.unlink()
        logs.rmdir()


if __name__ == "__main__":
    main()

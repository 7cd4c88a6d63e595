"""What the by-hand benchmarks share: ports, /proc CPU and memory, the chat server, raw servers.

Offers:
- ROOT, free_port, cpu_seconds, rss_bytes, wait_until_up, percentile.
- POSTGRES_SERVER, postgres_database (async), blocking_postgres_database: a new, empty
  PostgreSQL database, dropped on exit.
- chat_server: runs `main.py` as a subprocess with extra settings, stopped on exit.
- register: a new account's access token, over HTTP.
- script_server: runs a Python script that serves on the port given as its first argument.
- raw_server: runs RAW_SERVER, a Starlette WebSocket that sends `next`-shaped frames at a
  given pace (the client sends the number of frames it wants, as text).
"""

import asyncio
import json
import math
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import IO

import asyncpg  # type: ignore[import-untyped]

ROOT = Path(__file__).resolve().parents[1]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
RAW_SERVER = """
import asyncio, json, sys
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
import uvicorn

async def frames(ws):
    await ws.accept()
    count, delay = int(await ws.receive_text()), float(sys.argv[2])
    for seq in range(count):
        await asyncio.sleep(delay)
        await ws.send_text(json.dumps({"id": "1", "type": "next", "payload": {"data": {
            "chatStream": {"__typename": "TextDelta", "seq": seq, "delta": "word "}}}}))
    await ws.close()

uvicorn.run(Starlette(routes=[WebSocketRoute("/", frames)]), host="127.0.0.1",
            port=int(sys.argv[1]), log_level="warning")
"""


POSTGRES_SERVER = "postgresql://postgres@127.0.0.1:5432"


async def _admin(server: str, statement: str) -> None:
    connection = await asyncpg.connect(f"{server}/postgres")
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def _database_url(server: str, name: str) -> str:
    return f"{server.replace('postgresql://', 'postgresql+asyncpg://')}/{name}"


@asynccontextmanager
async def postgres_database(prefix: str, server: str = POSTGRES_SERVER) -> AsyncIterator[str]:
    """A new, empty database on the PostgreSQL server, dropped on exit: its SQLAlchemy URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    await _admin(server, f'CREATE DATABASE "{name}"')
    try:
        yield _database_url(server, name)
    finally:
        await _admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def blocking_postgres_database(prefix: str, server: str = POSTGRES_SERVER) -> Iterator[str]:
    """`postgres_database` for code that runs no event loop of its own."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    asyncio.run(_admin(server, f'CREATE DATABASE "{name}"'))
    try:
        yield _database_url(server, name)
    finally:
        asyncio.run(_admin(server, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


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


def rss_bytes(pid: int) -> int:
    """Resident memory of a process (VmRSS)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def percentile(values: Sequence[float], percent: float) -> float | None:
    """The nearest-rank percentile; None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(percent / 100 * len(ordered)) - 1)]


def wait_until_up(url: str, attempts: int = 600) -> None:
    """Poll until the server answers.

    Raises:
        RuntimeError: It did not answer within `attempts` tries 0.1 s apart.
    """
    for _ in range(attempts):
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


@contextmanager
def chat_server(
    settings: dict[str, str], stderr: IO[bytes] | None = None
) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """Run the chat server (`main.py`) until the block ends.

    Args:
        settings: Environment variables on top of this process's (PORT is chosen when absent).
        stderr: Where the server's log goes; None for this process's stderr.

    Yields:
        The server process (its pid is the server's own) and its base URL, once it answers.
    """
    port = settings.get("PORT") or str(free_port())
    env = os.environ | settings | {"PORT": port}
    server = subprocess.Popen([sys.executable, "main.py"], cwd=ROOT, env=env, stderr=stderr)
    try:
        base = f"http://127.0.0.1:{port}"
        wait_until_up(f"{base}/healthz")
        yield server, base
    finally:
        server.terminate()
        server.wait()


@contextmanager
def script_server(
    script: str, *args: str, stderr: IO[bytes] | None = None
) -> Iterator[tuple[int, int]]:
    """Run `python -c script <port> *args` until the block ends.

    Args:
        script: Python code that serves on 127.0.0.1 at the port given as its first argument.
        args: Its further arguments.
        stderr: Where the server's log goes; None for this process's stderr.

    Yields:
        The server's pid and port, once it accepts connections.

    Raises:
        RuntimeError: It did not accept connections within 20 s.
    """
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-c", script, str(port), *args], cwd=ROOT, stderr=stderr
    )
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise RuntimeError(f"the server on port {port} did not come up")
        yield server.pid, port
    finally:
        server.terminate()
        server.wait()


@contextmanager
def raw_server(delay: float, stderr: IO[bytes] | None = None) -> Iterator[tuple[int, str]]:
    """Run RAW_SERVER until the block ends.

    Args:
        delay: Seconds to wait before each frame.
        stderr: Where the server's log goes; None for this process's stderr.

    Yields:
        The server's pid and its WebSocket URL, once it accepts connections.
    """
    with script_server(RAW_SERVER, str(delay), stderr=stderr) as (pid, port):
        yield pid, f"ws://127.0.0.1:{port}/"


def register(base: str, email: str = "bench@example.com", password: str = "benchmark") -> str:
    """A new account's access token."""
    query = "mutation R($input: RegisterInput!) { register(input: $input) { accessToken } }"
    body = {"query": query, "variables": {"input": {"email": email, "password": password}}}
    request = urllib.request.Request(
        f"{base}/graphql",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request) as response:
        token: str = json.load(response)["data"]["register"]["accessToken"]
        return token

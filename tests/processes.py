"""Real processes for multi-process and fault tests: servers, and a Redis of a test's own.

A server runs `main.py` as `uv run main.py` does, gets its settings through the environment,
listens on a free loopback port, and is ready once `/healthz` answers. It can be killed
(SIGKILL, nothing runs after) or stopped. A `RedisServer` can be stopped and started again on
the same port, for outages, without touching the shared Redis.
"""

import asyncio
import os
import shutil
import signal
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from redis.asyncio import Redis
from redis.exceptions import RedisError

from tests.helpers import service_unavailable, wait_until

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT = 60  # a loaded 2-core machine starts a server in 5 to 20 s


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class ServerProcess:
    """One server process.

    Attributes:
        http_url: Its base URL, `http://127.0.0.1:<port>`.
        ws_url: Its GraphQL WebSocket URL.
    """

    def __init__(self, process: asyncio.subprocess.Process, port: int) -> None:
        self.process = process
        self.http_url = f"http://127.0.0.1:{port}"
        self.ws_url = f"ws://127.0.0.1:{port}/graphql"

    def kill(self) -> None:
        """SIGKILL: the process ends at once, saving and telling nothing."""
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGKILL)

    async def wait_ready(self) -> None:
        """Wait until `/healthz` answers (or fail after START_TIMEOUT seconds)."""
        async with httpx.AsyncClient(base_url=self.http_url) as http:
            async with asyncio.timeout(START_TIMEOUT):
                while True:
                    if self.process.returncode is not None:
                        raise AssertionError(f"the server exited with {self.process.returncode}")
                    try:
                        if (await http.get("/healthz")).status_code == 200:
                            return
                    except httpx.TransportError:
                        pass
                    await asyncio.sleep(0.1)


@asynccontextmanager
async def server_process(env: dict[str, str], log: Path) -> AsyncIterator[ServerProcess]:
    """A server started with these settings (added to this process's environment).

    Its output goes to `log`. It is stopped (SIGTERM, then SIGKILL) when the block ends.
    """
    port = free_port()
    settings = {**os.environ, **env, "HOST": "127.0.0.1", "PORT": str(port)}
    with log.open("wb") as output:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "main.py",
            cwd=ROOT,
            env=settings,
            stdout=output,
            stderr=asyncio.subprocess.STDOUT,
        )
    server = ServerProcess(process, port)
    try:
        await server.wait_ready()
        yield server
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 10)
            except TimeoutError:
                server.kill()
                await process.wait()


class RedisServer:
    """A `redis-server` of one test alone, on a free port; it can be stopped and started again.

    Attributes:
        url: Its URL (the same across restarts).
    """

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            service_unavailable("redis-server", FileNotFoundError("redis-server is not installed"))
        self._binary = binary
        self._port = free_port()
        self._process: asyncio.subprocess.Process | None = None
        self.url = f"redis://127.0.0.1:{self._port}/0"

    async def start(self) -> None:
        """Start it (empty: nothing is saved) and wait until it answers."""
        self._process = await asyncio.create_subprocess_exec(
            self._binary,
            *("--port", str(self._port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"),
            stdout=asyncio.subprocess.DEVNULL,
        )
        async with Redis.from_url(self.url) as client:

            async def answers() -> bool:
                try:
                    return bool(await client.ping())
                except (RedisError, OSError):
                    return False

            await wait_until(answers, START_TIMEOUT)

    async def stop(self) -> None:
        """Stop it; its data is gone."""
        if self._process is not None and self._process.returncode is None:
            self._process.terminate()
            await self._process.wait()


@asynccontextmanager
async def redis_server() -> AsyncIterator[RedisServer]:
    """A running `RedisServer`, stopped when the block ends."""
    server = RedisServer()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()

"""Running the command line from tests: in this process (Typer's CliRunner), or as `main.py`."""

import asyncio
import os
import sys
from pathlib import Path

from typer.testing import CliRunner, Result

from src.cli.app import app
from tests.conftest import TEST_SETTINGS
from tests.processes import ROOT


def environment(database_url: str, data_dir: Path) -> dict[str, str]:
    """The environment of a test server's settings (`TEST_SETTINGS`) on this database."""
    settings = TEST_SETTINGS | {"database_url": database_url, "data_dir": data_dir}
    return {name.upper(): str(value) for name, value in settings.items()}


async def invoke(args: list[str], env: dict[str, str], stdin: str | None = None) -> Result:
    """Run a command in this process with that environment and standard input.

    In a thread: a command runs its own event loop, which cannot start inside the test's.
    """
    runner = CliRunner()
    return await asyncio.to_thread(lambda: runner.invoke(app, args, input=stdin, env=env))


async def run_main(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    """Run `main.py <args>` as `uv run main.py` does; its exit code and its output."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "main.py",
        *args,
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, output.decode()

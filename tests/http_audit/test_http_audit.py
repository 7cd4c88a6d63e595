"""The GraphQL-over-HTTP spec's own audit and urql 6's default client, against a real server.

`audit.mjs` (npm packages pinned in package-lock.json; `.ci/run` runs `npm ci` here) runs
graphql-http's `serverAudits` and urql's default client against `main.py` on loopback, with
introspection on (two audits query `__type`; production refuses introspection by design).
Issue 12: no MUST or SHOULD audit may fail, and urql, which sends queries by GET, signs in
and queries. HTTP behaviour does not depend on the database, so this runs on SQLite only.
"""

import asyncio
import json
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import TEST_SETTINGS
from tests.processes import ServerProcess, server_process

pytestmark = pytest.mark.external

HERE = Path(__file__).parent
NODE_TIMEOUT = 120


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[ServerProcess]:
    """`main.py` as `uv run main.py` starts it, with the test settings, on a fresh SQLite."""
    settings = TEST_SETTINGS | {
        "database_url": f"sqlite+aiosqlite:///{tmp_path / 'audit.db'}",
        "data_dir": tmp_path / "data",
        "log_level": "INFO",
    }
    env = {name.upper(): str(value) for name, value in settings.items()}
    async with server_process(env, tmp_path / "server.log") as server:
        yield server


async def _run_audit(url: str) -> dict[str, Any]:
    node = shutil.which("node")
    assert node is not None, "node is required (.ci/run installs it)"
    assert (HERE / "node_modules").is_dir(), "run `npm ci` in tests/http_audit first"
    process = await asyncio.create_subprocess_exec(
        node,
        "audit.mjs",
        url,
        cwd=HERE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    stdout, stderr = await asyncio.wait_for(process.communicate(), NODE_TIMEOUT)
    assert process.returncode == 0, stderr.decode()
    report: dict[str, Any] = json.loads(stdout)
    return report


async def test_the_spec_audit_passes_and_urql_queries_by_get(
    server: ServerProcess, tmp_path: Path
) -> None:
    report = await _run_audit(f"{server.http_url}/graphql")

    audits = report["audits"]
    assert len(audits) > 50
    failing = [a for a in audits if a["status"] in {"error", "warn"}]
    assert failing == [], json.dumps(failing, indent=1)
    assert all(a["status"] == "ok" for a in audits if a["id"] in {"22EB", "556A", "5E5B", "86EE"})

    urql = report["urql"]
    assert urql["errors"] == []
    assert urql["me"] == {"id": urql["guestId"], "userType": "GUEST"}
    assert urql["models"] > 0
    methods = [request["method"] for request in urql["requests"]]
    assert methods == ["POST", "GET", "GET"]  # the mutation by POST, both queries by GET

    log = (tmp_path / "server.log").read_text()
    assert "GET /graphql op=Me status=200" in log
    assert "query=" not in log and "Models%20" not in log and "Bearer" not in log

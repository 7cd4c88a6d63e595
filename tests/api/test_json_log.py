"""`LOG_FORMAT=json`: a real server writes one JSON object per line, with the request id."""

import json
from pathlib import Path

import httpx

from tests.conftest import TEST_SETTINGS
from tests.helpers import wait_until
from tests.processes import server_process


async def test_every_log_line_is_json_with_the_request_id(tmp_path: Path) -> None:
    settings = TEST_SETTINGS | {
        "database_url": f"sqlite+aiosqlite:///{tmp_path / 'chat.db'}",
        "data_dir": tmp_path,
        "log_level": "INFO",
        "log_format": "json",
    }
    log = tmp_path / "server.log"
    environment = {name.upper(): str(value) for name, value in settings.items()}
    async with server_process(environment, log) as server:
        async with httpx.AsyncClient(base_url=server.http_url) as http:
            response = await http.post("/graphql", json={"query": "query Models { models { id } }"})
        request_id = response.headers["x-request-id"]
        await wait_until(lambda: request_id in log.read_text())

    entries = [json.loads(line) for line in log.read_text().splitlines()]
    assert all({"time", "level", "request_id", "message"} <= entry.keys() for entry in entries)
    request_lines = [entry for entry in entries if entry["request_id"] == request_id]
    assert len(request_lines) == 1
    assert request_lines[0]["message"].startswith("POST /graphql op=Models status=200")
    assert any(entry["message"].startswith("database sqlite") for entry in entries)

"""Schemathesis against the real server: no generated operation may break it.

Schemathesis reads the schema by introspection from the app served over real sockets, then
for every query and mutation field generates documents with arguments (valid ones, and
invalid ones) and posts them, signed in as a regular user who owns a chat with a few
messages; IDs are drawn from that chat's and messages' ids as well as random UUIDs, so that
cases reach past the id checks. A bounded, derandomized run:
CASES_PER_OPERATION cases of each mode per field, and no new case after TIME_BUDGET
seconds. Fails on any 5xx status and any `INTERNAL_SERVER_ERROR` code in an answer, listing
each offending document.

The calls are synchronous (requests), so they run in a worker thread while the server keeps
the test's event loop.
"""

import asyncio
import time
from typing import Any

import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import Case, GenerationMode
from schemathesis.core.result import Ok
from schemathesis.graphql import nodes

from tests.factories import add_conversation, create_chat, sign_up
from tests.helpers import GraphQLClient

CASES_PER_OPERATION = 5
TIME_BUDGET = 45.0


def _problem(case: Case[Any], status: int, body: Any) -> str | None:
    """What is wrong with an answer, or None."""
    errors = body.get("errors") if isinstance(body, dict) else None
    codes = {(e.get("extensions") or {}).get("code") for e in errors or [] if isinstance(e, dict)}
    if status < 500 and "INTERNAL_SERVER_ERROR" not in codes:
        return None
    return f"HTTP {status} {str(body)[:300]}\n  for {case.body!r:.600}"


def _fuzz(url: str, token: str) -> tuple[int, list[str]]:
    """Run the cases against the GraphQL endpoint at `url`; (cases sent, problems)."""
    schema = schemathesis.graphql.from_url(url)
    deadline = time.monotonic() + TIME_BUDGET
    headers = {"Authorization": f"Bearer {token}"}
    sent: list[Case[Any]] = []
    problems: list[str] = []

    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result  # the schema is ours: every field loads
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @settings(
                max_examples=CASES_PER_OPERATION,
                derandomize=True,
                database=None,
                deadline=None,
                phases=[Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy(generation_mode=mode))
            def send(case: Case[Any]) -> None:
                if time.monotonic() > deadline:
                    return
                response = case.call(headers=headers, timeout=10)
                sent.append(case)
                try:
                    body = response.json()
                except ValueError:
                    body = response.text
                problem = _problem(case, response.status_code, body)
                if problem is not None:
                    problems.append(problem)

            send()
    return len(sent), problems


async def test_generated_operations_get_no_server_error(
    client: GraphQLClient, server_url: str, app: FastAPI
) -> None:
    ada = await sign_up(client, "ada")
    chat_id = await create_chat(app, ada)
    known_ids = [chat_id, ada.id, *await add_conversation(app, chat_id, 2)]
    ids = st.one_of(st.sampled_from(known_ids), st.uuids().map(str))
    schemathesis.graphql.scalar("ID", ids.map(nodes.String))
    url = server_url.replace("ws://", "http://", 1)
    sent, problems = await asyncio.to_thread(_fuzz, url, ada.token)
    assert sent >= 50, f"only {sent} cases were sent in {TIME_BUDGET} s"
    assert problems == [], "\n".join(problems)

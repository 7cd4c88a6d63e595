"""Search over a user with many chats against the same search over a user with few.

Run by hand (numbers go to bench/README.md):
    uv run python -m bench.search_bench [--chats 5000] [--runs 5] [--backends sqlite,postgresql]
        [--root PATH]   # another checkout's main.py (e.g. `git archive` of main), for "before"

For each backend it starts the server (`main.py` of --root, migrations applied at start-up) on
a fresh database (SQLite in a temporary folder; PostgreSQL: a new database on
--postgres-url), registers two users over HTTP, and writes straight into the database one
user with --chats chats and one with 10, every chat a user message and its reply of 30 words
drawn from a fixed vocabulary. The searched word is in the same 5 messages of each user, and
in no title: the work the index saves is what grows with the user's data, not the answer.
PostgreSQL then gets ANALYZE, as autovacuum would after such a load (without statistics its
planner may start from the user's chats rather than from the index).

Then, over HTTP, the best of --runs (after one warm-up) of each operation, for each user:
searchMessages, chats(search:), and chats(search:) with totalCount. The ratio of the big
user's time to the small user's is what the index is for; the target is at most 3x.
"""

import argparse
import asyncio
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import text

from bench.common import ROOT, blocking_postgres_database, free_port, wait_until_up
from src.lib.db.models import Chat, Message
from src.lib.db.session import create_engine
from src.lib.db.types import generate_uuid7

WORD = "quokka"
HITS_PER_USER = 5
SMALL_CHATS = 10
VOCABULARY = [f"{a}{b}" for a in ("ka", "lo", "mi", "nu", "pe", "ro", "si", "tu") for b in
              ("ban", "cor", "dil", "fen", "gat", "hum", "jor", "kel", "lum", "mar")]  # fmt: skip
REGISTER = """mutation R($input: RegisterInput!) {
  register(input: $input) { accessToken user { id } }
}"""
OPERATIONS = {
    "searchMessages": """query Q($q: String!) {
      searchMessages(query: $q) { edges { node { id } chat { id } snippet matches { start } } }
    }""",
    "chats(search:)": """query Q($q: String) {
      chats(search: $q) { edges { node { id title } } }
    }""",
    "chats(search:) + totalCount": """query Q($q: String) {
      chats(search: $q) { totalCount edges { node { id title } } }
    }""",
}


def graphql(http: httpx.Client, query: str, variables: dict[str, object], token: str = "") -> dict:
    """POST an operation; returns the response body (errors included)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = http.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
    response.raise_for_status()
    body: dict = response.json()
    return body


def sign_up(http: httpx.Client, email: str) -> tuple[str, uuid.UUID]:
    """A new account's access token and id."""
    variables = {"input": {"email": email, "password": "benchmark"}}
    payload = graphql(http, REGISTER, variables)["data"]["register"]
    return payload["accessToken"], uuid.UUID(payload["user"]["id"])


def conversation(rng: random.Random, chat_id: uuid.UUID, at: datetime, needle: bool) -> list[dict]:
    """A user message and its reply; the reply holds WORD when `needle`."""
    rows: list[dict] = []
    parent = None
    for role in ("USER", "ASSISTANT"):
        words = rng.choices(VOCABULARY, k=30)
        if needle and role == "ASSISTANT":
            words[rng.randrange(30)] = WORD
        text = " ".join(words)
        message_id = generate_uuid7()
        rows.append({
            "id": message_id, "chat_id": chat_id, "parent_msg_id": parent, "role": role,
            "parts": [{"type": "text", "text": text}], "text": text, "status": "COMPLETE",
            "model": "demo" if role == "ASSISTANT" else None, "created_at": at, "updated_at": at,
        })  # fmt: skip
        parent = message_id
    return rows


async def seed(database_url: str, users: dict[uuid.UUID, int]) -> None:
    """Write each user's chats, two messages each, WORD in HITS_PER_USER of them."""
    rng = random.Random(7)
    engine = create_engine(database_url)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    try:
        for user_id, count in users.items():
            needles = set(rng.sample(range(count), HITS_PER_USER))
            chats, messages = [], []
            for n in range(count):
                chat_id, at = generate_uuid7(), start + timedelta(seconds=n)
                rows = conversation(rng, chat_id, at, n in needles)
                chats.append({
                    "id": chat_id, "user_id": user_id, "title": f"Chat {n}",
                    "visibility": "PRIVATE", "current_leaf_id": rows[-1]["id"],
                    "created_at": at, "updated_at": at,
                })  # fmt: skip
                messages += rows
            async with engine.begin() as connection:
                for table, rows in ((Chat.__table__, chats), (Message.__table__, messages)):
                    for offset in range(0, len(rows), 1000):
                        await connection.execute(table.insert(), rows[offset : offset + 1000])
        if engine.dialect.name == "postgresql":  # what autovacuum does after such a load
            async with engine.connect() as connection:
                await connection.execute(text("ANALYZE"))
    finally:
        await engine.dispose()


def best_ms(http: httpx.Client, query: str, token: str, runs: int) -> float | None:
    """The best of `runs` timings of an operation in ms (after a warm-up); None if refused."""
    if "errors" in graphql(http, query, {"q": WORD}, token):
        return None
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        body = graphql(http, query, {"q": WORD}, token)
        timings.append((time.perf_counter() - started) * 1000)
        assert "errors" not in body, body
    return min(timings)


@contextmanager
def database(backend: str, postgres_url: str, folder: str) -> Iterator[str]:
    """A fresh, empty database's SQLAlchemy URL (dropped afterwards on PostgreSQL)."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{folder}/bench.db"
        return
    with blocking_postgres_database("search_bench", postgres_url) as url:
        yield url


def run_backend(backend: str, args: argparse.Namespace) -> list[tuple[str, str, float | None]]:
    """(operation, user, best ms) for one backend."""
    port = free_port()
    with (
        tempfile.TemporaryDirectory() as folder,
        database(backend, args.postgres_url, folder) as url,
    ):
        env = os.environ | {
            "PORT": str(port), "DATA_DIR": folder, "DATABASE_URL": url,
            "LOG_LEVEL": "WARNING", "SIGNUPS_PER_HOUR": "1000000",
        }  # fmt: skip
        server = subprocess.Popen([sys.executable, "main.py"], cwd=args.root, env=env)
        try:
            base = f"http://127.0.0.1:{port}"
            wait_until_up(f"{base}/healthz")
            with httpx.Client(base_url=base, timeout=60) as http:
                big_token, big = sign_up(http, "big@example.com")
                small_token, small = sign_up(http, "small@example.com")
                asyncio.run(seed(url, {big: args.chats, small: SMALL_CHATS}))
                users = {f"{args.chats} chats": big_token, f"{SMALL_CHATS} chats": small_token}
                return [
                    (operation, user, best_ms(http, query, token, args.runs))
                    for operation, query in OPERATIONS.items()
                    for user, token in users.items()
                ]
        finally:
            server.terminate()
            server.wait()


def main() -> None:
    """Measure each backend and print a table."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--chats", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--postgres-url", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--root", type=Path, default=ROOT)
    args = parser.parse_args()
    print(f"{'backend':<11}{'operation':<30}{'user':<13}{'best ms':>9}{'big/small':>11}")
    for backend in args.backends.split(","):
        results = run_backend(backend, args)
        for index in range(0, len(results), 2):
            (operation, big_user, big_ms), (_, small_user, small_ms) = results[index : index + 2]
            ratio = f"{big_ms / small_ms:.1f}x" if big_ms and small_ms else ""
            for user, ms, shown in ((big_user, big_ms, ratio), (small_user, small_ms, "")):
                value = f"{ms:.1f}" if ms is not None else "n/a"
                print(f"{backend:<11}{operation:<30}{user:<13}{value:>9}{shown:>11}")


if __name__ == "__main__":
    main()

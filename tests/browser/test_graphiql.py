"""GraphiQL in Debian's Chromium against a real server: it streams a reply, all from 127.0.0.1.

The browser registers through the page's query editor, puts the token in the Headers tab (which
GraphiQL also sends as the WebSocket's connection_init payload), runs `chatStream` with the
demo model and sees the deltas arrive one after another, then `StreamFinished`. Every request
the page makes is recorded: one to any host but 127.0.0.1 fails the test, and so does any
Content-Security-Policy violation.
"""

import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser, Page, async_playwright, expect

from tests.conftest import TEST_SETTINGS
from tests.processes import ServerProcess, server_process

pytestmark = pytest.mark.external

CHROMIUM = Path("/usr/bin/chromium")
TIMEOUT_MS = 30_000
QUERY_EDITOR = ".graphiql-query-editor .CodeMirror"
HEADERS_EDITOR = "section[aria-label='Headers'] .CodeMirror:visible"
RESPONSE = ".graphiql-response .CodeMirror"
REGISTER = """mutation Register {
  register(input: {email: "grace@example.com", password: "correct horse"}) { accessToken }
}"""
CHAT_STREAM = """subscription Stream {
  chatStream(input: {chatId: "%s", message: {parts: [{text: "%s"}]}}) {
    __typename
    ... on StreamStarted { seq model }
    ... on TextDelta { seq delta }
    ... on StreamFinished { seq finishReason message { status text } }
    ... on StreamFailed { seq code errorMessage }
  }
}"""
# Runs in the page through the DevTools protocol (not page script, so the CSP does not apply):
# keeps every text the response pane shows, in order (GraphiQL may set the same text twice).
RECORD_RESPONSES = """selector => {
  window.shown = [];
  const editor = document.querySelector(selector).CodeMirror;
  editor.on('change', () => {
    const text = editor.getValue();
    if (text.trim() && text !== window.shown.at(-1)) window.shown.push(text);
  });
}"""
# Added before the page's own scripts: keeps every Content-Security-Policy violation.
RECORD_VIOLATIONS = """
window.violations = [];
document.addEventListener('securitypolicyviolation', event => {
  window.violations.push(`${event.effectiveDirective} ${event.blockedURI}`);
});
"""


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[ServerProcess]:
    """A real server on a fresh SQLite database, with the demo model streaming slowly."""
    settings = TEST_SETTINGS | {
        "database_url": f"sqlite+aiosqlite:///{tmp_path / 'browser.db'}",
        "data_dir": tmp_path / "data",
        "demo_token_delay_seconds": 0.05,
        "graphiql": True,
    }
    env = {name.upper(): str(value) for name, value in settings.items()}
    async with server_process(env, tmp_path / "server.log") as process:
        yield process


@pytest.fixture
def chromium() -> Path:
    """Debian's Chromium, which `.ci/run` installs when it is missing."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium")
    return CHROMIUM


@pytest.fixture
async def browser(chromium: Path) -> AsyncIterator[Browser]:
    """Debian's Chromium, headless (Playwright downloads no browser of its own)."""
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=chromium,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            yield launched
        finally:
            await launched.close()


async def _replace_text(page: Page, selector: str, text: str) -> None:
    """Type into a CodeMirror editor of the page as a user would, replacing what it holds."""
    await page.click(selector)
    await page.keyboard.press("ControlOrMeta+A")
    await page.keyboard.press("Delete")
    await page.keyboard.insert_text(text)


async def _write_operation(page: Page, name: str, operation: str) -> None:
    """Type an operation into the query editor; return once GraphiQL has parsed it.

    GraphiQL reads the operation's kind (subscription or not) a moment after the last edit;
    the tab shows the operation's name once it has.
    """
    await _replace_text(page, QUERY_EDITOR, operation)
    await expect(page.locator(".graphiql-tab-active")).to_contain_text(name, timeout=TIMEOUT_MS)


async def _run(page: Page, until: str) -> list[str]:
    """Run the query editor's operation; every text the response pane showed, up to `until`."""
    await page.evaluate(RECORD_RESPONSES, RESPONSE)
    await page.click(".graphiql-execute-button")
    await page.wait_for_function(
        "text => window.shown.some(shown => shown.includes(text))", arg=until, timeout=TIMEOUT_MS
    )
    shown: list[str] = await page.evaluate("window.shown")
    return shown


def _events(shown: list[str]) -> list[dict[str, Any]]:
    return [json.loads(text)["data"]["chatStream"] for text in shown]


async def test_graphiql_streams_a_reply_from_this_server_alone(
    server: ServerProcess, browser: Browser
) -> None:
    page = await browser.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.on("websocket", lambda socket: requested.append(socket.url))
    await page.add_init_script(RECORD_VIOLATIONS)
    await page.goto(f"{server.http_url}/graphql", wait_until="networkidle")

    await _write_operation(page, "Register", REGISTER)
    registered = json.loads((await _run(page, "accessToken"))[-1])
    token = registered["data"]["register"]["accessToken"]

    await page.click(".graphiql-editor-tools button[data-name='headers']")
    await _replace_text(page, HEADERS_EDITOR, json.dumps({"Authorization": f"Bearer {token}"}))
    prompt = "Hello from GraphiQL in Debian's Chromium, word by word"
    await _write_operation(page, "Stream", CHAT_STREAM % (uuid.uuid4(), prompt))
    events = _events(await _run(page, "StreamFinished"))

    assert events[0] == {"__typename": "StreamStarted", "seq": 0, "model": "demo"}, events
    deltas = [event for event in events if event["__typename"] == "TextDelta"]
    assert len(deltas) >= 3, events
    seqs = [event["seq"] for event in events]
    assert seqs == sorted(set(seqs)), seqs  # one after another, each shown once
    finished = events[-1]
    assert finished["__typename"] == "StreamFinished", events
    assert finished["message"]["status"] == "COMPLETE"
    reply = finished["message"]["text"]
    assert prompt in reply
    position = 0
    for delta in deltas:  # the shown deltas are pieces of the reply, in its order
        position = reply.index(delta["delta"], position) + len(delta["delta"])

    assert requested, "no request recorded"
    for url in requested:
        parts = urlsplit(url)
        assert parts.scheme == "data" or parts.hostname == "127.0.0.1", url
    assert await page.evaluate("window.violations") == []

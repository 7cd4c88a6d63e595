"""GraphiQL is served whole by this server: no other host, every asset answers, a strict CSP."""

import re
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest

from main import create_app
from src.api.graphiql import STATIC_DIR
from tests.conftest import make_settings

HTML = {"Accept": "text/html"}
CSS_URL = re.compile(r"url\(\s*['\"]?([^'\")]+)")
AppClient = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


class _References(HTMLParser):
    """Collects every URL an HTML page names in src= and href=, with its tag and rel."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name in ("src", "href"):
            if values.get(name):
                self.found.append((tag, values.get("rel") or "", values[name] or ""))


def _references(page: str) -> list[tuple[str, str, str]]:
    parser = _References()
    parser.feed(page)
    return parser.found


@pytest.fixture
def app_client(tmp_path: Path) -> AppClient:
    """A client of a fresh app with the given settings (GraphiQL needs no database)."""

    @asynccontextmanager
    async def open_client(**overrides: object) -> AsyncIterator[httpx.AsyncClient]:
        settings = make_settings(f"sqlite+aiosqlite:///{tmp_path / 'unused.db'}", tmp_path)
        application = create_app(settings.model_copy(update=overrides))
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            yield http

    return open_client


async def test_the_page_names_no_other_host(app_client: AppClient) -> None:
    async with app_client() as http:
        page = await http.get("/graphql", headers=HTML)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert 'id="graphiql"' in page.text
    assert "http://" not in page.text and "https://" not in page.text
    urls = [url for _, _, url in _references(page.text)]
    assert urls, page.text
    for url in urls:
        assert url.startswith("data:") or (url.startswith("/") and not url.startswith("//")), url


async def test_every_asset_the_page_names_answers_with_its_type(app_client: AppClient) -> None:
    async with app_client() as http:
        page = (await http.get("/graphql", headers=HTML)).text
        kinds = {"script": "javascript", "link": "text/css"}
        expected = {
            url: kinds[tag] for tag, _, url in _references(page) if not url.startswith("data:")
        }
        assert sorted(expected.values()) == ["javascript", "text/css"], expected
        answers = {url: await http.get(url) for url in expected}
        stylesheet = next(answer for answer in answers.values() if answer.url.path.endswith("css"))
        in_css = [u for u in CSS_URL.findall(stylesheet.text) if not u.startswith("data:")]
        answers |= {url: await http.get(url) for url in in_css}
    for url, answer in answers.items():
        assert answer.status_code == 200, url
        assert expected.get(url, "") in answer.headers["content-type"], url
        assert "immutable" in answer.headers["cache-control"], url
        assert answer.headers["x-content-type-options"] == "nosniff", url


async def test_the_page_allows_only_its_own_origin_and_no_framing(app_client: AppClient) -> None:
    async with app_client() as http:
        page = await http.get("/graphql", headers=HTML)
    policy = {
        directive.split()[0]: directive.split()[1:]
        for directive in page.headers["content-security-policy"].split(";")
    }
    assert policy["default-src"] == ["'none'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["connect-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    for sources in policy.values():
        assert all(source.startswith("'") or source == "data:" for source in sources), sources
    assert page.headers["x-frame-options"] == "DENY"


async def test_unknown_assets_are_not_found(app_client: AppClient) -> None:
    async with app_client() as http:
        for path in ("/graphiql/nothing.js", "/graphiql/index.html", "/graphiql/..%2Fmain.py"):
            assert (await http.get(path)).status_code == 404, path


async def test_nothing_is_served_when_graphiql_is_off(app_client: AppClient) -> None:
    asset = next(path.name for path in STATIC_DIR.iterdir() if path.suffix == ".js")
    async with app_client(graphiql=False) as http:
        assert (await http.get("/graphql", headers=HTML)).status_code == 404
        assert (await http.get(f"/graphiql/{asset}")).status_code == 404

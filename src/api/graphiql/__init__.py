"""GraphiQL served whole by this server: its page and its assets, nothing from another host.

The files under `static/` are built from pinned npm packages by `graphiql/build.mjs` (run
`cd graphiql && npm ci && npm run build`) and committed, so the server needs no Node.

- `graphiql_page()`: the page for `GET /graphql`, with a Content-Security-Policy that allows
  only this origin and forbids framing (`CONTENT_SECURITY_POLICY`).
- `graphiql_assets`: the router serving the built files under `ASSETS_PATH`, cached for a year
  (their names carry a hash of their content, so a rebuild changes every name).
"""

import mimetypes
from pathlib import Path

from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse, HTMLResponse

STATIC_DIR = Path(__file__).parent / "static"
ASSETS_PATH = "/graphiql"
PAGE_FILE = "index.html"

# Only this origin: `connect-src 'self'` also covers ws:// to this host and port. The stylesheet
# inlines its fonts and icons as data: URLs. The page's libraries (react-remove-scroll,
# CodeMirror) add <style> elements and style attributes while running, so styles also need
# 'unsafe-inline'; scripts stay limited to this origin's files, with no inline code and no eval.
CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    )
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}
ASSET_HEADERS = {
    "Cache-Control": "public, max-age=31536000, immutable",
    "X-Content-Type-Options": "nosniff",
}

_PAGE = (STATIC_DIR / PAGE_FILE).read_text(encoding="utf-8")
_ASSETS = {path.name: path for path in STATIC_DIR.iterdir() if path.name != PAGE_FILE}

graphiql_assets = APIRouter(prefix=ASSETS_PATH, include_in_schema=False)


def graphiql_page() -> HTMLResponse:
    """The GraphiQL page, with its security headers."""
    return HTMLResponse(_PAGE, headers=PAGE_HEADERS)


@graphiql_assets.get("/{name}")
async def graphiql_asset(name: str) -> FileResponse:
    """One built file of the page (404 for any other name)."""
    path = _ASSETS.get(name)
    if path is None:
        raise HTTPException(status_code=404)
    media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return FileResponse(path, media_type=media_type, headers=ASSET_HEADERS)

"""Response headers that keep browsers and caches from misusing answers (plain ASGI middleware).

`SecurityHeadersMiddleware` adds to every HTTP response:
- `X-Content-Type-Options: nosniff`: a browser never reads a JSON answer as HTML or script.

and to every answer of the GraphQL endpoint a cache policy:
- `Cache-Control: no-store` for every POST (the token answers of register, login, refresh and
  loginAsGuest among them) and for every GET that carries an Authorization header: nothing
  tied to a user or a token is kept by a browser or a proxy.
- `Cache-Control: no-cache` for a GET without Authorization (a query by an anonymous client):
  its answer holds public data only, which a cache may keep, but public data can turn private
  or be deleted, so a cache must ask the server again before each reuse.
- `Vary: Accept, Authorization` on GET answers: the media type follows Accept, and a cached
  anonymous answer is never reused for a request with a token.
WebSockets pass through untouched.
"""

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

NO_STORE = "no-store"
REVALIDATE = "no-cache"


def cache_policy(method: str, authorized: bool) -> str:
    """The Cache-Control of a GraphQL answer, by request method and whether a token came."""
    return REVALIDATE if method == "GET" and not authorized else NO_STORE


class SecurityHeadersMiddleware:
    """Adds `nosniff` to every HTTP response and a cache policy to GraphQL answers."""

    def __init__(self, app: ASGIApp, graphql_path: str = "/graphql") -> None:
        self.app = app
        self.graphql_path = graphql_path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one request, adding the headers to its response."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = {"X-Content-Type-Options": "nosniff"}
        if scope["path"] == self.graphql_path:
            authorized = any(name == b"authorization" for name, _ in scope["headers"])
            extra["Cache-Control"] = cache_policy(scope["method"], authorized)
            if scope["method"] == "GET":
                extra["Vary"] = "Accept, Authorization"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                headers = MutableHeaders(scope=message)
                for name, value in extra.items():
                    headers.setdefault(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)

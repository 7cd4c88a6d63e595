"""The HTTP client of the OpenAI-compatible provider, hardened against a misbehaving server.

Offers:
- bounded_http_client: an `httpx2.AsyncClient` (the `openai` SDK's HTTP library) that follows
  no redirects and refuses any response line longer than a limit.
- ResponseLineTooLong: raised while reading such a line (a ValueError).

The SDK buffers a Server-Sent Events line whole before parsing it, so without a line limit one
endless line would exhaust memory; the limit on the reply's total size is the provider's job.
"""

from collections.abc import AsyncIterator
from typing import cast

import httpx2
from openai import DefaultAsyncHttpxClient


class ResponseLineTooLong(ValueError):
    """A response line went past the limit."""


class _BoundedLines(httpx2.AsyncByteStream):
    """A response body that raises ResponseLineTooLong once a line passes `max_line_bytes`."""

    def __init__(self, stream: httpx2.AsyncByteStream, max_line_bytes: int) -> None:
        self._stream = stream
        self._max_line_bytes = max_line_bytes

    async def __aiter__(self) -> AsyncIterator[bytes]:
        line = 0
        async for part in self._stream:
            newline = part.rfind(b"\n")
            line = len(part) - newline - 1 if newline >= 0 else line + len(part)
            if line > self._max_line_bytes:
                raise ResponseLineTooLong(f"a response line is over {self._max_line_bytes} bytes")
            yield part

    async def aclose(self) -> None:
        await self._stream.aclose()


class _BoundedTransport(httpx2.AsyncBaseTransport):
    """The default transport, with every response body wrapped in `_BoundedLines`."""

    def __init__(self, max_line_bytes: int) -> None:
        self._inner = httpx2.AsyncHTTPTransport()
        self._max_line_bytes = max_line_bytes

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        response = await self._inner.handle_async_request(request)
        body = cast(httpx2.AsyncByteStream, response.stream)  # always async on this transport
        response.stream = _BoundedLines(body, self._max_line_bytes)
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


def bounded_http_client(max_line_bytes: int) -> httpx2.AsyncClient:
    """An HTTP client for the SDK: its defaults, no redirects, lines of at most that size.

    Args:
        max_line_bytes: The longest response line accepted.
    """
    return DefaultAsyncHttpxClient(
        follow_redirects=False, transport=_BoundedTransport(max_line_bytes)
    )

"""A real HTTP server on 127.0.0.1 that speaks streaming Chat Completions, scripted per test.

Each request takes the next scripted `Reply` (a 500 when none is left) and is recorded. A 200
reply streams Server-Sent Events (`data: {...}`, then `data: [DONE]`) in a chunked body, so a
reply cut short (`cut_after`) is a broken connection to the client, not a clean end.
"""

import asyncio
import contextlib
import json
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Reply:
    """What the server answers to one request."""

    status: int = 200
    events: list[dict[str, Any] | str] = field(default_factory=list)
    done: bool = True
    headers: dict[str, str] = field(default_factory=dict)
    body: dict[str, Any] | None = None
    cut_after: int | None = None
    stall: float = 0.0


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    json: dict[str, Any]


def chunk(
    content: str | None = None,
    *,
    tool_calls: list[dict[str, Any]] | None = None,
    finish_reason: str | None = None,
) -> dict[str, Any]:
    """A `chat.completion.chunk` with one choice."""
    delta: dict[str, Any] = {}
    if content is not None:
        delta["content"] = content
    if tool_calls is not None:
        delta["tool_calls"] = tool_calls
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "test-model",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
    }


def usage_chunk(prompt: int, completion: int) -> dict[str, Any]:
    """The final chunk of `stream_options.include_usage`: no choices, the usage."""
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "test-model",
        "choices": [],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        },
    }


def call_piece(
    index: int, *, id: str | None = None, name: str | None = None, arguments: str = ""
) -> dict[str, Any]:
    """One piece of a streamed tool call."""
    function: dict[str, Any] = {"arguments": arguments}
    if name is not None:
        function["name"] = name
    piece: dict[str, Any] = {"index": index, "function": function}
    if id is not None:
        piece |= {"id": id, "type": "function"}
    return piece


def text_reply(*texts: str, prompt: int = 7) -> Reply:
    """A plain text reply ending with `stop` and usage."""
    events: list[dict[str, Any] | str] = [chunk(text) for text in texts]
    events += [chunk(finish_reason="stop"), usage_chunk(prompt, len(texts))]
    return Reply(events=events)


def tool_reply(*calls: tuple[str, str, str]) -> Reply:
    """A reply asking for tool calls `(id, name, arguments)`, each split in three pieces."""
    events: list[dict[str, Any] | str] = []
    for index, (call_id, name, arguments) in enumerate(calls):
        third = max(len(arguments) // 3, 1)
        pieces = [arguments[:third], arguments[third : 2 * third], arguments[2 * third :]]
        events.append(chunk(tool_calls=[call_piece(index, id=call_id, name=name)]))
        events += [chunk(tool_calls=[call_piece(index, arguments=p)]) for p in pieces]
    events += [chunk(finish_reason="tool_calls"), usage_chunk(11, 5)]
    return Reply(events=events)


class ChatServer:
    """The scripted server; `replies` is consumed in order, `requests` records what came."""

    def __init__(self) -> None:
        self.replies: list[Reply] = []
        self.requests: list[Recorded] = []
        self._server: asyncio.Server | None = None
        self._handlers: set[asyncio.Task[None]] = set()

    @property
    def base_url(self) -> str:
        assert self._server is not None
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/v1"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._handlers):
            task.cancel()
        await asyncio.gather(*self._handlers, return_exceptions=True)
        await self._server.wait_closed()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            await self._serve(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            self._handlers.discard(task)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode()
        request_line, *header_lines = head.strip().split("\r\n")
        headers = {
            name.strip().lower(): value.strip()
            for name, value in (line.split(":", 1) for line in header_lines)
        }
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        path = request_line.split(" ")[1]
        self.requests.append(Recorded(path, headers, json.loads(body or b"{}")))
        reply = self.replies.pop(0) if self.replies else Reply(status=500, body={"error": {}})
        if reply.status != 200:
            await self._send_error(writer, reply)
            return
        writer.write(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
            b"transfer-encoding: chunked\r\nconnection: close\r\n\r\n"
        )
        await writer.drain()
        await asyncio.sleep(reply.stall)
        events = [*reply.events, "[DONE]"] if reply.done else reply.events
        for number, event in enumerate(events):
            if number == reply.cut_after:
                return
            data = event if isinstance(event, str) else json.dumps(event)
            payload = f"data: {data}\n\n".encode()
            writer.write(f"{len(payload):x}\r\n".encode() + payload + b"\r\n")
            await writer.drain()
        writer.write(b"0\r\n\r\n")
        await writer.drain()

    async def _send_error(self, writer: asyncio.StreamWriter, reply: Reply) -> None:
        body = json.dumps(reply.body or {"error": {"message": "error"}}).encode()
        headers = {"content-type": "application/json", "content-length": str(len(body))}
        headers |= {"connection": "close"} | reply.headers
        head = f"HTTP/1.1 {reply.status} Status\r\n" + "".join(
            f"{name}: {value}\r\n" for name, value in headers.items()
        )
        writer.write(head.encode() + b"\r\n" + body)
        await writer.drain()

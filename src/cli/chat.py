"""`chat`: the terminal client; rich renders what src/cli/chat_client.py receives.

Offers:
- Credentials: how to sign in (email and password, or None for a new guest).
- ask_credentials: prompt for them on the terminal.
- run_chat: the session: sign in, pick or create a chat, then send messages and watch the
  replies stream; Ctrl-C during a reply stops it on the server (twice: leave at once).
"""

import asyncio
import json
import signal
import sys
import threading
import uuid
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape

from src.cli.chat_client import ChatClient, ChatSummary, Reply
from src.cli.chat_events import Delta, Event, Failed, Finished, ToolCall, ToolResult
from src.cli.transport import ApiError

QUIT = "/quit"
HISTORY_MESSAGES = 6  # messages of a picked chat shown before the prompt
TOOL_RESULT_CHARS = 100  # of a tool's result shown (the model sees all of it)


@dataclass(frozen=True, slots=True)
class Credentials:
    """An email and its password."""

    email: str
    password: str


def ask_credentials(email: str | None, guest: bool) -> Credentials | None:
    """Prompt for what is missing: None means a new guest."""
    if guest:
        return None
    if email is None:
        email = typer.prompt("Email (empty: start as a guest)", default="", show_default=False)
        if not email:
            return None
    return Credentials(email, typer.prompt("Password", hide_input=True))


async def _read_line(console: Console, prompt: str) -> str | None:
    """A line of standard input (None at its end), read by a daemon thread.

    A daemon thread, so that Ctrl-C at a prompt leaves at once rather than waiting for input.
    """
    console.print(prompt, end="", style="bold cyan")
    loop = asyncio.get_running_loop()
    answer: asyncio.Future[str] = loop.create_future()

    def deliver(line: str) -> None:
        if not answer.done():
            answer.set_result(line)

    def read() -> None:
        line = sys.stdin.readline()
        with suppress(RuntimeError):  # the session ended meanwhile
            loop.call_soon_threadsafe(deliver, line)

    threading.Thread(target=read, daemon=True).start()
    line = await answer
    if line and not sys.stdin.isatty():
        console.print(line.rstrip("\n"), markup=False, highlight=False, soft_wrap=True)
    return line.rstrip("\n") if line else None


def _summary(chat: ChatSummary) -> str:
    return f"{escape(chat.title)} [dim]({chat.message_count} messages)[/dim]"


async def _pick_chat(client: ChatClient, console: Console) -> str | None:
    """A chat id: an existing chat chosen by number, or a new id (None at end of input)."""
    chats = await client.chats()
    if not chats:
        return str(uuid.uuid4())
    for number, chat in enumerate(chats, 1):
        console.print(f"  {number}. {_summary(chat)}")
    while True:
        answer = await _read_line(console, "Chat number (empty: a new chat): ")
        if answer is None:
            return None
        if not answer.strip():
            return str(uuid.uuid4())
        if answer.strip().isdigit() and 1 <= int(answer) <= len(chats):
            chat = chats[int(answer) - 1]
            for message in await client.thread(chat.id, HISTORY_MESSAGES):
                role = "you" if message.role == "USER" else "assistant"
                status = "" if message.status == "COMPLETE" else f" ({message.status.lower()})"
                line = f"[dim]{role}{status}: {escape(message.text)}[/dim]"
                console.print(line, soft_wrap=True)
            return chat.id
        console.print(f"[red]Enter a number from 1 to {len(chats)}, or nothing.[/red]")


class _Renderer:
    """Prints the events of one reply; text after a tool's lines starts on a fresh line."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.line_start = False  # the cursor is at the start of a line, after tool lines

    def __call__(self, event: Event) -> None:
        """Print one event."""
        console = self.console
        if isinstance(event, Delta):
            text = event.text.lstrip("\n") if self.line_start else event.text
            self.line_start = self.line_start and not text
            console.print(text, end="", markup=False, highlight=False, soft_wrap=True)
        elif isinstance(event, ToolCall):
            arguments = escape(json.dumps(event.arguments, ensure_ascii=False))
            console.print(f"\n[dim]-> {escape(event.name)}({arguments})[/dim]", soft_wrap=True)
            self.line_start = True
        elif isinstance(event, ToolResult):
            style = "red" if event.is_error else "dim"
            result = json.dumps(event.result, ensure_ascii=False)
            if len(result) > TOOL_RESULT_CHARS:
                result = result[:TOOL_RESULT_CHARS] + "..."
            console.print(f"[{style}]<- {escape(result)}[/{style}]", soft_wrap=True)
        elif isinstance(event, Finished):
            tokens = f", {event.output_tokens} tokens" if event.output_tokens is not None else ""
            console.print(f"\n[dim]({event.finish_reason.lower()}{tokens})[/dim]")
        elif isinstance(event, Failed):
            console.print(f"\n[red]{escape(event.code)}: {escape(event.message)}[/red]")


class _Interrupts:
    """Ctrl-C while a reply streams: the first stops the generation, the second leaves."""

    def __init__(self, reply: Reply, console: Console) -> None:
        self.reply = reply
        self.console = console
        self.task = asyncio.current_task()
        self.stopping: asyncio.Task[bool] | None = None

    def __enter__(self) -> None:
        asyncio.get_running_loop().add_signal_handler(signal.SIGINT, self._interrupt)

    def __exit__(self, *_: Any) -> None:
        asyncio.get_running_loop().remove_signal_handler(signal.SIGINT)

    def _interrupt(self) -> None:
        if self.stopping is None:
            self.console.print("\n[yellow]stopping...[/yellow]")
            self.stopping = asyncio.create_task(self.reply.stop())
        elif self.task is not None:
            self.task.cancel()


async def _stream(client: ChatClient, console: Console, chat_id: str, text: str) -> None:
    """Send a message and print the reply as it arrives."""
    reply = client.reply(chat_id, text)
    console.print("assistant> ", end="", style="bold green")
    interrupts = _Interrupts(reply, console)
    render = _Renderer(console)
    with interrupts:
        async for event in reply.events():
            render(event)
    if interrupts.stopping is not None:
        await interrupts.stopping


async def run_chat(url: str, credentials: Credentials | None, console: Console) -> None:
    """The chat session, until the end of input or `/quit`.

    Raises:
        ApiError: Signing in failed.
    """
    async with ChatClient(url) as client:
        if credentials is None:
            await client.login_as_guest()
            console.print("Signed in as a new guest.")
        else:
            await client.login(credentials.email, credentials.password)
            console.print(f"Signed in as {escape(credentials.email)}.")
        chat_id = await _pick_chat(client, console)
        if chat_id is None:
            return
        console.print(f"[dim]Chat {chat_id}: {QUIT} or end of input leaves.[/dim]")
        while True:
            text = await _read_line(console, "you> ")
            if text is None or text == QUIT:
                console.print()
                return
            if not text.strip():
                continue
            try:
                await _stream(client, console, chat_id, text)
            except ApiError as error:
                console.print(f"\n[red]{escape(error.code)}: {escape(error.message)}[/red]")

"""The terminal chat against a real server process (`main.py` with no command: it serves).

The protocol class (ChatClient, Reply) is driven directly for the guest sign-in, a streamed
reply, a resume after the client's socket drops mid-reply, and a stop; the `chat` command runs
as a process with its standard input for a whole session and for Ctrl-C.
"""

import asyncio
import os
import signal
import sys
import uuid
from collections.abc import AsyncIterator

import pytest

from src.cli.chat_client import ChatClient, Reply
from src.cli.chat_events import Delta, Event, Finished, Started
from src.cli.transport import ApiError
from tests.cli.commands import environment
from tests.processes import ROOT, ServerProcess, free_port, server_process

LONG = "tell me everything " * 60  # the demo model quotes it: a reply of some 80 tokens


@pytest.fixture(scope="module")
async def server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[ServerProcess]:
    """One server on a fresh SQLite database, its demo model writing a token per 20 ms."""
    folder = tmp_path_factory.mktemp("chat")
    env = environment(f"sqlite+aiosqlite:///{folder / 'chat.db'}", folder)
    env["DEMO_TOKEN_DELAY_SECONDS"] = "0.02"
    async with server_process(env, folder / "server.log") as process:
        yield process


@pytest.fixture(scope="module")
async def long_reply(server: ServerProcess) -> str:
    """The whole text of the demo model's reply to LONG, streamed without a drop."""
    async with ChatClient(server.http_url) as client:
        await client.login_as_guest()
        reply = client.reply(str(uuid.uuid4()), LONG)
        async for _ in reply.events():
            pass
    return reply.text


@pytest.fixture
async def guest(server: ServerProcess) -> AsyncIterator[ChatClient]:
    """A client signed in as a new guest."""
    async with ChatClient(server.http_url) as client:
        await client.login_as_guest()
        yield client


async def _events_until(reply: Reply, deltas: int) -> list[Event]:
    """The reply's events up to its `deltas`-th Delta (the reply goes on)."""
    events: list[Event] = []
    async for event in reply.events():
        events.append(event)
        if sum(isinstance(e, Delta) for e in events) == deltas:
            return events
    raise AssertionError("the reply ended early")


async def _rest(reply: Reply) -> list[Event]:
    return [event async for event in reply.events()]


def _seqs(events: list[Event]) -> list[int]:
    return [event.seq for event in events]


async def test_a_guest_sends_a_message_and_receives_the_streamed_reply(guest: ChatClient) -> None:
    assert guest.account is not None and guest.account.user_type == "GUEST"
    chat_id = str(uuid.uuid4())
    reply = guest.reply(chat_id, "Hello there")

    events = await _rest(reply)

    assert isinstance(events[0], Started)
    assert sum(isinstance(event, Delta) for event in events) > 3
    finished = events[-1]
    assert isinstance(finished, Finished)
    assert (finished.status, finished.finish_reason) == ("COMPLETE", "STOP")
    assert "Hello there" in reply.text
    assert reply.text == finished.text
    thread = await guest.thread(chat_id)
    assert [(m.role, m.text) for m in thread] == [
        ("USER", "Hello there"),
        ("ASSISTANT", reply.text),
    ]
    assert [chat.id for chat in await guest.chats()] == [chat_id]


@pytest.mark.parametrize("drop", ["close", "abort"])
async def test_a_dropped_socket_resumes_without_losing_or_repeating_text(
    guest: ChatClient, long_reply: str, drop: str
) -> None:
    chat_id = str(uuid.uuid4())
    reply = guest.reply(chat_id, LONG)
    before = await _events_until(reply, deltas=5)
    connection = guest.connection
    assert connection is not None
    if drop == "close":
        await connection.close()
    else:
        connection.transport.abort()  # as a network failure: no closing handshake

    after = await _rest(reply)

    assert reply.reconnects == 1
    assert any(isinstance(event, Delta) for event in after)  # the drop came mid-reply
    seqs = _seqs(before + after)
    assert seqs == sorted(set(seqs))  # every event once, in order
    finished = after[-1]
    assert isinstance(finished, Finished) and finished.status == "COMPLETE"
    streamed = "".join(e.text for e in before + after if isinstance(e, Delta))
    saved = (await guest.thread(chat_id))[-1]
    assert streamed == reply.text == finished.text == saved.text == long_reply


async def test_stop_ends_the_reply_on_the_server_and_keeps_its_text(
    guest: ChatClient, long_reply: str
) -> None:
    chat_id = str(uuid.uuid4())
    reply = guest.reply(chat_id, LONG)
    await _events_until(reply, deltas=3)

    assert await reply.stop() is True
    after = await _rest(reply)

    finished = after[-1]
    assert isinstance(finished, Finished)
    assert (finished.finish_reason, finished.status) == ("CANCELLED", "INTERRUPTED")
    saved = (await guest.thread(chat_id))[-1]
    assert (saved.status, saved.text) == ("INTERRUPTED", reply.text)
    assert long_reply.startswith(saved.text) and len(saved.text) < len(long_reply)


async def test_a_server_that_does_not_answer_is_a_clear_error() -> None:
    async with ChatClient(f"http://127.0.0.1:{free_port()}") as client:
        with pytest.raises(ApiError) as raised:
            await client.login_as_guest()

    assert raised.value.code == "UNREACHABLE"
    assert "does not answer" in raised.value.message


async def _chat_process(server: ServerProcess) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "main.py",
        "chat",
        "--url",
        server.http_url,
        "--guest",
        cwd=ROOT,
        env={**os.environ, "COLUMNS": "200"},
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )


async def test_the_chat_command_streams_replies_to_what_it_reads(server: ServerProcess) -> None:
    process = await _chat_process(server)
    output, _ = await asyncio.wait_for(process.communicate(b"Hello there\nAnd again\n"), 60)

    text = output.decode()
    assert process.returncode == 0, text
    assert text.startswith("Signed in as a new guest.\n")
    assert text.count("assistant> This is the demo model") == 2
    assert 'You said: "Hello there"' in text and 'You said: "And again"' in text
    assert text.count("(stop, ") == 2


async def test_ctrl_c_in_the_chat_command_stops_the_reply(server: ServerProcess) -> None:
    process = await _chat_process(server)
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write(f"{LONG}\n".encode())
    await process.stdin.drain()
    seen = await asyncio.wait_for(process.stdout.readuntil(b"This is the demo model"), 60)

    process.send_signal(signal.SIGINT)
    process.stdin.close()
    rest, _ = await asyncio.wait_for(process.communicate(), 60)

    text = (seen + rest).decode()
    assert process.returncode == 0, text
    assert "stopping..." in text
    assert "\n(cancelled)\n" in text

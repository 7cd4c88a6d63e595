"""A live client: follow every change to a user's chats with one `userEvents` subscription.

Usage (with the server running, `uv run main.py`):
    uv run python examples/live_client.py demo [--url http://127.0.0.1:8000/graphql]
    uv run python examples/live_client.py watch --token <access token> [--url ...]

`demo` signs in as a new guest and opens two sockets with that one token, as two devices
would: the phone follows `userEvents` while the laptop creates a chat by streaming a reply,
renames the chat and deletes it; every line the phone prints came from the server.
`watch` follows the events of an existing account until interrupted.

It speaks graphql-transport-ws with the `websockets` package. The parts, each small:
- `Device`: one socket, signed in; `start` an operation, read its `results`, `run` one to its
  end (a query or a mutation).
- `EVENT_LINES`: how each kind of event is shown (one function per `__typename`); `show`.
- `follow`: print a device's events until a condition holds.
- `demo` / `watch`: the two commands.
"""

import argparse
import asyncio
import json
import urllib.request
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection
from websockets.typing import Subprotocol

USER_EVENTS = """
subscription Live {
  userEvents {
    __typename
    ... on ChatCreated { chat { id title } }
    ... on ChatUpdated { chat { id title visibility messageCount } }
    ... on ChatDeleted { chatId }
    ... on GenerationStarted { chatId generation { messageId model } }
    ... on GenerationEnded { chatId messageId status finishReason }
  }
}
"""
CHAT_STREAM = """
subscription Stream($input: ChatStreamInput!) {
  chatStream(input: $input) { __typename ... on StreamFinished { message { text } } }
}
"""
RENAME = """
mutation Rename($id: ID!, $title: String!) { updateChat(id: $id, input: {title: $title}) { id } }
"""
DELETE = "mutation Delete($id: ID!) { deleteChat(id: $id) }"
SUBSCRIPTION_SETTLES_SECONDS = 0.5
"""The protocol does not acknowledge a subscription: the demo gives the server this long."""

Event = dict[str, Any]


def guest_token(url: str) -> str:
    """Sign in as a new guest over HTTP and return the access token."""
    body = json.dumps({"query": "mutation { loginAsGuest { accessToken } }"}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request) as response:
        token: str = json.load(response)["data"]["loginAsGuest"]["accessToken"]
        return token


class Device:
    """One signed-in socket; read one operation at a time from it (`results` or `run`)."""

    def __init__(self, name: str, connection: ClientConnection) -> None:
        self.name = name
        self.connection = connection
        self._next_id = 0

    @classmethod
    async def connect(cls, name: str, url: str, token: str) -> "Device":
        """Open a socket to the server and sign it in with the token."""
        connection = await websockets.connect(
            url.replace("http", "ws", 1), subprotocols=[Subprotocol("graphql-transport-ws")]
        )
        init = {"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}
        await connection.send(json.dumps(init))
        assert json.loads(await connection.recv())["type"] == "connection_ack"
        return cls(name, connection)

    async def start(self, query: str, variables: dict[str, Any] | None = None) -> str:
        """Start an operation; returns its id."""
        self._next_id += 1
        op_id = str(self._next_id)
        payload = {"query": query, "variables": variables or {}}
        await self.connection.send(
            json.dumps({"id": op_id, "type": "subscribe", "payload": payload})
        )
        return op_id

    async def results(self, op_id: str) -> AsyncIterator[dict[str, Any]]:
        """The data of each result of an operation, until the server completes it."""
        while True:
            message = json.loads(await self.connection.recv())
            if message.get("id") != op_id or message["type"] == "ping":
                continue
            if message["type"] == "complete":
                return
            if message["type"] == "error" or message["payload"].get("errors"):
                raise RuntimeError(f"{self.name}: {message['payload']}")
            yield message["payload"]["data"]

    async def run(self, query: str, variables: dict[str, Any] | None = None) -> list[Any]:
        """Run an operation to its end; returns the data of its results."""
        return [data async for data in self.results(await self.start(query, variables))]

    async def close(self) -> None:
        """Close the socket."""
        await self.connection.close()


EVENT_LINES: dict[str, Callable[[Event], str]] = {
    "ChatCreated": lambda e: f"chat {e['chat']['id'][:8]} created: {e['chat']['title']!r}",
    "ChatUpdated": lambda e: (
        f"chat {e['chat']['id'][:8]} updated: {e['chat']['title']!r}, "
        f"{e['chat']['visibility']}, {e['chat']['messageCount']} messages"
    ),
    "ChatDeleted": lambda e: f"chat {e['chatId'][:8]} deleted",
    "GenerationStarted": lambda e: (
        f"chat {e['chatId'][:8]}: reply {e['generation']['messageId'][:8]} started "
        f"({e['generation']['model']})"
    ),
    "GenerationEnded": lambda e: (
        f"chat {e['chatId'][:8]}: reply {e['messageId'][:8]} ended {e['status']} "
        f"({e['finishReason']})"
    ),
}


def show(device: str, event: Event) -> None:
    """Print one event as a device received it."""
    describe = EVENT_LINES.get(event["__typename"])
    line = describe(event) if describe else json.dumps(event)
    print(f"{device} <- {event['__typename']:<17} {line}", flush=True)


async def follow(device: Device, until: Callable[[Event], bool]) -> None:
    """Print the device's user events until one satisfies `until`."""
    async for data in device.results(await device.start(USER_EVENTS)):
        show(device.name, data["userEvents"])
        if until(data["userEvents"]):
            return


async def demo(url: str) -> None:
    """Two devices of one guest: the phone follows what the laptop does."""
    token = guest_token(url)
    phone, laptop = (
        await Device.connect("phone", url, token),
        await Device.connect("laptop", url, token),
    )
    chat_id = str(uuid.uuid4())
    watching = asyncio.create_task(
        follow(phone, lambda e: e["__typename"] == "ChatDeleted" and e["chatId"] == chat_id)
    )
    await asyncio.sleep(SUBSCRIPTION_SETTLES_SECONDS)
    question = "Plan a weekend in Lisbon with a tram ride and pastries"
    print(f"laptop -> chatStream in a new chat: {question!r}", flush=True)
    await laptop.run(
        CHAT_STREAM, {"input": {"chatId": chat_id, "message": {"parts": [{"text": question}]}}}
    )
    await asyncio.sleep(SUBSCRIPTION_SETTLES_SECONDS)  # let the model's title arrive first
    print("laptop -> updateChat title 'Lisbon weekend'", flush=True)
    await laptop.run(RENAME, {"id": chat_id, "title": "Lisbon weekend"})
    print("laptop -> deleteChat", flush=True)
    await laptop.run(DELETE, {"id": chat_id})
    await watching
    await phone.close()
    await laptop.close()


async def watch(url: str, token: str) -> None:
    """Print an account's user events until interrupted."""
    device = await Device.connect("device", url, token)
    try:
        await follow(device, lambda _: False)
    finally:
        await device.close()


def main() -> None:
    """Parse the arguments and run the command."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["demo", "watch"])
    parser.add_argument("--url", default="http://127.0.0.1:8000/graphql")
    parser.add_argument("--token", help="an access token (watch)")
    args = parser.parse_args()
    if args.command == "demo":
        asyncio.run(demo(args.url))
    elif args.token:
        asyncio.run(watch(args.url, args.token))
    else:
        parser.error("watch needs --token")


if __name__ == "__main__":
    main()

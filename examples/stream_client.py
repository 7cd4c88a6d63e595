"""A minimal Python client: sign in as a guest, stream a reply, print tokens as they arrive.

Usage (with the server running, `uv run main.py`):
    uv run python examples/stream_client.py "What is 6*7?" [--url http://127.0.0.1:8000/graphql]

It speaks graphql-transport-ws with the `websockets` package: connection_init carries
{"authorization": "Bearer <token>"}; a `subscribe` runs chatStream; `next` messages carry the
events; `complete` ends the reply.
"""

import argparse
import asyncio
import json
import urllib.request
import uuid

import websockets

STREAM = """
subscription Stream($input: ChatStreamInput!) {
  chatStream(input: $input) {
    __typename
    ... on StreamStarted { seq model assistantMessageId }
    ... on TextDelta { seq delta }
    ... on ToolCallEvent { seq toolName arguments }
    ... on ToolResultEvent { seq result isError }
    ... on StreamFinished {
      seq finishReason usage { inputTokens outputTokens } message { id status }
    }
    ... on StreamFailed { seq code errorMessage }
  }
}
"""


def guest_token(url: str) -> str:
    """Sign in as a new guest over HTTP and return the access token."""
    body = json.dumps({"query": "mutation { loginAsGuest { accessToken } }"}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request) as response:
        token: str = json.load(response)["data"]["loginAsGuest"]["accessToken"]
        return token


async def stream(url: str, token: str, text: str) -> None:
    """Stream one reply to a new chat and print it as it arrives."""
    ws_url = url.replace("http", "ws", 1)
    async with websockets.connect(ws_url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        await ws.send(
            json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}})
        )
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        variables = {"input": {"chatId": str(uuid.uuid4()), "message": {"parts": [{"text": text}]}}}
        await ws.send(
            json.dumps(
                {
                    "id": "1",
                    "type": "subscribe",
                    "payload": {"query": STREAM, "variables": variables},
                }
            )
        )
        while (message := json.loads(await ws.recv()))["type"] != "complete":
            event = message["payload"]["data"]["chatStream"]
            if event["__typename"] == "TextDelta":
                print(event["delta"], end="", flush=True)
            else:
                print(f"\n[{event['seq']}] {json.dumps(event)}", flush=True)


def main() -> None:
    """Parse the arguments and stream."""
    parser = argparse.ArgumentParser()
    parser.add_argument("text")
    parser.add_argument("--url", default="http://127.0.0.1:8000/graphql")
    args = parser.parse_args()
    asyncio.run(stream(args.url, guest_token(args.url), args.text))


if __name__ == "__main__":
    main()

"""Tool approval from Python: start a reply whose tool call waits, show the request, decide.

Usage (with the server running, `uv run main.py`):
    uv run python examples/approve_tool.py ["What is 6 * 7?"] [--decline REASON]
        [--url http://127.0.0.1:8000/graphql]

It signs in as a guest and streams a reply over graphql-transport-ws (with the `websockets`
package) with `chatModelConfig.approvalRequiredTools: ["calculator"]`, so the calculator call
waits. On `ToolApprovalRequested` it prints the request and sends `decideToolCall` over HTTP:
approve, or decline with the reason given. The reply then goes on to its end.
"""

import argparse
import asyncio
import json
import urllib.request
import uuid
from typing import Any

import websockets

STREAM = """
subscription Stream($input: ChatStreamInput!) {
  chatStream(input: $input) {
    __typename
    ... on StreamStarted { seq model assistantMessageId }
    ... on TextDelta { seq delta }
    ... on ToolCallEvent { seq toolCallId toolName arguments }
    ... on ToolApprovalRequested { seq toolCallId toolName arguments }
    ... on ToolResultEvent { seq toolCallId result isError }
    ... on StreamFinished {
      seq finishReason
      message { status parts { __typename ... on ToolCallPart { toolCallId toolName state } } }
    }
    ... on StreamFailed { seq code errorMessage }
  }
}
"""
DECIDE = """
mutation Decide($chatId: ID!, $toolCallId: String!, $approve: Boolean!, $reason: String) {
  decideToolCall(chatId: $chatId, toolCallId: $toolCallId, approve: $approve, reason: $reason)
}
"""


def graphql(url: str, query: str, variables: dict[str, Any], token: str | None = None) -> Any:
    """Run one query or mutation over HTTP; its data."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    body = json.dumps({"query": query, "variables": variables}).encode()
    with urllib.request.urlopen(urllib.request.Request(url, body, headers)) as response:
        answer = json.load(response)
    if answer.get("errors"):
        raise RuntimeError(answer["errors"])
    return answer["data"]


async def run(url: str, text: str, decline: str | None) -> None:
    """Stream a reply that needs approval, and decide on its tool call when asked."""
    token = graphql(url, "mutation { loginAsGuest { accessToken } }", {})["loginAsGuest"][
        "accessToken"
    ]
    chat_id = str(uuid.uuid4())
    stream_input = {
        "chatId": chat_id,
        "message": {"parts": [{"text": text}]},
        "chatModelConfig": {"approvalRequiredTools": ["calculator"]},
    }
    ws_url = url.replace("http", "ws", 1)
    async with websockets.connect(ws_url, subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        init = {"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}
        await ws.send(json.dumps(init))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        payload = {"query": STREAM, "variables": {"input": stream_input}}
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
        while (message := json.loads(await ws.recv()))["type"] != "complete":
            if message["type"] == "error" or message["payload"].get("errors"):
                raise RuntimeError(message["payload"])
            event = message["payload"]["data"]["chatStream"]
            if event["__typename"] == "TextDelta":
                print(event["delta"], end="", flush=True)
                continue
            print(f"\n[{event['seq']}] {json.dumps(event)}", flush=True)
            if event["__typename"] == "ToolApprovalRequested":
                decision = {
                    "chatId": chat_id,
                    "toolCallId": event["toolCallId"],
                    "approve": decline is None,
                    "reason": decline,
                }
                print(f"--> decideToolCall {json.dumps(decision)}")
                data = await asyncio.to_thread(graphql, url, DECIDE, decision, token)
                print(f"<-- {json.dumps(data)}")


def main() -> None:
    """Parse the arguments and run."""
    parser = argparse.ArgumentParser()
    parser.add_argument("text", nargs="?", default="What is 6 * 7?")
    parser.add_argument("--decline", metavar="REASON", help="decline instead of approving")
    parser.add_argument("--url", default="http://127.0.0.1:8000/graphql")
    args = parser.parse_args()
    asyncio.run(run(args.url, args.text, args.decline))


if __name__ == "__main__":
    main()

"""The legacy graphql-ws protocol (subscriptions-transport-ws), with malformed starts refused.

`LegacyGraphQLWSHandler` closes the socket with 4400 when a `start` message lacks a string
`id` or a payload object with a string `query` (Strawberry would raise and drop the socket
without a close frame). Queries and mutations sent with `start` are answered: the schema's
`subscribe` runs every kind of operation.
"""

from typing import Any

from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.subscriptions.protocols.graphql_ws.types import StartMessage

from src.api.context import Context

INVALID_START = "Invalid start message"


def _is_valid_start(message: Any) -> bool:
    payload = message.get("payload")
    return (
        isinstance(message.get("id"), str)
        and isinstance(payload, dict)
        and isinstance(payload.get("query"), str)
        and isinstance(payload.get("variables"), dict | None)
        and isinstance(payload.get("operationName"), str | None)
    )


class LegacyGraphQLWSHandler(BaseGraphQLWSHandler[Context, None]):
    """Strawberry's graphql-ws handler, closing with 4400 on a malformed `start`."""

    async def handle_start(self, message: StartMessage) -> None:
        """Start an operation, or close the socket if the message is malformed."""
        if not _is_valid_start(message):
            await self.websocket.close(code=4400, reason=INVALID_START)
            return
        await super().handle_start(message)

"""User events: what changed in a user's chats, for every device of that user.

A user's events carry ids only (no tokens, no titles): a subscriber reads the current state of
what they name when it delivers them, so an event about a chat deleted meanwhile costs nothing.
There is no replay: a device that (re)subscribes reads its chat list, then follows the events.

Offers:
- `ChatCreated`, `ChatUpdated`, `ChatDeleted`, `GenerationStarted`, `GenerationEnded` and
  their union `UserEvent`.
- `encode_user_event(event)` / `decode_user_event(data)`: JSON with a type tag, for Redis.
- `UserEventBroker`: the interface (publish, subscribe), with `announce` (publish, logging
  instead of failing when the broker does not answer: the change itself is already saved).
  Implementations: `memory.InMemoryUserEvents`, `redis_user_events.RedisUserEvents`.
"""

import json
from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from loguru import logger

from src.core.enums import FinishReason, MessageStatus
from src.core.exceptions import ServiceUnavailableError


@dataclass(frozen=True, slots=True)
class ChatCreated:
    """A chat was created (by createChat, or by chatStream with a new chat id)."""

    chat_id: UUID


@dataclass(frozen=True, slots=True)
class ChatUpdated:
    """A chat's title, visibility, current branch or last activity changed."""

    chat_id: UUID


@dataclass(frozen=True, slots=True)
class ChatDeleted:
    """A chat was deleted, with its messages."""

    chat_id: UUID


@dataclass(frozen=True, slots=True)
class GenerationStarted:
    """A reply began in a chat.

    Attributes:
        chat_id: The chat.
        message_id: The assistant message being generated (identifies the generation).
        model: The model writing it.
        started_at: When it began (UTC).
    """

    chat_id: UUID
    message_id: UUID
    model: str
    started_at: datetime


@dataclass(frozen=True, slots=True)
class GenerationEnded:
    """A reply ended and is saved.

    Attributes:
        chat_id: The chat.
        message_id: The assistant message.
        status: How it was saved (COMPLETE, INTERRUPTED or FAILED).
        finish_reason: Why it ended.
    """

    chat_id: UUID
    message_id: UUID
    status: MessageStatus
    finish_reason: FinishReason | None


UserEvent = ChatCreated | ChatUpdated | ChatDeleted | GenerationStarted | GenerationEnded

_CHAT_EVENTS: dict[str, type[ChatCreated | ChatUpdated | ChatDeleted]] = {
    "created": ChatCreated,
    "updated": ChatUpdated,
    "deleted": ChatDeleted,
}
_CHAT_TAGS = {kind: tag for tag, kind in _CHAT_EVENTS.items()}


def encode_user_event(event: UserEvent) -> str:
    """Encode a user event as JSON with a type tag `t`.

    Args:
        event: The event.

    Returns:
        The JSON text.
    """
    fields: dict[str, Any] = {"c": str(event.chat_id)}
    if isinstance(event, GenerationStarted):
        fields |= {
            "t": "started",
            "m": str(event.message_id),
            "model": event.model,
            "at": event.started_at.isoformat(),
        }
    elif isinstance(event, GenerationEnded):
        reason = None if event.finish_reason is None else event.finish_reason.value
        fields |= {
            "t": "ended",
            "m": str(event.message_id),
            "status": event.status.value,
            "reason": reason,
        }
    else:
        fields["t"] = _CHAT_TAGS[type(event)]
    return json.dumps(fields, separators=(",", ":"))


def decode_user_event(data: str | bytes) -> UserEvent:
    """Decode a user event encoded by `encode_user_event`.

    Args:
        data: The JSON text.

    Returns:
        The event.

    Raises:
        ValueError: If the data is not an encoded user event.
    """
    try:
        fields = json.loads(data)
        tag, chat_id = fields["t"], UUID(fields["c"])
        if tag == "started":
            at = datetime.fromisoformat(fields["at"])
            return GenerationStarted(chat_id, UUID(fields["m"]), fields["model"], at)
        if tag == "ended":
            reason = fields["reason"]
            return GenerationEnded(
                chat_id,
                UUID(fields["m"]),
                MessageStatus(fields["status"]),
                None if reason is None else FinishReason(reason),
            )
        return _CHAT_EVENTS[tag](chat_id)
    except (KeyError, TypeError) as error:
        raise ValueError(f"not an encoded user event: {data!r:.200}") from error


class UserEventBroker(ABC):
    """Delivers each user's events to every subscription of that user, in publish order.

    Attributes:
        max_events: How many undelivered events a subscriber may fall behind by; further
            behind, its subscription ends with `SubscriberLaggedError`.
    """

    def __init__(self, max_events: int = 1_000) -> None:
        self.max_events = max_events

    @abstractmethod
    async def publish(self, user_id: UUID, event: UserEvent) -> None:
        """Deliver an event to the user's subscriptions, in every process.

        Raises:
            BrokerUnavailableError: The broker's store does not answer.
        """

    @abstractmethod
    def subscribe(self, user_id: UUID) -> AsyncGenerator[UserEvent, None]:
        """The user's events published from the first read on, until the caller stops.

        Raises:
            SubscriberLaggedError: The subscriber fell more than `max_events` behind.
            BrokerUnavailableError: The broker's store stopped answering.
        """

    @abstractmethod
    def subscriber_count(self, user_id: UUID) -> int:
        """How many subscriptions of the user this process serves (for metrics and tests)."""

    async def announce(self, user_id: UUID, event: UserEvent) -> None:
        """Publish an event about a change already saved: a broker outage is logged, not raised.

        Args:
            user_id: The owner of the chat concerned.
            event: The event.
        """
        try:
            await self.publish(user_id, event)
        except ServiceUnavailableError:  # BrokerUnavailableError (broker imports this module)
            logger.warning("user event {} not delivered: the broker does not answer", event)

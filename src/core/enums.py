"""Domain enumerations, stored as strings (portable across SQLite and PostgreSQL)."""

from enum import StrEnum


class UserType(StrEnum):
    """Account kind: registered with email and password, or an anonymous guest."""

    REGULAR = "REGULAR"
    GUEST = "GUEST"


class Visibility(StrEnum):
    """Who may read a chat: its owner only, or anyone signed in."""

    PRIVATE = "PRIVATE"
    PUBLIC = "PUBLIC"


class MessageRole(StrEnum):
    """Who wrote a message."""

    USER = "USER"
    ASSISTANT = "ASSISTANT"


class MessageStatus(StrEnum):
    """Lifecycle of a message; only assistant messages are ever anything but COMPLETE."""

    COMPLETE = "COMPLETE"
    STREAMING = "STREAMING"
    INTERRUPTED = "INTERRUPTED"
    FAILED = "FAILED"


class FinishReason(StrEnum):
    """Why a generation ended."""

    STOP = "STOP"
    LENGTH = "LENGTH"
    TOOL_LIMIT = "TOOL_LIMIT"
    CANCELLED = "CANCELLED"
    ERROR = "ERROR"


class Rating(StrEnum):
    """A user's feedback on a message."""

    UP = "UP"
    DOWN = "DOWN"


class ToolCallState(StrEnum):
    """Where a tool call stands: waiting for the owner, running, or ended (and how)."""

    AWAITING_APPROVAL = "AWAITING_APPROVAL"
    RUNNING = "RUNNING"
    DONE = "DONE"
    ERROR = "ERROR"
    DECLINED = "DECLINED"

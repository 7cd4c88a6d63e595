"""Domain errors, each carrying the GraphQL `extensions.code` of the public contract.

Services raise these; the API layer turns them into GraphQL errors in one place
(`src/api/errors.py`). Anything else that escapes a resolver is masked as
INTERNAL_SERVER_ERROR.
"""

from typing import Any, ClassVar


class AppError(Exception):
    """Base of every error a client may see; `message` is shown as is."""

    code: ClassVar[str] = "INTERNAL_SERVER_ERROR"
    default_message: ClassVar[str] = "Unexpected error."

    def __init__(self, message: str | None = None) -> None:
        self.message = message or self.default_message
        super().__init__(self.message)

    def extensions(self) -> dict[str, Any]:
        """The GraphQL error extensions: the code and any details of the subclass."""
        return {"code": self.code}


class UnauthenticatedError(AppError):
    """No token, or a bad, expired or revoked one, or wrong credentials."""

    code = "UNAUTHENTICATED"
    default_message = "Authentication required."


class ForbiddenError(AppError):
    """Authenticated, but not allowed to do this."""

    code = "FORBIDDEN"
    default_message = "Not allowed."


class NotFoundError(AppError):
    """No such object, or the caller may not see it (existence is never revealed)."""

    code = "NOT_FOUND"
    default_message = "Not found."


class ValidationError(AppError):
    """An input failed validation; `field` names the offending input."""

    code = "BAD_USER_INPUT"
    default_message = "Invalid input."

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field

    def extensions(self) -> dict[str, Any]:
        """Adds `field` when known."""
        extra = {"field": self.field} if self.field else {}
        return super().extensions() | extra


class ConflictError(AppError):
    """The request conflicts with the current state (taken email, busy chat, ...)."""

    code = "CONFLICT"
    default_message = "Conflict."


class RateLimitedError(AppError):
    """A quota or rate is spent; `retry_after` says when to try again, in seconds."""

    code = "RATE_LIMITED"
    default_message = "Rate limit reached."

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after

    def extensions(self) -> dict[str, Any]:
        """Adds `retryAfter`."""
        return super().extensions() | {"retryAfter": self.retry_after}


class ServiceUnavailableError(AppError):
    """A service the operation needs (such as the event broker) does not answer right now."""

    code = "SERVICE_UNAVAILABLE"
    default_message = "A service this needs is unavailable; try again shortly."

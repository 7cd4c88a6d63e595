"""Turns every error into the contract's shape: a message and an `extensions.code`.

- Domain errors (`AppError`) keep their message; their code comes from the error class.
- Parse and validation errors get GRAPHQL_PARSE_FAILED / GRAPHQL_VALIDATION_FAILED, and
  lose graphql-core's "Did you mean" hints, which would reveal the schema.
- Bad variable values (and @oneOf inputs with other than one field) get BAD_USER_INPUT, with
  the variable as `field` when graphql-core names it.
- Anything else is masked as INTERNAL_SERVER_ERROR; its trace is logged with the request id.
"""

import re
from collections.abc import Iterable
from typing import Any

from graphql import GraphQLError, GraphQLSyntaxError
from loguru import logger
from strawberry.extensions import MaskErrors

from src.core.exceptions import AppError
from src.core.logger import request_id_var

MASKED_MESSAGE = "Unexpected error."
# graphql-core's hints ("Did you mean 'a', 'b', or the enum value 'C'?") name schema items,
# which never contain "?"; a hint can end the message or sit inside it ("...? Found: {...}").
_SUGGESTION = re.compile(r" ?Did you mean [^?]*\?")
_VARIABLE = re.compile(r"^Variable '\$(\w+)'")


def is_unexpected(error: GraphQLError) -> bool:
    """An error raised by code while resolving, other than a domain error."""
    original = error.original_error
    return original is not None and not isinstance(original, AppError | GraphQLError)


def log_unexpected(errors: Iterable[GraphQLError]) -> None:
    """Log the trace of every unexpected error (called before masking)."""
    for error in errors:
        if is_unexpected(error):
            logger.opt(exception=error.original_error).error("unexpected error at {}", error.path)


def _code_of(error: GraphQLError) -> tuple[str, dict[str, Any]]:
    if isinstance(error, GraphQLSyntaxError):
        return "GRAPHQL_PARSE_FAILED", {}
    if match := _VARIABLE.match(error.message):
        return "BAD_USER_INPUT", {"field": match.group(1)}
    if error.message.startswith("OneOf Input Object"):
        return "BAD_USER_INPUT", {}
    if error.path is None:
        return "GRAPHQL_VALIDATION_FAILED", {}
    return "BAD_USER_INPUT", {}


class ErrorCodes(MaskErrors):
    """Schema extension giving each error its code and masking the unexpected ones."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=is_unexpected, error_message=MASKED_MESSAGE)

    def _process_errors(self, errors: list[GraphQLError]) -> list[GraphQLError]:
        return [self._with_code(error) for error in errors]

    def _with_code(self, error: GraphQLError) -> GraphQLError:
        if error.extensions and "code" in error.extensions:
            return error
        original = error.original_error
        if isinstance(original, AppError):
            message, extensions = original.message, original.extensions()
        elif is_unexpected(error):
            message = MASKED_MESSAGE
            extensions = {"code": "INTERNAL_SERVER_ERROR", "requestId": request_id_var.get()}
        else:
            code, extra = _code_of(error)
            message, extensions = _SUGGESTION.sub("", error.message), {"code": code, **extra}
        return GraphQLError(
            message,
            nodes=error.nodes,
            source=error.source,
            positions=error.positions,
            path=error.path,
            original_error=original if isinstance(original, AppError) else None,
            extensions=extensions,
        )

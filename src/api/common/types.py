"""The Relay Node interface and the JSON scalar of the contract.

Ids are plain UUIDv7 strings, unique across all types, so `Node.id` is the row id itself.
"""

import uuid

import strawberry
from strawberry.scalars import JSON

from src.core.exceptions import ValidationError

__all__ = ["JSON", "Node", "parse_id"]


@strawberry.interface(description="Relay object identification. Every id is a UUIDv7 string.")
class Node:
    """Anything that can be fetched by id with `Query.node`."""

    id: strawberry.ID


def parse_id(value: str, field: str) -> uuid.UUID:
    """Parse a client-supplied id.

    Raises:
        ValidationError: The value is not a UUID (names the field).
    """
    try:
        return uuid.UUID(value)
    except (ValueError, AttributeError, TypeError) as error:
        raise ValidationError(f"{field} is not a valid id.", field=field) from error

"""Relay cursor pagination over keysets: PageInfo, edges, opaque cursors, page arguments.

A cursor is the base64 of a row's sort key (`pack_cursor`: a sort value, such as a timestamp,
and the id), so a page starts right
after the row it names even when rows were inserted or deleted since the previous page.
Repositories fetch one row more than the page size, which tells whether another page exists.

Following the Relay specification, `hasPreviousPage` is only computed when paginating
backwards (`last`) and `hasNextPage` only when paginating forwards (`first`); the other is false.
"""

import base64
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Self

import strawberry

from src.core.exceptions import ValidationError

MAX_PAGE_SIZE = 100

Key = tuple[datetime, uuid.UUID]


@strawberry.type
class PageInfo:
    """Where a page sits in the whole list."""

    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None


@strawberry.type
class Edge[NodeT]:
    """One node of a page and the cursor that points at it (named `<Node>Edge` in the schema)."""

    cursor: str
    node: NodeT


def pack_cursor(head: str, row_id: uuid.UUID) -> str:
    """An opaque cursor holding a sort value (as text) and a row id."""
    return base64.urlsafe_b64encode(f"{head}|{row_id}".encode()).decode()


def unpack_cursor[T](
    cursor: str, field: str, parse_head: Callable[[str], T]
) -> tuple[T, uuid.UUID]:
    """The sort value and row id of a `pack_cursor` cursor.

    Raises:
        ValidationError: The cursor was not made by `pack_cursor` (names the field).
    """
    try:
        head, _, row_id = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        return parse_head(head), uuid.UUID(row_id)
    except ValueError as error:  # binascii.Error and UnicodeDecodeError included
        raise ValidationError(f"{field} is not a valid cursor.", field=field) from error


def encode_cursor(key: Key) -> str:
    """The opaque cursor of a sort key."""
    moment, row_id = key
    return pack_cursor(moment.isoformat(), row_id)


def decode_cursor(cursor: str, field: str) -> Key:
    """The sort key behind a cursor.

    Raises:
        ValidationError: The cursor was not made by `encode_cursor` (names the field).
    """
    key = unpack_cursor(cursor, field, datetime.fromisoformat)
    if key[0].tzinfo is None:
        raise ValidationError(f"{field} is not a valid cursor.", field=field)
    return key


def _page_size(value: int, field: str) -> int:
    if not 0 <= value <= MAX_PAGE_SIZE:
        raise ValidationError(f"{field} must be between 0 and {MAX_PAGE_SIZE}.", field=field)
    return value


@dataclass(frozen=True, slots=True)
class PageRequest:
    """Validated page arguments: at most `limit` rows after `after` and before `before`.

    Attributes:
        limit: Page size.
        after: Sort key the page starts after.
        before: Sort key the page ends before.
        backwards: Take the rows nearest `before` (`last`) rather than nearest `after` (`first`).
    """

    limit: int
    after: Key | None = None
    before: Key | None = None
    backwards: bool = False

    @property
    def fetch(self) -> int:
        """Rows to ask the repository for: one more than the page, to learn if there are more."""
        return self.limit + 1

    @classmethod
    def parse(
        cls,
        first: int | None,
        after: str | None,
        last: int | None = None,
        before: str | None = None,
        default_size: int = MAX_PAGE_SIZE,
    ) -> Self:
        """Validate the Relay arguments.

        Raises:
            ValidationError: `first` or `last` out of 0..100, both given, or a bad cursor.
        """
        if first is not None and last is not None:
            raise ValidationError("Use first or last, not both.", field="last")
        if last is not None:
            limit = _page_size(last, "last")
        else:
            limit = _page_size(default_size if first is None else first, "first")
        return cls(
            limit=limit,
            after=decode_cursor(after, "after") if after is not None else None,
            before=decode_cursor(before, "before") if before is not None else None,
            backwards=last is not None,
        )


def paginate[RowT, NodeT](
    rows: Sequence[RowT],
    request: PageRequest,
    key: Callable[[RowT], Key],
    to_node: Callable[[RowT], NodeT],
) -> tuple[list[Edge[NodeT]], PageInfo]:
    """Turn the rows a repository returned for a request into edges and their PageInfo.

    Args:
        rows: Up to `request.fetch` rows, in the order taken (newest first when backwards).
        request: The page arguments.
        key: The sort key of a row.
        to_node: The GraphQL node of a row.
    """
    more = len(rows) > request.limit
    taken = list(rows[: request.limit])
    if request.backwards:
        taken.reverse()
    edges = [Edge(cursor=encode_cursor(key(row)), node=to_node(row)) for row in taken]
    info = PageInfo(
        has_next_page=more and not request.backwards,
        has_previous_page=more and request.backwards,
        start_cursor=edges[0].cursor if edges else None,
        end_cursor=edges[-1].cursor if edges else None,
    )
    return edges, info

"""GraphQL types of message search: MessageSearchConnection, MessageSearchEdge, TextRange.

A hit's cursor is the base64 of its sort key, (score, message id), the score written exactly
(`float.hex`), so that the next page starts right after it. Scores stay put while the index
does; on SQLite, bm25 weighs words by the whole index, so writes between two pages can shift
scores a little and move a hit across the cursor (PostgreSQL's ts_rank reads only the message).
"""

import math
import uuid
from typing import Self

import strawberry

from src.api.chats.types import Chat
from src.api.common.pagination import PageInfo, pack_cursor, unpack_cursor
from src.api.messages.types import Message
from src.api.search.service import HitPage, MessageHit
from src.core.exceptions import ValidationError

HitKey = tuple[float, uuid.UUID]


def encode_hit_cursor(key: HitKey) -> str:
    """The opaque cursor of a hit's sort key."""
    score, message_id = key
    return pack_cursor(score.hex(), message_id)


def decode_hit_cursor(cursor: str, field: str) -> HitKey:
    """The sort key behind a hit's cursor.

    Raises:
        ValidationError: The cursor was not made by `encode_hit_cursor` (names the field).
    """
    key = unpack_cursor(cursor, field, float.fromhex)
    if not math.isfinite(key[0]):
        raise ValidationError(f"{field} is not a valid cursor.", field=field)
    return key


@strawberry.type
class TextRange:
    """A stretch of a text."""

    start: int = strawberry.field(
        description="Where it starts, in Unicode code points (characters) from 0."
    )
    length: int = strawberry.field(description="How many code points it holds.")


@strawberry.type
class MessageSearchEdge:
    """A message that matches a search, with its chat and the words that matched."""

    cursor: str
    node: Message
    chat: Chat
    snippet: str = strawberry.field(
        description="Plain text around the match, at most about 200 characters."
    )
    matches: list[TextRange] = strawberry.field(
        description="Where the matched words are in `snippet`."
    )

    @classmethod
    def from_hit(cls, hit: MessageHit) -> Self:
        """Build from a service hit."""
        return cls(
            cursor=encode_hit_cursor((hit.score, hit.message.id)),
            node=Message.from_model(hit.message),
            chat=Chat.from_model(hit.chat),
            snippet=hit.snippet.text,
            matches=[
                TextRange(start=start, length=length) for start, length in hit.snippet.matches
            ],
        )


@strawberry.type
class MessageSearchConnection:
    """A page of the caller's messages that match a search, best matches first."""

    edges: list[MessageSearchEdge]
    page_info: PageInfo

    @classmethod
    def build(cls, page: HitPage) -> Self:
        """The page of hits the service found (forward pagination only)."""
        edges = [MessageSearchEdge.from_hit(hit) for hit in page.hits]
        return cls(
            edges=edges,
            page_info=PageInfo(
                has_next_page=page.has_next,
                has_previous_page=False,
                start_cursor=edges[0].cursor if edges else None,
                end_cursor=edges[-1].cursor if edges else None,
            ),
        )

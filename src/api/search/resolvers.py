"""Search operations; every one needs a signed-in user.

Queries:
- searchMessages: the caller's messages that match a query by words, on every branch of every
  chat they own, best matches first; each hit with its chat, a snippet and the matched words.
"""

import strawberry

from src.api.common.pagination import PageRequest
from src.api.context import Info
from src.api.search.service import SearchService
from src.api.search.types import MessageSearchConnection, decode_hit_cursor

SEARCH_PAGE_SIZE = 20


@strawberry.type
class SearchQuery:
    """Search queries."""

    @strawberry.field(
        description="The caller's messages that match `query`, on every branch, best matches "
        "first. A message matches when its text holds every word of the query (letters and "
        "digits; case is ignored); a query without a word finds nothing."
    )
    async def search_messages(
        self,
        info: Info,
        query: str,
        first: int | None = SEARCH_PAGE_SIZE,
        after: str | None = None,
    ) -> MessageSearchConnection:
        """A page of the caller's messages that match `query`."""
        user = await info.context.require_user()
        limit = PageRequest.parse(first, None, default_size=SEARCH_PAGE_SIZE).limit
        key = decode_hit_cursor(after, "after") if after is not None else None
        service = SearchService(info.context.runtime.session_factory)
        page = await service.search_messages(user.id, query, key, limit)
        return MessageSearchConnection.build(page)

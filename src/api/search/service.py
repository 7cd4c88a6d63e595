"""Search rules: which messages a query finds, in what order, and what a hit shows of them.

A query is a bag of words (see `src.lib.words`): a message matches when its text holds every
one of them, in any case, as whole words. Only the caller's own chats are searched, PUBLIC
chats of other users never; every branch is. The database's full-text index finds and ranks
the messages (`src.lib.db.fulltext`); the snippet and the ranges of the matched words are made
here from the text, for the hits of the page returned only.

Operations (SearchService, one read each):
- search_messages: a page of the caller's messages that match a query, best matches first.
"""

import uuid
from dataclasses import dataclass

from src.api.chats.service import normalize_search
from src.lib.db.models import Chat, Message
from src.lib.db.repositories.message import MessageRepository
from src.lib.db.session import SessionFactory
from src.lib.words import Snippet, search_terms, snippet


@dataclass(frozen=True, slots=True)
class MessageHit:
    """A message that matches, and what to show of it.

    Attributes:
        message: The message.
        chat: Its chat.
        score: How well it matches (higher is better); with the id, the hit's sort key.
        snippet: Its text around the matched words, and where they are.
    """

    message: Message
    chat: Chat
    score: float
    snippet: Snippet


@dataclass(frozen=True, slots=True)
class HitPage:
    """A page of hits, best first, and whether more follow."""

    hits: list[MessageHit]
    has_next: bool


class SearchService:
    """Search operations, each one unit of work."""

    def __init__(self, session_factory: SessionFactory) -> None:
        self.session_factory = session_factory

    async def search_messages(
        self,
        user_id: uuid.UUID,
        query: str,
        after: tuple[float, uuid.UUID] | None,
        limit: int,
    ) -> HitPage:
        """The user's own messages holding every word of `query`, best matches first.

        A query without any word (blank, or only punctuation) finds nothing.

        Args:
            user_id: The caller.
            query: What the client typed.
            after: Sort key (score, id) of the last hit of the previous page.
            limit: At most this many hits.

        Raises:
            ValidationError: The query is longer than 200 characters.
        """
        terms = search_terms(normalize_search(query, field="query") or "")
        if not terms:
            return HitPage([], has_next=False)
        async with self.session_factory() as db:
            rows = await MessageRepository.search(db, user_id, terms, after, limit + 1)
        wanted = set(terms)
        hits = [
            MessageHit(message, chat, score, snippet(message.text, wanted))
            for message, chat, score in rows[:limit]
        ]
        return HitPage(hits, has_next=len(rows) > limit)

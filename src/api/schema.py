"""The GraphQL schema: every feature's operations merged, with limits and error handling.

Limits (OWASP GraphQL cheat sheet): depth, aliases and tokens are capped before any resolver
runs; introspection is off in production.
"""

from typing import Any

import strawberry
from graphql import GraphQLError
from strawberry.extensions import (
    DisableIntrospection,
    MaxTokensLimiter,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from src.api.auth.resolvers import AuthMutation, AuthQuery
from src.api.auth.types import User
from src.api.chats.resolvers import ChatMutation, ChatQuery
from src.api.chats.types import Chat
from src.api.errors import ErrorCodes, log_unexpected
from src.api.limits import MAX_TOKENS, QueryLimits
from src.api.live.resolvers import LiveSubscription
from src.api.messages.resolvers import MessageMutation
from src.api.messages.types import Message
from src.api.node import NodeQuery
from src.api.observability import OperationNameRecorder
from src.api.search.resolvers import SearchQuery
from src.api.stream.fast_path import StreamingExecutionContext
from src.api.stream.resolvers import StreamMutation, StreamQuery, StreamSubscription

Query = merge_types("Query", (AuthQuery, ChatQuery, NodeQuery, SearchQuery, StreamQuery))
Mutation = merge_types("Mutation", (AuthMutation, ChatMutation, MessageMutation, StreamMutation))
Subscription = merge_types("Subscription", (StreamSubscription, LiveSubscription))


class ChatSchema(strawberry.Schema):
    """The schema; logs only unexpected errors (expected ones are the client's business)."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Log unexpected errors with their trace before they are masked."""
        log_unexpected(errors)


def build_schema(introspection: bool = True) -> ChatSchema:
    """Build the schema; production disables introspection."""
    extensions: list[Any] = [
        OperationNameRecorder,
        ErrorCodes,
        QueryLimits,
        lambda: MaxTokensLimiter(max_token_count=MAX_TOKENS),
        lambda: ValidationCache(maxsize=256),
    ]
    if not introspection:
        extensions.append(DisableIntrospection)
    return ChatSchema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=[User, Chat, Message],
        extensions=extensions,
        execution_context_class=StreamingExecutionContext,
        config=StrawberryConfig(auto_camel_case=True),
    )


schema = build_schema()

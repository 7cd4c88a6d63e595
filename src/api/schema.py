"""The GraphQL schema: every feature's operations merged, with limits and error handling.

Limits (OWASP GraphQL cheat sheet): depth, aliases and tokens are capped before any resolver
runs; introspection is off in production.
"""

from typing import Any

import strawberry
from graphql import ASTValidationRule, GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaxTokensLimiter,
    ValidationCache,
    max_aliases,
    query_depth_limiter,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext

from src.api.auth.resolvers import AuthMutation, AuthQuery
from src.api.auth.types import User
from src.api.chats.resolvers import ChatMutation, ChatQuery
from src.api.chats.types import Chat
from src.api.common.node import NodeQuery
from src.api.errors import ErrorCodes, log_unexpected
from src.api.messages.resolvers import MessageMutation
from src.api.messages.types import Message
from src.api.observability import OperationNameRecorder
from src.api.stream.fast_path import StreamingExecutionContext
from src.api.stream.resolvers import StreamMutation, StreamQuery, StreamSubscription

MAX_DEPTH = 10
MAX_ALIASES = 15
MAX_TOKENS = 2000

Query = merge_types("Query", (AuthQuery, ChatQuery, NodeQuery, StreamQuery))
Mutation = merge_types("Mutation", (AuthMutation, ChatMutation, MessageMutation, StreamMutation))
Subscription = merge_types("Subscription", (StreamSubscription,))


# Built once: Strawberry's limiter extensions make new rule classes per operation, which
# defeats ValidationCache (the rules are part of its key) and costs ~1 ms of validation per
# operation.
_QUERY_LIMIT_RULES: list[type[ASTValidationRule]] = [
    query_depth_limiter.create_validator(MAX_DEPTH, should_ignore=None),
    max_aliases.create_validator(MAX_ALIASES),
]


class QueryLimits(AddValidationRules):
    """Depth and alias limits, checked during (cached) validation before any resolver runs."""

    def __init__(self) -> None:
        super().__init__(_QUERY_LIMIT_RULES)


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

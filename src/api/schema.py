"""The GraphQL schema: every feature's operations merged, with limits and error handling.

Limits (OWASP GraphQL cheat sheet): depth, aliases and tokens are capped before any resolver
runs, and validation costs a bounded time (src/api/validation.py); introspection is off in
production.
"""

from collections.abc import Iterable, Iterator
from contextlib import suppress
from typing import Any, cast

import strawberry
from graphql import GraphQLError
from strawberry.extensions import ParserCache, SchemaExtension
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import SubscriptionResult
from strawberry.tools import merge_types
from strawberry.types import ExecutionContext, ExecutionResult
from strawberry.types.graphql import OperationType

from src.api.auth.resolvers import AuthMutation, AuthQuery
from src.api.auth.types import User
from src.api.chats.resolvers import ChatMutation, ChatQuery
from src.api.chats.types import Chat
from src.api.errors import ErrorCodes, log_unexpected
from src.api.extension_hooks import CachedHooksRunner
from src.api.limits import QueryLimits, QueryLimitsWithoutIntrospection
from src.api.live.resolvers import LiveSubscription
from src.api.messages.resolvers import MessageMutation
from src.api.messages.types import Message
from src.api.node import NodeQuery
from src.api.observability import OperationNameRecorder
from src.api.search.resolvers import SearchQuery
from src.api.stream.fast_path import StreamingExecutionContext
from src.api.stream.resolvers import StreamMutation, StreamQuery, StreamSubscription
from src.api.telemetry import schema_extensions
from src.api.validation import BoundedValidation, UnicodeVariables

Query = merge_types("Query", (AuthQuery, ChatQuery, NodeQuery, SearchQuery, StreamQuery))
Mutation = merge_types("Mutation", (AuthMutation, ChatMutation, MessageMutation, StreamMutation))
Subscription = merge_types("Subscription", (StreamSubscription, LiveSubscription))


class DocumentCache(ParserCache):
    """Strawberry's ParserCache, leaving documents that fail to parse to Strawberry itself.

    ParserCache raises a parse error out of the parsing hook, where Strawberry no longer turns
    it into a GraphQL error (it would be masked as INTERNAL_SERVER_ERROR); here the document
    stays unset and Strawberry parses it again and reports the error with its code.
    """

    def on_parse(self) -> Iterator[None]:
        """Set the document from the cache when the query parses."""
        context = self.execution_context
        with suppress(GraphQLError):
            context.graphql_document = self.cached_parse_document(
                context.query, **context.parse_options
            )
        yield


class ChatSchema(strawberry.Schema):
    """The schema; logs only unexpected errors (expected ones are the client's business).

    Its extensions' hooks run as Strawberry runs them, from wrappers made once per hook.

    `execute` (one answer, used over HTTP) never runs a subscription: subscriptions stream,
    over WebSockets, and over HTTP they are refused as a client error. `subscribe` (used by
    the legacy graphql-ws protocol, which starts every operation the same way) runs queries
    and mutations too, as graphql-transport-ws does.
    """

    async def execute(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> ExecutionResult:
        """Run a query or mutation to its one result.

        Raises:
            InvalidOperationTypeError: For a subscription; Strawberry's views answer a 4xx.
        """
        allowed = set(allowed_operation_types or (OperationType.QUERY, OperationType.MUTATION))
        return await super().execute(
            query,
            variable_values,
            context_value,
            root_value,
            operation_name,
            allowed - {OperationType.SUBSCRIPTION},
            operation_extensions,
        )

    async def subscribe(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> SubscriptionResult:
        """Stream any operation: a subscription's events, or a query's or mutation's result."""
        result = await self.stream(
            query, variable_values, context_value, root_value, operation_name, operation_extensions
        )
        return cast("SubscriptionResult", result)  # no @defer/@stream: plain results only

    def create_extensions_runner(
        self, execution_context: ExecutionContext, extensions: list[SchemaExtension]
    ) -> SchemaExtensionsRunner:
        """Strawberry's runner, with its hook wrappers made once (src/api/extension_hooks.py)."""
        return CachedHooksRunner(execution_context, extensions)

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        """Log unexpected errors with their trace before they are masked."""
        log_unexpected(errors)


def build_schema(introspection: bool = True) -> ChatSchema:
    """Build the schema; production disables introspection; traced while tracing is on."""
    # Hooks run in this order. QueryLimits sets the parser's token limit before the document
    # cache parses; an extension with an `on_operation` hook keeps it suspended (about 1 KiB)
    # for as long as a subscription runs, so only those that must see the end have one.
    extensions: list[Any] = [
        OperationNameRecorder,
        ErrorCodes,
        QueryLimits if introspection else QueryLimitsWithoutIntrospection,
        lambda: DocumentCache(maxsize=256),  # a chatStream document is the same for every reply
        BoundedValidation,
        UnicodeVariables,
        *schema_extensions(),
    ]
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

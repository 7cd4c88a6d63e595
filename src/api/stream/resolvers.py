"""Streamed replies and what produces them.

Queries:
- models: the models that can write replies.
- tools: the tools a model may call.

Mutations:
- stopGeneration: stop the chat's running reply, keeping it as INTERRUPTED.
- decideToolCall: approve or decline a tool call that waits for the owner.

Subscriptions:
- chatStream: save a user message (or regenerate), then stream the reply until it ends.
- chatEvents: watch a chat: the running reply (replayed after afterSeq), then every later one.
"""

from collections.abc import AsyncGenerator

import strawberry

from src.api.common.types import parse_id
from src.api.context import Context, Info
from src.api.stream.approvals import ApprovalService
from src.api.stream.catalog_types import ChatModel, Tool
from src.api.stream.inputs import ChatStreamInput, stream_request
from src.api.stream.service import StreamService
from src.api.stream.types import StreamEvent, to_graphql
from src.api.stream.watch import WatchService
from src.lib.llm.approval import ToolDecision


@strawberry.type
class StreamQuery:
    """Models and tools."""

    @strawberry.field
    async def models(self, info: Info) -> list[ChatModel]:
        """The models that can write replies."""
        await info.context.require_user()
        catalog = info.context.runtime.catalog
        return [ChatModel.from_info(m, catalog.default_model) for m in catalog.models()]

    @strawberry.field
    async def tools(self, info: Info) -> list[Tool]:
        """The tools a model may call."""
        await info.context.require_user()
        return [Tool.from_tool(tool) for tool in info.context.runtime.tools.all()]


@strawberry.type
class StreamMutation:
    """Stopping replies, deciding on their tool calls."""

    @strawberry.mutation(
        description="True when a generation was running and is now stopped; "
        "the partial reply is kept as INTERRUPTED."
    )
    async def stop_generation(self, info: Info, chat_id: strawberry.ID) -> bool:
        """Stop the chat's running reply."""
        user = await info.context.require_user()
        watch = WatchService(info.context.runtime)
        return await watch.stop(user, parse_id(chat_id, "chatId"))

    @strawberry.mutation(
        description="The owner's decision on a tool call that waits for approval; "
        "true when it was waiting."
    )
    async def decide_tool_call(
        self,
        info: Info,
        chat_id: strawberry.ID,
        tool_call_id: str,
        approve: bool,
        reason: str | None = None,
    ) -> bool:
        """Run (approve) or decline a waiting tool call of the chat's running reply."""
        user = await info.context.require_user()
        service = ApprovalService(info.context.runtime)
        decision = ToolDecision(tool_call_id, approve, reason)
        return await service.decide(user, parse_id(chat_id, "chatId"), decision)


@strawberry.type
class StreamSubscription:
    """Streams of reply events."""

    @strawberry.subscription(
        description="Saves the user message, then streams the assistant's reply "
        "as it is generated and saved."
    )
    async def chat_stream(
        self, info: Info, input: ChatStreamInput
    ) -> AsyncGenerator[StreamEvent, None]:
        """Start a reply and follow it to its end."""
        user = await info.context.require_user()
        service = StreamService(info.context.runtime)
        reply = await service.start(user, stream_request(input))
        async for event in service.follow(reply):
            yield to_graphql(event)

    @strawberry.subscription(
        description="Watches a chat: the events of the generation running now "
        "(replayed after afterSeq) and of every later one."
    )
    async def chat_events(
        self, info: Info, chat_id: strawberry.ID, after_seq: int | None = None
    ) -> AsyncGenerator[StreamEvent, None]:
        """Follow a chat's replies until the client completes the subscription.

        The stream is returned rather than run here, so that it keeps the socket's context but
        not this resolver's `info` for as long as it waits; its errors still end the stream.
        """
        return _chat_events(info.context, chat_id, after_seq)


async def _chat_events(
    context: Context, chat_id: strawberry.ID, after_seq: int | None
) -> AsyncGenerator[StreamEvent, None]:
    user = await context.require_user()
    watch = WatchService(context.runtime)
    async for event in watch.events(user, parse_id(chat_id, "chatId"), after_seq):
        yield to_graphql(event)

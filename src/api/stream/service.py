"""Starting a reply and following it to its end.

Operations:
- StreamService.start: wait for one of the process's turns to start a reply (`reply_starts`:
  a burst of starts then does not stall the replies already streaming); check the request,
  model, tools, chat and parent; charge the reply to the user's limits (`ReplyAllowance`:
  one start of a user at a time, in any process);
  create the chat when it is new (its title, provisionally its first message, is then the
  model's to write: see `src.api.chats.service`); save the user message and a STREAMING
  assistant message; announce ChatCreated (or ChatUpdated) to the owner's devices; hand the
  generation to the manager. The same client message id twice creates nothing new:
  the caller follows the reply already started for it.
- StreamService.follow: the events of a started reply, live from the broker while it runs,
  else replayed from the database (StreamStarted and its terminal event).
"""

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from src.api.auth.entitlements import ReplyAllowance
from src.api.chats.service import DEFAULT_TITLE, create_reply_chat
from src.api.messages.service import history_thread
from src.api.runtime import Runtime
from src.api.stream.requests import StreamRequest, check_request
from src.core.enums import MessageRole, MessageStatus
from src.core.exceptions import ConflictError, NotFoundError, ValidationError
from src.lib.db.models import User
from src.lib.db.repositories.chat import ChatHead, ChatRepository
from src.lib.db.repositories.message import MessageHead, MessageRepository, NewMessage
from src.lib.db.session import engine_of
from src.lib.db.types import generate_uuid7
from src.lib.llm.catalog import UnknownModelError
from src.lib.llm.history import build_history
from src.lib.llm.provider import Provider
from src.lib.llm.tools.registry import UnknownToolError
from src.lib.llm.types import GenerationOptions, ModelInfo
from src.lib.parts import text_of
from src.lib.streaming.broker import failing_on_outage
from src.lib.streaming.events import (
    StreamEvent,
    StreamFailed,
    StreamFinished,
    StreamStarted,
    is_terminal,
)
from src.lib.streaming.manager import GenerationBusyError, GenerationRequest
from src.lib.streaming.user_events import ChatCreated, ChatUpdated

TITLE_LENGTH = 80
BUSY = "A reply is already being generated in this chat."
TAKEN_MESSAGE_ID = "This message id is already in use."
SAVED_FAILURE = ("PROVIDER_ERROR", "The reply could not be completed.")


@dataclass(frozen=True, slots=True)
class StartedReply:
    """The reply a chatStream follows: its chat, its message, the user message it answers."""

    chat_id: uuid.UUID
    message_id: uuid.UUID
    user_message_id: uuid.UUID | None


def _message_of(event: StreamEvent) -> uuid.UUID:
    return event.assistant_message_id if isinstance(event, StreamStarted) else event.message_id


def _title_from(parts: list[dict[str, object]] | None) -> str:
    text = " ".join(text_of(parts or []).split())
    return text[:TITLE_LENGTH].strip() or DEFAULT_TITLE


class StreamService:
    """Sets up replies; each call is one unit of work of its own.

    A start is the hot path of a reply: it runs in one Core transaction (no ORM session, no
    ORM objects), each statement prebuilt in its repository.
    """

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    async def start(self, user: User, request: StreamRequest) -> StartedReply:
        """Save what the request adds and launch its generation (or find the one it repeats).

        Raises:
            ValidationError: Unknown model or tool, or a parent that cannot be replied to.
            NotFoundError: The chat belongs to someone else, or the parent is not in it.
            ConflictError: The chat is busy, or the message id is someone else's.
            RateLimitedError: The daily allowance is spent, or the cap on replies at once.
        """
        request = check_request(request)
        provider, model = self._model(request)
        async with self.runtime.reply_starts.turn():
            return await self._start(user, request, provider, model)

    async def _start(
        self, user: User, request: StreamRequest, provider: Provider, model: ModelInfo
    ) -> StartedReply:
        async with engine_of(self.runtime.session_factory).begin() as db:
            chat = await self._chat(db, user, request.chat_id)
            if request.message_id is not None:
                repeated = await self._repeated(db, chat, request.message_id)
                if repeated is not None:
                    return repeated
            parent = await self._parent(db, chat, request)
            if request.parts is not None and request.message_id is None:
                # ids are time-ordered: the question's comes before its reply's
                request = replace(request, message_id=generate_uuid7())
            reply_id = generate_uuid7()
            try:
                await self.runtime.generations.reserve(request.chat_id, reply_id, model.id)
            except GenerationBusyError as error:
                raise ConflictError(BUSY) from error
            try:
                started, generation = await self._save(
                    db, user, chat, request, parent, reply_id, provider, model
                )
                # last, and held only until the commit: the starts of one user, in any
                # process, check and charge one after another
                allowance = await ReplyAllowance.hold(db, self.runtime.settings, user)
                await allowance.charge(reply_id)
                await db.commit()
            except BaseException as error:
                await self.runtime.generations.release(request.chat_id, reply_id)
                if isinstance(error, IntegrityError):  # another start saved this id meanwhile
                    raise ConflictError(TAKEN_MESSAGE_ID) from error
                raise
        change = ChatUpdated(chat.id) if chat else ChatCreated(started.chat_id)
        await self.runtime.broker.user_events.announce(user.id, change)
        await self.runtime.generations.launch(generation)
        return started

    async def follow(self, reply: StartedReply) -> AsyncIterator[StreamEvent]:
        """Every event of a started reply, from seq 0 to its terminal event."""
        broker = self.runtime.generations.broker_for(reply.message_id)
        active = await broker.active_generation(reply.chat_id)
        if active is not None and active.message_id == reply.message_id:
            live = failing_on_outage(broker.subscribe(reply.chat_id, after_seq=-1))
            async for event in live:
                if _message_of(event) != reply.message_id:
                    break  # a later generation: ours has ended and is saved
                yield event
                if is_terminal(event):
                    return
        async for event in self._replay_saved(reply):
            yield event

    async def _replay_saved(self, reply: StartedReply) -> AsyncIterator[StreamEvent]:
        """StreamStarted and StreamFinished (or StreamFailed) of a reply already saved."""
        async with self.runtime.session_factory() as db:
            message = await MessageRepository.get(db, reply.message_id)
        if message is None:
            return
        yield StreamStarted(
            0, message.chat_id, message.id, reply.user_message_id, message.model or ""
        )
        if message.status == MessageStatus.FAILED:
            yield StreamFailed(1, message.id, *SAVED_FAILURE)
        else:
            finish = message.finish_reason.value if message.finish_reason else "CANCELLED"
            yield StreamFinished(1, message.id, finish, message.usage)

    def _model(self, request: StreamRequest) -> tuple[Provider, ModelInfo]:
        config, field = request.config, "input.chatModelConfig"
        try:
            provider, model = self.runtime.catalog.resolve(config.model)
        except UnknownModelError as error:
            raise ValidationError("Unknown model.", field=f"{field}.model") from error
        for names, name_field in (
            (config.tools, "tools"),
            (config.approval_required_tools, "approvalRequiredTools"),
        ):
            try:
                self.runtime.tools.specs(names)
            except UnknownToolError as error:
                raise ValidationError(str(error), field=f"{field}.{name_field}") from error
        return provider, model

    @staticmethod
    async def _chat(db: AsyncConnection, user: User, chat_id: uuid.UUID) -> ChatHead | None:
        chat = await ChatRepository.head(db, chat_id)
        if chat is not None and chat.user_id != user.id:
            raise NotFoundError()
        return chat

    @staticmethod
    async def _repeated(
        db: AsyncConnection, chat: ChatHead | None, message_id: uuid.UUID
    ) -> StartedReply | None:
        message = await MessageRepository.head(db, message_id)
        if message is None:
            return None
        if chat is None or message.chat_id != chat.id or message.role != MessageRole.USER:
            raise ConflictError(TAKEN_MESSAGE_ID)
        reply_id = await MessageRepository.latest_reply_id(db, message.id)
        if reply_id is None:
            raise ConflictError("This message has no reply to follow.")
        return StartedReply(chat.id, reply_id, message.id)

    @staticmethod
    async def _parent(
        db: AsyncConnection, chat: ChatHead | None, request: StreamRequest
    ) -> MessageHead | None:
        if request.parts is None or request.parent_given:
            if request.parent_id is None:
                return None
            parent = await MessageRepository.head(db, request.parent_id, chat.id) if chat else None
            if parent is None:
                raise NotFoundError()
            if request.parts is None and parent.role != MessageRole.USER:
                raise ValidationError("Only a USER message can be regenerated.", "input.parentId")
            return parent
        if chat is None or chat.current_leaf_id is None:
            return None
        return await MessageRepository.head(db, chat.current_leaf_id, chat.id)

    async def _save(
        self,
        db: AsyncConnection,
        user: User,
        chat: ChatHead | None,
        request: StreamRequest,
        parent: MessageHead | None,
        reply_id: uuid.UUID,
        provider: Provider,
        model: ModelInfo,
    ) -> tuple[StartedReply, GenerationRequest]:
        question = None
        if request.parts is not None:
            assert request.message_id is not None  # set by start()
            question = NewMessage(
                request.message_id,
                request.chat_id,
                parent.id if parent else None,
                MessageRole.USER,
                request.parts,
            )
        asked_id = question.id if question else parent.id if parent else None
        assert asked_id is not None  # a regeneration always has its parent
        reply = NewMessage(
            reply_id,
            request.chat_id,
            asked_id,
            MessageRole.ASSISTANT,
            [],
            MessageStatus.STREAMING,
            model.id,
        )
        if chat is None:
            chat = await create_reply_chat(
                db, user.id, _title_from(request.parts), request.chat_id, reply_id
            )
        if chat.current_leaf_id != reply_id:
            retitle = chat.current_leaf_id is None and chat.title_pending
            title = _title_from(request.parts) if retitle and request.parts else None
            await ChatRepository.set_leaf(db, chat.id, reply_id, title)
        await MessageRepository.insert_many(db, [question, reply] if question else [reply])
        config, settings = request.config, self.runtime.settings
        path = (
            await history_thread(db, chat.id, parent.id, settings.history_budget_chars)
            if parent is not None
            else []
        )
        turns = [(m.role.value, m.parts) for m in path]
        if question is not None:
            turns.append((question.role.value, question.parts))
        generation = GenerationRequest(
            chat_id=chat.id,
            user_id=user.id,
            message_id=reply_id,
            user_message_id=question.id if question else None,
            model=model.id,
            provider=provider,
            history=build_history(
                config.system_prompt or settings.system_prompt,
                turns,
                settings.history_budget_chars,
            ),
            tool_names=config.tools,
            approval_tools=frozenset(config.approval_required_tools),
            title_pending=chat.title_pending,
            options=GenerationOptions(
                temperature=config.temperature, max_output_tokens=config.max_output_tokens
            ),
        )
        started = StartedReply(chat.id, reply_id, generation.user_message_id)
        return started, generation

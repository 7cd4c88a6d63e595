"""Strawberry's extension runner, each hook's context manager factory made once per hook.

Strawberry wraps every extension hook of every operation in a new `contextlib.contextmanager`
(a generator hook) or a new decorated closure (a plain one): `functools.wraps` and all, about
thirty times per operation with this schema's extensions, a tenth of the server's CPU when
hundreds of subscriptions start at once. The factory depends only on the hook's function, so
here it is made once per function and bound to the operation's extension by a `partial`; the
hooks run exactly as Strawberry runs them (same order, same exit stack).

Offers:
- `CachedHooksRunner`: a `SchemaExtensionsRunner` whose hook context managers use the
  factories made once (`ChatSchema.create_extensions_runner` returns it).
"""

import inspect
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from functools import cache, partial
from typing import Any

from strawberry.extensions import SchemaExtension
from strawberry.extensions.context import (
    ExecutingContextManager,
    ExtensionContextManagerBase,
    OperationContextManager,
    ParsingContextManager,
    StreamResultContextManager,
    ValidationContextManager,
    WrappedHook,
)
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.types import StreamExecutionResult


@contextmanager
def _calling(func: Callable[..., Any], *args: Any) -> Iterator[None]:
    func(*args)
    yield


@asynccontextmanager
async def _awaiting(func: Callable[..., Any], *args: Any) -> AsyncIterator[None]:
    await func(*args)
    yield


@cache
def _factory(hook: Callable[..., Any]) -> tuple[Callable[..., Any], bool]:
    """A hook function's context manager factory (extension first), and whether it is async."""
    if inspect.isgeneratorfunction(hook):
        return contextmanager(hook), False
    if inspect.isasyncgenfunction(hook):
        return asynccontextmanager(hook), True
    if inspect.iscoroutinefunction(hook):
        return partial(_awaiting, hook), True
    return partial(_calling, hook), False


class _CachedHooks(ExtensionContextManagerBase):
    """A lifecycle stage whose hooks come from the factories made once."""

    def get_hook(self, extension: SchemaExtension) -> WrappedHook | None:
        """The extension's hook for this stage, or None when it keeps the default."""
        hook = getattr(type(extension), self.HOOK_NAME)
        if hook is self.default_hook:
            return None
        if not callable(hook):
            raise ValueError(f"Hook {self.HOOK_NAME} on {extension} must be callable")
        factory, is_async = _factory(hook)
        return WrappedHook(extension, partial(factory, extension), is_async)


class _Operation(_CachedHooks, OperationContextManager):
    pass


class _Validation(_CachedHooks, ValidationContextManager):
    pass


class _Parsing(_CachedHooks, ParsingContextManager):
    pass


class _Executing(_CachedHooks, ExecutingContextManager):
    pass


class _StreamResult(_CachedHooks, StreamResultContextManager):
    pass


class CachedHooksRunner(SchemaExtensionsRunner):
    """Strawberry's runner, with hook context managers made from the cached factories."""

    def operation(self) -> OperationContextManager:
        """The on_operation stage."""
        return _Operation(self.extensions)

    def validation(self) -> ValidationContextManager:
        """The on_validate stage."""
        return _Validation(self.extensions)

    def parsing(self) -> ParsingContextManager:
        """The on_parse stage."""
        return _Parsing(self.extensions)

    def executing(self) -> ExecutingContextManager:
        """The on_execute stage."""
        return _Executing(self.extensions)

    def on_stream_result(self, result: StreamExecutionResult) -> StreamResultContextManager:
        """The on_stream_result stage of one result."""
        return _StreamResult(self.extensions, result)

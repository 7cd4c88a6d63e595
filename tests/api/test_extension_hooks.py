"""The cached-hooks runner runs extension hooks exactly as Strawberry's own runner does."""

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from strawberry.extensions import SchemaExtension
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.types import ExecutionContext

from src.api.extension_hooks import CachedHooksRunner
from src.api.schema import schema

LOG: list[str] = []


class Generators(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        LOG.append(f"operation enter {id(self)}")
        try:
            yield
        except ValueError as error:
            LOG.append(f"operation saw {error}")
            raise
        LOG.append(f"operation exit {id(self)}")

    async def on_execute(self) -> AsyncIterator[None]:
        LOG.append("execute enter")
        yield
        LOG.append("execute exit")


class Callables(SchemaExtension):
    def on_parse(self) -> None:  # type: ignore[override]
        LOG.append("parse called")

    async def on_validate(self) -> None:  # type: ignore[override]
        LOG.append("validate awaited")

    def on_stream_result(self, result: Any) -> None:  # type: ignore[override]
        LOG.append(f"stream result {result}")


async def _run(runner_class: type[SchemaExtensionsRunner]) -> list[str]:
    LOG.clear()
    context = ExecutionContext(query="{ __typename }", schema=schema, allowed_operations=())
    runner = runner_class(context, [Generators(), Callables(), Generators()])
    ids = {str(id(extension)): f"#{i}" for i, extension in enumerate(runner.extensions)}
    async with runner.operation():
        async with runner.parsing():
            LOG.append("parsing")
        async with runner.validation():
            LOG.append("validating")
        async with runner.executing():
            LOG.append("executing")
        async with runner.on_stream_result("R"):  # type: ignore[arg-type]
            LOG.append("sending")
    with pytest.raises(ValueError, match="boom"):
        async with runner.operation():
            raise ValueError("boom")
    return [" ".join(ids.get(word, word) for word in line.split()) for line in LOG]


async def test_hooks_run_as_strawberry_runs_them() -> None:
    expected = await _run(SchemaExtensionsRunner)
    assert "operation saw boom" in expected and "stream result R" in expected
    assert await _run(CachedHooksRunner) == expected


def test_the_schema_uses_the_cached_hooks_runner() -> None:
    context = ExecutionContext(query="{ __typename }", schema=schema, allowed_operations=())
    assert isinstance(schema.create_extensions_runner(context, []), CachedHooksRunner)

"""The tool interface and the registry of the tools a model may be offered.

Offers:
- ToolContext: what a tool may know of its caller (the user and a search over their messages).
- Tool: a named function with JSON Schema parameters that a model can call.
- ToolError: raised by a tool for a clean error result shown to the model.
- UnknownToolError: a tool name that is not registered.
- ToolRegistry: the tools by name, and their specs for a provider.
- argument: reads one typed argument of a call, or raises ToolError.
- SearchHit: what a search over the user's messages gives a tool.
"""

import uuid
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from src.core.enums import MessageRole
from src.lib.llm.types import ToolSpec


class SearchHit(Protocol):
    """One of the user's messages found by `ToolContext.search_messages`."""

    @property
    def id(self) -> uuid.UUID:
        """The message's id."""

    @property
    def chat_id(self) -> uuid.UUID:
        """Its chat's id."""

    @property
    def role(self) -> MessageRole:
        """Who wrote it."""

    @property
    def text(self) -> str:
        """Its text."""

    @property
    def created_at(self) -> datetime:
        """When it was written."""


@dataclass(frozen=True, slots=True)
class ToolContext:
    """The caller of a tool.

    Attributes:
        user_id: The user whose reply is being generated.
        search_messages: `(query, limit)` -> that user's own matching messages; tools reach
            user data only through it.
    """

    user_id: uuid.UUID
    search_messages: Callable[[str, int], Awaitable[Sequence[SearchHit]]]


class ToolError(Exception):
    """A tool refused or failed cleanly; its message is given to the model as the result."""


class UnknownToolError(ValueError):
    """A tool name that is not registered.

    Attributes:
        name: The unknown name.
    """

    def __init__(self, name: str) -> None:
        super().__init__(f"Unknown tool: {name}")
        self.name = name


class Tool(ABC):
    """A function a model can call.

    Attributes:
        name: The name the model calls it by.
        description: What it does, for the model and for `Query.tools`.
        parameters: JSON Schema of its arguments object.
    """

    name: str
    description: str
    parameters: dict[str, Any]

    @abstractmethod
    async def run(self, arguments: dict[str, Any], context: ToolContext) -> Any:
        """Run the tool.

        Args:
            arguments: The arguments the model sent (not validated against the schema).
            context: The caller.

        Returns:
            A JSON-serialisable result.

        Raises:
            ToolError: For a clean error result (bad arguments, refused input, ...).
        """

    def spec(self) -> ToolSpec:
        """The tool as described to a model."""
        return ToolSpec(self.name, self.description, self.parameters)


def argument[T](arguments: dict[str, Any], name: str, kind: type[T], default: T | None = None) -> T:
    """One argument of a call, checked for its type.

    Args:
        arguments: The call's arguments.
        name: The argument's name.
        kind: Its expected type (`int` refuses booleans).
        default: The value when absent; None makes the argument required.

    Returns:
        The argument's value.

    Raises:
        ToolError: The argument is missing or of another type.
    """
    value = arguments.get(name, default)
    if value is None:
        raise ToolError(f"Missing argument: {name}")
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ToolError(f"Argument {name} must be of type {kind.__name__}")
    return value


class ToolRegistry:
    """The tools a model may be offered, by name, in registration order."""

    def __init__(self) -> None:
        self._tools: dict[str, Tool] = {}

    def register(self, tool: Tool) -> None:
        """Add a tool.

        Raises:
            ValueError: A tool of that name is already registered.
        """
        if tool.name in self._tools:
            raise ValueError(f"Tool already registered: {tool.name}")
        self._tools[tool.name] = tool

    def specs(self, names: list[str] | None = None) -> list[ToolSpec]:
        """The specs of some tools.

        Args:
            names: The tools wanted, in the order given; None for all of them.

        Returns:
            Their specs.

        Raises:
            UnknownToolError: A name is not registered.
        """
        if names is None:
            return [tool.spec() for tool in self._tools.values()]
        specs = []
        for name in dict.fromkeys(names):
            tool = self._tools.get(name)
            if tool is None:
                raise UnknownToolError(name)
            specs.append(tool.spec())
        return specs

    def get(self, name: str) -> Tool | None:
        """The tool of that name, if registered."""
        return self._tools.get(name)

    def all(self) -> list[Tool]:
        """Every registered tool."""
        return list(self._tools.values())

"""GraphQL types of what generates replies: models and tools."""

from typing import Self

import strawberry

from src.api.common.types import JSON
from src.lib.llm.tools.registry import Tool as ToolModel
from src.lib.llm.types import ModelInfo


@strawberry.type
class ChatModel:
    """A model that can write replies."""

    id: strawberry.ID
    name: str
    provider: str
    supports_tools: bool
    is_default: bool

    @classmethod
    def from_info(cls, info: ModelInfo, default_model: str) -> Self:
        """Build from the catalog's description."""
        return cls(
            id=strawberry.ID(info.id),
            name=info.name,
            provider=info.provider,
            supports_tools=info.supports_tools,
            is_default=info.id == default_model,
        )


@strawberry.type
class Tool:
    """A tool the model may call."""

    name: str
    description: str
    parameters: JSON = strawberry.field(description="JSON Schema of the tool's arguments.")

    @classmethod
    def from_tool(cls, tool: ToolModel) -> Self:
        """Build from the registry's tool."""
        return cls(name=tool.name, description=tool.description, parameters=JSON(tool.parameters))

"""Model providers behind one interface, the tools a model can call, and the agent loop.

This package knows nothing of the database, Strawberry or HTTP serving.

Modules:
- types: the plain data shared by all (messages, tool specs and calls, provider events).
- provider: the `Provider` interface and `ProviderError`.
- demo: the offline `demo` model. openai_compat: any OpenAI-compatible server.
- catalog: the models offered, built from the settings.
- tools: the tool registry and the built-in tools.
- agent: the loop that streams a model and runs its tools.
- history: the thread of stored messages turned into what the model sees.
"""

from src.lib.llm.agent import (
    AgentEvent,
    AgentFinished,
    ToolCallFinished,
    ToolCallStarted,
    run_agent,
)
from src.lib.llm.catalog import ModelCatalog, UnknownModelError
from src.lib.llm.history import build_history
from src.lib.llm.provider import Provider, ProviderError
from src.lib.llm.tools import (
    Tool,
    ToolContext,
    ToolError,
    ToolRegistry,
    UnknownToolError,
    default_registry,
)
from src.lib.llm.types import (
    ChatMessage,
    GenerationOptions,
    ModelInfo,
    ProviderEvent,
    ProviderFinish,
    TextChunk,
    ToolCallRequest,
    ToolSpec,
    Usage,
)

__all__ = [
    "AgentEvent",
    "AgentFinished",
    "ChatMessage",
    "GenerationOptions",
    "ModelCatalog",
    "ModelInfo",
    "Provider",
    "ProviderError",
    "ProviderEvent",
    "ProviderFinish",
    "TextChunk",
    "Tool",
    "ToolCallFinished",
    "ToolCallRequest",
    "ToolCallStarted",
    "ToolContext",
    "ToolError",
    "ToolRegistry",
    "ToolSpec",
    "UnknownModelError",
    "UnknownToolError",
    "Usage",
    "build_history",
    "default_registry",
    "run_agent",
]

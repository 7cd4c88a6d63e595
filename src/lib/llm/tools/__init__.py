"""Tools a model can call, and the registry that offers them.

Offers:
- Tool, ToolContext, ToolError, ToolRegistry, UnknownToolError (from `registry`).
- CalculatorTool, CurrentTimeTool, SearchChatsTool: the built-in tools.
- default_registry: a new registry holding the built-in tools.
"""

from src.lib.llm.tools.calculator import CalculatorTool
from src.lib.llm.tools.current_time import CurrentTimeTool
from src.lib.llm.tools.registry import (
    Tool,
    ToolContext,
    ToolError,
    ToolRegistry,
    UnknownToolError,
)
from src.lib.llm.tools.search_chats import SearchChatsTool

__all__ = [
    "CalculatorTool",
    "CurrentTimeTool",
    "SearchChatsTool",
    "Tool",
    "ToolContext",
    "ToolError",
    "ToolRegistry",
    "UnknownToolError",
    "default_registry",
]


def default_registry() -> ToolRegistry:
    """A new registry with the built-in tools: current_time, calculator, search_chats."""
    registry = ToolRegistry()
    for tool in (CurrentTimeTool(), CalculatorTool(), SearchChatsTool()):
        registry.register(tool)
    return registry

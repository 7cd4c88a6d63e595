"""The `search_chats` tool: a search over the caller's own messages.

Offers:
- SearchChatsTool: `{"query": str, "limit": 1..20}` -> `{"results": [...]}`.

It reaches data only through `ToolContext.search_messages`, which the caller scopes to the user
whose reply is being generated.
"""

from typing import Any

from src.lib.llm.tools.registry import SearchHit, Tool, ToolContext, ToolError, argument

MAX_QUERY_CHARS = 200
MAX_LIMIT = 20
DEFAULT_LIMIT = 5
MAX_RESULT_CHARS = 500

PARAMETERS: dict[str, Any] = {
    "type": "object",
    "properties": {
        "query": {
            "type": "string",
            "description": "The text to look for.",
            "minLength": 1,
            "maxLength": MAX_QUERY_CHARS,
        },
        "limit": {
            "type": "integer",
            "description": "How many messages to return at most.",
            "minimum": 1,
            "maximum": MAX_LIMIT,
            "default": DEFAULT_LIMIT,
        },
    },
    "required": ["query"],
    "additionalProperties": False,
}


class SearchChatsTool(Tool):
    """Finds the user's past messages that match a query."""

    name = "search_chats"
    description = "Search the user's own earlier chat messages for a text."
    parameters = PARAMETERS

    async def run(self, arguments: dict[str, Any], context: ToolContext) -> Any:
        """Search the caller's messages.

        Raises:
            ToolError: The query is empty or too long, or the limit is out of range.
        """
        query = argument(arguments, "query", str).strip()
        limit = argument(arguments, "limit", int, DEFAULT_LIMIT)
        if not query or len(query) > MAX_QUERY_CHARS:
            raise ToolError(f"The query must have 1 to {MAX_QUERY_CHARS} characters")
        if not 1 <= limit <= MAX_LIMIT:
            raise ToolError(f"The limit must be between 1 and {MAX_LIMIT}")
        hits = await context.search_messages(query, limit)
        return {"results": [_result(hit) for hit in hits[:limit]]}


def _result(hit: SearchHit) -> dict[str, Any]:
    return {
        "chatId": str(hit.chat_id),
        "messageId": str(hit.id),
        "role": hit.role.value,
        "text": hit.text[:MAX_RESULT_CHARS],
        "createdAt": hit.created_at.isoformat(),
    }

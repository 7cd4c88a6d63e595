"""The `current_time` tool: the time now in an IANA time zone.

Offers:
- CurrentTimeTool: `{"timezone": "Europe/Paris"}` -> `{"timezone", "iso"}`.
"""

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from src.lib.llm.tools.registry import Tool, ToolContext, ToolError, argument

ZONE_NAME = re.compile(r"[A-Za-z0-9_+\-]{1,32}(?:/[A-Za-z0-9_+\-]{1,32}){0,2}")

PARAMETERS: dict[str, Any] = {
    "type": "object",
    "properties": {
        "timezone": {
            "type": "string",
            "description": "IANA time zone name, for example Europe/Paris.",
            "default": "UTC",
        }
    },
    "additionalProperties": False,
}


class CurrentTimeTool(Tool):
    """Tells the current date and time."""

    name = "current_time"
    description = "Get the current date and time in an IANA time zone (default UTC)."
    parameters = PARAMETERS

    async def run(self, arguments: dict[str, Any], context: ToolContext) -> Any:
        """The time now in `arguments["timezone"]`.

        Raises:
            ToolError: The zone is not a known IANA name.
        """
        name = argument(arguments, "timezone", str, "UTC").strip() or "UTC"
        if not ZONE_NAME.fullmatch(name):
            raise ToolError("Not an IANA time zone name")
        try:
            zone = ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError, OSError) as error:
            raise ToolError(f"Unknown time zone: {name}") from error
        return {"timezone": name, "iso": datetime.now(zone).isoformat(timespec="seconds")}

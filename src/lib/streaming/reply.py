"""The reply being generated: its parts as they grow, and the seq of its events.

Kept apart from the manager so the per-token path (`add_text`) stays a list append.
"""

import asyncio
import uuid
from dataclasses import dataclass, field
from typing import Any

from src.core.enums import ToolCallState
from src.lib.metrics import ReplyMeter
from src.lib.parts import text_of


@dataclass(slots=True)
class ReplyState:
    """Parts of an assistant message under construction, the next event seq, and its meter."""

    message_id: uuid.UUID
    next_seq: int = 0
    _parts: list[dict[str, Any]] = field(default_factory=list)
    saving: asyncio.Lock = field(default_factory=asyncio.Lock)
    """Held while the parts are saved, so that saves land in the order their parts were taken."""
    _text_chunks: list[str] = field(default_factory=list)
    meter: ReplyMeter = field(default_factory=ReplyMeter)

    def take_seq(self) -> int:
        """The seq for the next event."""
        seq = self.next_seq
        self.next_seq += 1
        return seq

    def add_text(self, text: str) -> None:
        """Append streamed text to the current text part."""
        self._text_chunks.append(text)
        self.meter.text()

    def add_part(self, part: dict[str, Any]) -> None:
        """Append a tool call or tool result part (closing the current text part)."""
        self._close_text()
        self._parts.append(part)

    def set_tool_state(self, tool_call_id: str, state: ToolCallState) -> None:
        """Set the state of the tool_call part of a call (replaced, not changed in place)."""
        for index, part in enumerate(self._parts):
            if part["type"] == "tool_call" and part["tool_call_id"] == tool_call_id:
                self._parts[index] = part | {"state": state.value}

    def parts(self) -> list[dict[str, Any]]:
        """All parts so far, the open text part included."""
        self._close_text()
        return list(self._parts)

    def text(self) -> str:
        """All text so far."""
        return text_of(self.parts())

    def _close_text(self) -> None:
        if not self._text_chunks:
            return
        text = "".join(self._text_chunks)
        self._text_chunks.clear()
        if self._parts and self._parts[-1]["type"] == "text":
            self._parts[-1] = {"type": "text", "text": self._parts[-1]["text"] + text}
        else:
            self._parts.append({"type": "text", "text": text})

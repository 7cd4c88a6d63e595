"""Tool calls that wait for the owner's decision: what the agent loop needs to know of them.

Offers:
- ToolDecision: the owner's answer to one waiting call (also its wire format, for brokers).
- Approvals: the tools that wait, and how the loop waits for a decision.
- declined_message: the error a model gets for a declined call.
"""

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from src.lib.llm.types import ToolCallRequest


@dataclass(frozen=True, slots=True)
class ToolDecision:
    """The owner's decision on a tool call that waits for it.

    Attributes:
        tool_call_id: The call decided on.
        approve: True to run the call, False to decline it.
        reason: Why it was declined, told to the model (optional).
    """

    tool_call_id: str
    approve: bool
    reason: str | None = None

    def encode(self) -> str:
        """The decision as compact JSON."""
        return json.dumps([self.tool_call_id, self.approve, self.reason], separators=(",", ":"))

    @classmethod
    def decode(cls, data: str) -> "ToolDecision":
        """The decision encoded by `encode`.

        Raises:
            ValueError: The data is not an encoded decision.
        """
        try:
            tool_call_id, approve, reason = json.loads(data)
        except (TypeError, ValueError) as error:
            raise ValueError(f"not an encoded decision: {data!r:.200}") from error
        return cls(str(tool_call_id), bool(approve), None if reason is None else str(reason))


@dataclass(frozen=True, slots=True)
class Approvals:
    """The tools whose calls wait for the owner, and how to wait for a decision.

    Attributes:
        tools: Names of the tools that wait.
        wait: Waits for the decision on a call (announced before with `needs_approval`).
    """

    tools: frozenset[str]
    wait: Callable[[ToolCallRequest], Awaitable[ToolDecision]]


def declined_message(reason: str | None) -> str:
    """The error result's message for a declined call."""
    declined = "The user declined this tool call"
    return f"{declined}: {reason}" if reason else f"{declined}."

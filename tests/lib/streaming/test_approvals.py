"""The approval gate of one reply: announce, wait, decide, time out, stop."""

import asyncio
import uuid

import pytest

from src.lib.llm.approval import ToolDecision
from src.lib.llm.types import ToolCallRequest
from src.lib.streaming.approvals import ApprovalGate
from src.lib.streaming.events import StreamEvent, ToolApprovalRequested, ToolCallEvent
from src.lib.streaming.reply import ReplyState

CALL = ToolCallRequest("call_1", "calculator", {"expression": "6 * 7"})


class Recorder:
    """The gate's events and the call's state at each save."""

    def __init__(self) -> None:
        self.events: list[StreamEvent] = []
        self.saved_states: list[str] = []
        self.reply = ReplyState(uuid.uuid4())

    async def publish(self, event: StreamEvent) -> None:
        self.events.append(event)

    async def save(self) -> None:
        [call] = [p for p in self.reply.parts() if p["type"] == "tool_call"]
        self.saved_states.append(call["state"])

    def gate(self, timeout: float = 5) -> ApprovalGate:
        return ApprovalGate(self.reply, timeout, self.publish, self.save)


async def test_a_request_announces_the_call_and_saves_it_awaiting_approval() -> None:
    recorder = Recorder()
    await recorder.gate().request(CALL)

    message_id = recorder.reply.message_id
    assert recorder.events == [
        ToolCallEvent(0, message_id, "call_1", "calculator", {"expression": "6 * 7"}),
        ToolApprovalRequested(1, message_id, "call_1", "calculator", {"expression": "6 * 7"}),
    ]
    assert recorder.saved_states == ["AWAITING_APPROVAL"]


@pytest.mark.parametrize(("approve", "state"), [(True, "RUNNING"), (False, "DECLINED")])
async def test_a_decision_releases_the_wait_once(approve: bool, state: str) -> None:
    recorder = Recorder()
    gate = recorder.gate()
    await gate.request(CALL)
    waiting = asyncio.create_task(gate.wait(CALL))

    assert not gate.decide(ToolDecision("call_other", True))
    assert gate.decide(ToolDecision("call_1", approve, "why"))
    assert not gate.decide(ToolDecision("call_1", True))  # already decided
    assert await waiting == ToolDecision("call_1", approve, "why")
    assert recorder.saved_states == ["AWAITING_APPROVAL", state]
    assert not gate.decide(ToolDecision("call_1", True))  # no longer waits


async def test_no_decision_within_the_timeout_is_a_decline() -> None:
    recorder = Recorder()
    gate = recorder.gate(timeout=0.05)
    await gate.request(CALL)

    decision = await gate.wait(CALL)

    assert decision == ToolDecision("call_1", False, "no decision within 0.05 seconds")
    assert recorder.saved_states == ["AWAITING_APPROVAL", "DECLINED"]


async def test_a_cancelled_wait_leaves_the_call_declined() -> None:
    recorder = Recorder()
    gate = recorder.gate()
    await gate.request(CALL)
    waiting = asyncio.create_task(gate.wait(CALL))
    await asyncio.sleep(0)  # the wait begins

    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    [call] = [p for p in recorder.reply.parts() if p["type"] == "tool_call"]
    assert call["state"] == "DECLINED"
    assert not gate.decide(ToolDecision("call_1", True))


def test_a_decision_survives_its_wire_format() -> None:
    for decision in (ToolDecision("c", True), ToolDecision("c 1", False, 'no "way"')):
        assert ToolDecision.decode(decision.encode()) == decision
    with pytest.raises(ValueError, match="not an encoded decision"):
        ToolDecision.decode("{")

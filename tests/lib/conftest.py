"""Fixtures for components kept in this process's memory or in Redis, with the time they use."""

import pytest

from tests.helpers import ExpiryClock, FakeClock


@pytest.fixture(params=["memory", "redis"])
def store(request: pytest.FixtureRequest) -> str:
    """Where the component under test keeps its state: "memory" or "redis"."""
    kind: str = request.param
    return kind


@pytest.fixture
def clock() -> FakeClock:
    """The clock of the test's in-memory components, moved only by the test."""
    return FakeClock()


@pytest.fixture
def expiry_clock(store: str, clock: FakeClock) -> ExpiryClock:
    """The time the component's TTLs run on: `clock` in memory, real time in Redis."""
    return ExpiryClock(clock if store == "memory" else None)

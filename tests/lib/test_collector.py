"""server_collector: startup's objects frozen and rarer collections, for the block only."""

import gc

from src.lib.collector import THRESHOLDS, server_collector


def test_the_collector_is_tuned_in_the_block_and_restored_after() -> None:
    before = gc.get_threshold()
    built_at_startup = [[n] for n in range(10)]  # containers: tracked by the collector
    with server_collector():
        assert gc.get_freeze_count() >= len(built_at_startup)
        assert gc.get_threshold() == THRESHOLDS
    assert gc.get_freeze_count() == 0
    assert gc.get_threshold() == before

"""Issue 13, the items finished later: an overflow storm coalesced (14), log lines for people in the
configured language (8), feedback on long work (9)."""

from __future__ import annotations

from dangan.daemon.storm import LONGEST_WAIT, QUIET_SECONDS, OverflowStorm


# -- 14. one reconcile per overflow storm, not one per overflow ---------------------------------
def test_an_overflow_storm_asks_for_one_reconcile_once_quiet():
    storm = OverflowStorm()
    assert not storm.due(100.0)
    for i in range(1300):  # 1,300 overflows within 0.13 s
        assert storm.overflowed(100.0 + i / 10000)
    assert not storm.due(100.2)  # still storming: wait
    assert storm.due(100.13 + QUIET_SECONDS)
    storm.reconciling(101.0)
    assert not storm.due(200.0)  # covered: nothing more to do
    assert not storm.overflowed(100.9)  # signalled before the reconcile started: it covered that one
    assert not storm.due(200.0)


def test_overflows_during_a_reconcile_ask_for_exactly_one_more():
    storm = OverflowStorm()
    storm.overflowed(10.0)
    storm.reconciling(11.0)
    for i in range(500):  # while it runs
        storm.overflowed(11.5 + i / 1000)
    assert storm.due(12.0 + QUIET_SECONDS)
    storm.reconciling(13.0)
    assert not storm.due(14.0)


def test_a_storm_that_never_calms_is_still_reconciled():
    storm = OverflowStorm()
    at = 50.0
    while at < 50.0 + LONGEST_WAIT:
        storm.overflowed(at)
        assert not storm.due(at)
        at += QUIET_SECONDS / 2
    storm.overflowed(at)
    assert storm.due(at)

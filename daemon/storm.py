"""An inotify overflow storm, coalesced into as few reconciles as are needed.

On an overflow watchdog re-adds its watches and emits synthetic events, which can overflow the
kernel's queue again: one burst of 3,000 files into new folders on a 64-event queue signalled
2,700 overflows. One reconcile per overflow (or per pass that met one) cost seven reconciles and
21 s to converge. A reconcile compares everything that is on disk when it walks, so it covers every
overflow signalled before it started; an overflow while one is pending only pushes it back until
the storm is quiet, and one signalled while it runs asks for exactly one more, after it.
"""

from __future__ import annotations

QUIET_SECONDS = 0.5  # no overflow for this long: the storm is over, reconcile now
LONGEST_WAIT = 5.0  # a storm that never calms is still reconciled this often


class OverflowStorm:
    """When the overflows seen so far call for a reconcile (monotonic seconds throughout)."""

    def __init__(self) -> None:
        self.first = 0.0  # first overflow not yet covered by a reconcile (0: none pending)
        self.last = 0.0  # the latest overflow signalled
        self.covered_until = 0.0  # start of the latest reconcile: overflows before it are covered

    def overflowed(self, at: float) -> bool:
        """Note an overflow signalled at ``at``; False when a reconcile that started later covers it."""
        if at < self.covered_until:
            return False
        self.first = self.first or at
        self.last = max(self.last, at)
        return True

    @property
    def pending(self) -> bool:
        return self.first > 0.0

    def due(self, now: float) -> bool:
        """A reconcile is due: the storm is quiet, or has gone on too long to wait for."""
        return self.pending and (now - self.last >= QUIET_SECONDS or now - self.first >= LONGEST_WAIT)

    def reconciling(self, started: float) -> None:
        """A reconcile starts at ``started``: everything signalled before is covered by it."""
        self.covered_until = started
        self.first = 0.0

"""systemd's watchdog pings and the status file, on a thread of their own.

The worker thread may spend minutes on one piece of work (a start reconcile that finds 100,000 new
files, a burst of that size in one folder). Pings sent from its loop then stop for that long and
systemd kills the service it is meant to protect (WatchdogSec=120 against 141 s between pings),
and status.json freezes. So this thread pings every half WatchdogSec and writes the status every
second, whatever the queue holds.

It still pings only for a worker that is alive: the worker counts as alive while it makes
progress — a pass of its loop (:meth:`Heartbeat.beat`), CPU time, or I/O of the worker thread
(``/proc/self/task/<tid>/stat`` and ``io``, as the stall guard watches the mirror threads). A worker
stuck for WatchdogSec (a hung archive disk, a deadlock) gets no pings and no status writes, and
systemd restarts the service as intended. READY is sent once the watch is up, before the start
reconcile (:meth:`Heartbeat.ready`): the reconcile of a large archive has no bound a start timeout
could match, and events arriving meanwhile are queued, not lost.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from loguru import logger

from dangan.config.messages import t
from dangan.config.words import reason
from dangan.daemon.notify import notify, watchdog_interval

STATUS_EVERY = 1.0  # seconds between status.json writes
STUCK_DEFAULT = 120.0  # seconds without progress before the worker counts as stuck (no watchdog asked)


class Heartbeat:
    """Pings systemd's watchdog and writes the status, on its own thread, while the worker lives."""

    def __init__(self, write_status: Callable[[], None], worker: threading.Thread | None = None) -> None:
        self.write_status = write_status
        self.worker = worker or threading.current_thread()
        self.interval = watchdog_interval()
        # Stuck for WatchdogSec (twice the ping interval): pings stop, systemd acts WatchdogSec later.
        self.stuck_after = 2 * self.interval if self.interval else STUCK_DEFAULT
        self.beats = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._progress: tuple = ()
        self._progress_at = time.monotonic()
        self._stuck_logged = False
        self._last_error = ""

    def beat(self) -> None:
        """The worker finished a pass of its loop (cheap: called every pass)."""
        self.beats += 1

    def ready(self) -> None:
        """Tell systemd the service is up: the watch is set, events are queued from now on."""
        notify(ready=1, status=t("service.ready"))

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="dangan-heartbeat", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """End the thread (before the final status is written, so that it stays the last word)."""
        if self._thread is not None:
            self._stop.set()
            self._thread.join(10)
            self._thread = None

    # -- the thread -----------------------------------------------------------------------------
    def _run(self) -> None:
        tick = min(STATUS_EVERY, self.interval / 2) if self.interval else STATUS_EVERY
        next_ping = next_status = 0.0
        while not self._stop.is_set():
            now = time.monotonic()
            if self.alive(now):
                if self.interval and now >= next_ping:
                    notify(watchdog=1)
                    next_ping = now + self.interval
                if now >= next_status:
                    self._status()
                    next_status = now + STATUS_EVERY
            self._stop.wait(tick)

    def alive(self, now: float) -> bool:
        """Whether the worker made progress within ``stuck_after`` seconds."""
        if not self.worker.is_alive():
            return False
        progress = (self.beats, *_thread_counters(self.worker.native_id))
        if progress != self._progress:
            self._progress, self._progress_at = progress, now
            if self._stuck_logged:
                logger.info(t("log.worker_moving"))
                self._stuck_logged = False
            return True
        if now - self._progress_at < self.stuck_after:
            return True
        if not self._stuck_logged:
            logger.error(t("log.worker_stuck", seconds=f"{now - self._progress_at:.0f}"))
            self._stuck_logged = True
        return False

    def _status(self) -> None:
        try:
            self.write_status()
        except Exception as exc:  # noqa: BLE001 - a full state disk must not end the pings
            error = reason(exc)
            if error != self._last_error:
                logger.warning(t("log.status_unwritten", reason=error))
                self._last_error = error
        else:
            self._last_error = ""


def _thread_counters(native_id: int | None) -> tuple[int, ...]:
    """CPU ticks and I/O counters of one thread of this process (empty where /proc does not say)."""
    if not native_id:
        return ()
    counters: list[int] = []
    try:
        with open(f"/proc/self/task/{native_id}/stat", "rb") as f:
            fields = f.read().rpartition(b")")[2].split()
        counters += [int(fields[11]), int(fields[12])]  # utime, stime (fields 14 and 15 of stat)
    except (OSError, ValueError, IndexError):
        pass
    try:
        with open(f"/proc/self/task/{native_id}/io", "rb") as f:
            counters += [int(line.split()[1]) for line in f]
    except (OSError, ValueError, IndexError):
        pass
    return tuple(counters)

"""Mirror calls with a stall watchdog.

A write to a frozen or hung disk (fsfreeze, a dying USB bridge, a stuck NFS server) blocks in the
kernel and cannot be interrupted: the thread that made it is lost until the disk answers. So the
service never writes to the mirror on its own thread. Each mirror call runs on one helper thread
while the service's thread watches the I/O counters of that helper and of the writing threads a
call starts; when they stop moving for ``stall_seconds`` the call is declared hung
(:class:`MirrorHung`), the mirror counts as unavailable and the service carries on registering
work in the catalog. When the stuck call finally returns, its ``late`` callback records what it
did, and the mirror is tried again.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from loguru import logger

from dangan.config.messages import t

from dangan.store.mirror import MIRROR_THREADS

R = TypeVar("R")
POLL = 0.5  # seconds between looks at a slow call's progress
# Name prefix of every thread doing a mirror call's I/O: the helper, and the writers a call starts
# (Mirror.copy_many). Progress is their I/O summed: the helper may only be waiting for a writer.


class MirrorHung(Exception):
    """A mirror call made no progress for ``stall_seconds``; it is still stuck in the kernel."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"no progress for {seconds:g} s")
        self.reason = f"no progress for {seconds:g} s (disk hung or frozen)"


@dataclass
class Pending:
    """A mirror call submitted to the helper thread; ``outcome`` is (ok, value) once it is known."""

    name: str
    late: Callable[[Any], None] | None
    progress: tuple[int, ...]  # the helper's I/O counters when last seen to move
    changed: float  # monotonic time they last moved
    outcome: tuple[bool, Any] | None = None


class StallGuard:
    """Runs mirror calls on one helper thread, watching that they make progress."""

    def __init__(self, stall_seconds: float) -> None:
        self.stall_seconds = stall_seconds
        # Plain queues, not Futures: one call is in flight at a time, and a queue handoff is several
        # times cheaper than a Future, which matters at one call per mirrored file.
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._results: queue.SimpleQueue = queue.SimpleQueue()
        # A daemon thread: a thread stuck in the kernel must not keep the process from exiting
        # (an executor's threads are joined at exit, so a hung disk would hang the shutdown).
        self._thread: threading.Thread | None = None
        self.stuck = False
        self._late: Callable[[Any], None] | None = None
        self._running: Pending | None = None  # submitted, its result not yet taken from the queue
        self.since = 0.0  # monotonic time the stuck call was declared hung

    def call(self, late: Callable[[Any], None] | None, fn: Callable[..., R], *args: Any, **kwargs: Any) -> R:
        """``fn(*args, **kwargs)`` on the helper thread. Raises MirrorHung when it stalls; ``late`` then
        gets its result (or exception) once it returns, from :meth:`recovered`."""
        return self.result(self.submit(late, fn, *args, **kwargs))

    def submit(self, late: Callable[[Any], None] | None, fn: Callable[..., Any], *args: Any,
               **kwargs: Any) -> "Pending":
        """Start ``fn(*args, **kwargs)`` on the helper thread and return at once, so the caller can
        prepare the next call meanwhile; :meth:`result` waits for it. A call still running is
        waited for first: one call in flight at a time, whatever the callers."""
        if self._running is not None:
            self._finish(self._running)
        if self.stuck:
            raise MirrorHung(self.stall_seconds)
        if self._thread is None:
            self._thread = threading.Thread(target=self._serve, name=MIRROR_THREADS, daemon=True)
            self._thread.start()
        self._jobs.put((fn, args, kwargs))
        self._running = Pending(getattr(fn, "__name__", str(fn)), late, self._progress(), time.monotonic())
        return self._running

    def result(self, pending: "Pending") -> Any:
        """What the submitted call returned (or raised); MirrorHung when it stalled."""
        if pending.outcome is None:
            self._finish(pending)
        ok, value = pending.outcome  # type: ignore[misc]  # set by _finish
        if ok:
            return value
        raise value

    def _finish(self, pending: "Pending") -> None:
        """Wait for the running call, watching that it makes progress (the clock runs from its start)."""
        self._running = None
        while True:
            try:
                pending.outcome = self._results.get(timeout=POLL)
                return
            except queue.Empty:
                now = self._progress()
                if now != pending.progress:
                    pending.progress, pending.changed = now, time.monotonic()
                elif time.monotonic() - pending.changed >= self.stall_seconds:
                    self.stuck, self._late, self.since = True, pending.late, time.monotonic()
                    logger.error(t("log.mirror_stalled", seconds=f"{self.stall_seconds:g}"))
                    pending.outcome = (False, MirrorHung(self.stall_seconds))
                    return

    def recovered(self) -> bool:
        """True when no call is stuck (any stuck call that has returned meanwhile is concluded)."""
        if not self.stuck:
            return True
        try:
            _, outcome = self._results.get_nowait()
        except queue.Empty:
            return False
        late, self.stuck, self._late = self._late, False, None
        logger.info(t("log.mirror_answers", seconds=f"{time.monotonic() - self.since:.1f}"))
        if late is not None:
            late(outcome)
        return True

    def close(self) -> None:
        """Let the helper thread end (a stuck one ends when its call returns, or with the process)."""
        if self._thread is not None:
            self._jobs.put(None)
            self._thread = None

    def _serve(self) -> None:
        while (job := self._jobs.get()) is not None:
            fn, args, kwargs = job
            try:
                self._results.put((True, fn(*args, **kwargs)))
            except BaseException as exc:  # noqa: BLE001 - handed to the caller through the queue
                self._results.put((False, exc))

    def _progress(self) -> tuple[int, ...]:
        """The I/O counters (bytes and syscalls, read and written) of the mirror threads, summed."""
        total: tuple[int, ...] = ()
        for thread in threading.enumerate():
            if not thread.name.startswith(MIRROR_THREADS) or not thread.native_id:
                continue
            try:
                with open(f"/proc/self/task/{thread.native_id}/io") as f:
                    counts = tuple(int(line.split()[1]) for line in f)
            except (OSError, ValueError, IndexError):
                continue  # ended meanwhile
            total = tuple(map(sum, zip(total, counts))) if total else counts
        return total

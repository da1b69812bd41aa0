"""The service is not killed by its own unit (issue 20.4): systemd's watchdog pings, status.json and
READY do not wait for the work queue. Played with the real service, a real notify socket and
``WATCHDOG_USEC`` scaled down (WatchdogSec=2 s) against a burst that takes the worker longer than that."""

from __future__ import annotations

import socket
import threading
import time

import pytest
from makers import TASK
from service_helpers import Running, set_mirror_settings, wait_for

WATCHDOG_SEC = 2.0  # the unit's WatchdogSec, scaled down from 120 s
BURST = 500  # files: the start reconcile needs well over WATCHDOG_SEC for them
LARGE_BURST = 3000  # files written while the service runs: passes of the worker take longer than that


class Listener:
    """Reads the notify socket on a thread of its own and stamps each message as it arrives."""

    def __init__(self, running: Running) -> None:
        self.running = running
        self.messages: list[tuple[float, str]] = []
        self.stopped = False
        running.sock.settimeout(0.05)
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        while not self.stopped:
            try:
                data = self.running.sock.recv(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            self.messages.append((time.monotonic(), data.decode("utf-8")))

    def stamps(self, field: str) -> list[float]:
        return [at for at, text in list(self.messages) if field in text.split("\n")]

    def ready_at(self) -> float | None:
        found = self.stamps("READY=1")
        return found[0] if found else None

    def stop(self) -> None:
        self.stopped = True
        self.thread.join(5)


def largest_gap(stamps: list[float], start: float, end: float) -> float:
    points = [start] + [s for s in stamps if start <= s <= end] + [end]
    return max(b - a for a, b in zip(points, points[1:]))


def mirrored(archive, folder: str) -> int:
    path = archive.mirror / folder
    return sum(1 for p in path.iterdir() if not p.name.startswith(".dangan")) if path.exists() else 0


def burst(archive, folder: str, count: int) -> None:
    for i in range(count):
        archive.write(f"{folder}/第{i:05d}号.txt", f"document {i} ".encode() * 20)


@pytest.fixture
def watched(archive):
    set_mirror_settings(archive)
    started = []

    def start() -> tuple[Running, Listener]:
        running = Running(archive, extra_env={"WATCHDOG_USEC": str(int(WATCHDOG_SEC * 1e6))})
        listener = Listener(running)
        started.append((running, listener))
        return running, listener

    yield start
    for running, listener in started:
        listener.stop()
        if running.proc.poll() is None:
            running.stop()


def test_ready_comes_before_a_long_start_reconcile_and_pings_go_on(watched, archive):
    """A restart that finds a burst of new files (147 s of reconcile against a 90 s start timeout):
    READY is sent before the reconcile, and the watchdog is pinged all through it."""
    folder = f"{TASK}/大批"
    burst(archive, folder, BURST)
    spawned = time.monotonic()
    running, listener = watched()
    ready = wait_for(listener.ready_at, timeout=300)
    on_mirror_at_ready = mirrored(archive, folder)
    wait_for(lambda: mirrored(archive, folder) == BURST, timeout=600, interval=0.2)
    done = time.monotonic()
    assert running.proc.poll() is None, running.output()
    assert on_mirror_at_ready < BURST, "READY waited for the whole start reconcile"
    assert ready - spawned < 30
    gap = largest_gap(listener.stamps("WATCHDOG=1"), ready, done)
    assert gap < WATCHDOG_SEC, f"{gap:.1f} s without a watchdog ping: systemd would kill the service"


def test_pings_and_status_go_on_through_a_burst(watched, archive):
    """100,000 files into one folder left 141 s between pings (WatchdogSec=120) and status.json
    frozen: pings and status do not wait for the queue."""
    running, listener = watched()
    ready = wait_for(listener.ready_at, timeout=300)
    time.sleep(WATCHDOG_SEC)  # the start reconcile of the empty archive is over
    folder = f"{TASK}/大批"
    start = time.monotonic()
    burst(archive, folder, LARGE_BURST)
    wait_for(lambda: mirrored(archive, folder) == LARGE_BURST, timeout=600, interval=0.2)
    done = time.monotonic()
    assert running.proc.poll() is None, running.output()
    assert ready < start
    ping_gap = largest_gap(listener.stamps("WATCHDOG=1"), start, done)
    status_gap = largest_gap([at for at, text in list(listener.messages) if text.startswith("STATUS=")],
                             start, done)
    assert ping_gap < WATCHDOG_SEC, f"{ping_gap:.1f} s without a watchdog ping: systemd would kill it"
    assert status_gap < WATCHDOG_SEC, f"status not refreshed for {status_gap:.1f} s during the burst"


def test_a_stuck_worker_gets_no_pings(tmp_path, monkeypatch):
    """The pings still mean something: a worker with no pass, no CPU and no I/O (blocked, as on a
    hung disk) gets none after WatchdogSec, so systemd restarts the service; they resume with it."""
    from dangan.daemon.heartbeat import Heartbeat

    path = tmp_path / "notify.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(path))
        sock.settimeout(0.05)
        monkeypatch.setenv("NOTIFY_SOCKET", str(path))
        monkeypatch.setenv("WATCHDOG_USEC", "400000")  # WatchdogSec 0.4 s: a ping every 0.2 s
        release = threading.Event()
        worker = threading.Thread(target=release.wait, daemon=True)
        worker.start()
        statuses = []
        heartbeat = Heartbeat(lambda: statuses.append(time.monotonic()), worker)
        heartbeat.start()
        try:
            def pings(seconds: float) -> int:
                count, end = 0, time.monotonic() + seconds
                while time.monotonic() < end:
                    try:
                        count += sock.recv(4096) == b"WATCHDOG=1"
                    except socket.timeout:
                        pass
                return count

            assert pings(0.3) >= 1  # progress seen at the start
            pings(0.5)  # stuck for WatchdogSec: the pings stop
            written = len(statuses)
            assert pings(1.0) == 0
            assert len(statuses) == written  # and the status is not claimed fresh
            heartbeat.beat()  # the worker moves again
            assert pings(0.5) >= 1
        finally:
            heartbeat.stop()
            release.set()

"""Running the real service (`dangan run`, the installed console script) on real folders."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

DANGAN = str(Path(sys.executable).with_name("dangan"))

FAST = """
mirror:
  settle_seconds: 0.3
  reconcile_minutes: 60
  delete_delay_seconds: 0.5
  max_delete_count: {max_delete_count}
  max_delete_share: 0.9
  keep_versions_days: 0
  retry_max_seconds: 2
"""


def wait_for(predicate: Callable[[], object], timeout: float = 20.0, interval: float = 0.05) -> object:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {predicate}")
        time.sleep(interval)


def set_mirror_settings(archive, max_delete_count: int = 500, offsite: bool = False, extra: str = "") -> None:
    """Fast mirror settings; without ``offsite`` no off-site target, so that the service's
    scheduled jobs do not run a backup beside what a test measures. ``extra``: more mirror keys
    (YAML lines indented by two spaces)."""
    text = archive.config.read_text(encoding="utf-8")
    head = text.split("\n# 实时镜像（第二块硬盘）\nmirror:")[0]
    tail = text.split("\n# 恢复演练", 1)[1]
    if not offsite:
        head = "\n".join('  remote: ""' if line.startswith("  remote:") else line for line in head.splitlines())
    archive.config.write_text(head + FAST.format(max_delete_count=max_delete_count) + extra + "\n# 恢复演练" + tail,
                              encoding="utf-8")


class Running:
    """A `dangan run` process, with its systemd notify socket read by the test."""

    def __init__(self, archive, extra_env: dict | None = None, prefix: tuple[str, ...] = ()) -> None:
        self.archive = archive
        self.sock_path = archive.base / f"notify-{time.monotonic_ns()}.sock"
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(self.sock_path))
        self.sock_path.chmod(0o777)  # as systemd's: a service that dropped root can still report
        self.sock.settimeout(0.2)
        self.messages: list[str] = []
        self.log = open(archive.base / "service.log", "ab")
        env = {**os.environ, "NOTIFY_SOCKET": str(self.sock_path), **(extra_env or {})}
        env.pop("JOURNAL_STREAM", None)
        # prefix: a command that execs the service (unshare, setpriv), so proc.pid stays the service's
        self.proc = subprocess.Popen([*prefix, DANGAN, "run", "--config", str(archive.config)], stdout=self.log,
                                     stderr=subprocess.STDOUT, env=env)

    def read_notify(self) -> list[str]:
        while self.sock.fileno() >= 0:
            try:
                self.messages.append(self.sock.recv(4096).decode("utf-8"))
            except (socket.timeout, BlockingIOError):
                break
        return self.messages

    def wait_ready(self, timeout: float = 30.0) -> None:
        def ready() -> bool:
            if self.proc.poll() is not None:
                raise AssertionError(f"service exited with {self.proc.returncode}:\n{self.output()}")
            return any("READY=1" in m for m in self.read_notify())

        wait_for(ready, timeout)

    def output(self) -> str:
        self.log.flush()
        return (self.archive.base / "service.log").read_text(encoding="utf-8", errors="replace")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        finally:
            self.read_notify()
            self.sock.close()
            self.log.close()

    def status(self) -> dict:
        done = subprocess.run([DANGAN, "status", "--config", str(self.archive.config), "--format", "json"],
                              capture_output=True, text=True, timeout=30)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)


def mirror_file(archive, rel: str) -> Path:
    return archive.mirror / rel


def same_on_mirror(archive, rel: str) -> bool:
    source, copy = archive.path(rel), mirror_file(archive, rel)
    try:
        return copy.read_bytes() == source.read_bytes() and copy.stat().st_mtime_ns == source.stat().st_mtime_ns
    except FileNotFoundError:
        return False


def versions(archive, rel: str) -> list[Path]:
    folder = archive.mirror / ".dangan" / "versions" / rel / ".dangan-v"
    return sorted(folder.iterdir()) if folder.exists() else []


def tree_files(root: Path) -> dict[str, bytes]:
    """Every record under root (dangan's own files excluded), relative path -> content."""
    found = {}
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".dangan")]
        for name in files:
            if not name.startswith(".dangan"):
                path = Path(folder) / name
                try:
                    found[str(path.relative_to(root))] = path.read_bytes()
                except FileNotFoundError:
                    continue  # moved away while we looked (the service is working): not there

    return found


def ledger(archive) -> list[tuple[str, str]]:
    with sqlite3.connect(archive.state / "catalog.sqlite") as db:
        return [(e, os.fsdecode(p or b"")) for e, p in db.execute("SELECT event, path FROM ledger ORDER BY id")]


def kill9(running: Running) -> None:
    running.proc.send_signal(signal.SIGKILL)
    running.proc.wait(10)
    running.sock.close()
    running.log.close()

"""Secrets never readable by others nor visible in ps; a clear start-up error when inotify is out."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading

import pytest
from makers import TASK
from service_helpers import DANGAN



@pytest.mark.parametrize("which", ["config", "key"])
def test_service_refuses_secrets_others_can_read(archive, which):
    path = archive.config if which == "config" else archive.config.parent / "offsite.key"
    path.chmod(0o640)
    done = subprocess.run([DANGAN, "run", "--config", str(archive.config)], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2
    assert "chmod 600" in done.stderr and str(path) in done.stderr


def test_passwords_never_on_a_command_line(archive):
    key = json.loads((archive.config.parent / "offsite.key").read_text())
    for i in range(200):
        archive.write(f"{TASK}/{i}.bin", os.urandom(50_000))
    assert subprocess.run([DANGAN, "mirror", "--config", str(archive.config)], capture_output=True).returncode == 0
    seen: list[str] = []
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            seen.append(subprocess.run(["ps", "-eww", "-o", "args"], capture_output=True, text=True).stdout)

    thread = threading.Thread(target=watch)
    thread.start()
    try:
        done = subprocess.run([DANGAN, "backup", "--config", str(archive.config)], capture_output=True, text=True,
                              timeout=300)
    finally:
        stop.set()
        thread.join()
    assert done.returncode == 0, done.stderr
    assert any("rclone" in snapshot for snapshot in seen)  # we did look while rclone ran
    for snapshot in seen:
        assert key["password"] not in snapshot and key["salt"] not in snapshot
    for text in (done.stdout, done.stderr, *[p.read_text(errors="replace") for p in archive.state.rglob("*.txt")]):
        assert key["password"] not in text


def test_inotify_instances_exhausted_is_a_clear_startup_error(archive):
    """max_inotify_instances set to 0 in a user namespace of the service's own: lowering the global
    fs.inotify.max_user_instances would make every other inotify user of this uid fail meanwhile
    (other test runs on a shared machine included)."""
    unshare = ["unshare", "--user", "--map-root-user", "sh", "-c",
               'echo 0 > /proc/sys/user/max_inotify_instances && exec "$0" "$@"']
    if not shutil.which("unshare") or subprocess.run(["unshare", "--user", "--map-root-user", "true"],
                                                      capture_output=True).returncode:
        pytest.skip("needs user namespaces (unshare --user) to lower the inotify instance limit")
    done = subprocess.run([*unshare, DANGAN, "run", "--config", str(archive.config)], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert "max_user_instances" in done.stderr and "Traceback" not in done.stderr

"""systemd's notify protocol (READY, STATUS, WATCHDOG, STOPPING) over $NOTIFY_SOCKET.

Eight lines of stdlib instead of sdnotify, which swallows errors and mangles UTF-8 STATUS text."""

from __future__ import annotations

import os
import socket


def notify(**fields: str | int) -> bool:
    """Send ``READY=1``-style fields; a no-op (False) outside systemd."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return False
    if address.startswith("@"):
        address = "\0" + address[1:]  # abstract namespace socket
    message = "\n".join(f"{key.upper()}={value}" for key, value in fields.items()).encode("utf-8")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
        try:
            # Never wait for the reader: a full socket must not stall the service. A dropped STATUS
            # is replaced a second later; systemd reads READY and WATCHDOG promptly.
            sock.sendto(message, socket.MSG_DONTWAIT, address)
        except (BlockingIOError, ConnectionRefusedError, FileNotFoundError):
            return False
    return True


def watchdog_interval() -> float | None:
    """Half the WatchdogSec systemd asks pings for, in seconds (None: not asked)."""
    usec = os.environ.get("WATCHDOG_USEC")
    pid = os.environ.get("WATCHDOG_PID")
    if not usec or (pid and int(pid) != os.getpid()):
        return None
    return int(usec) / 2e6

"""sd_notify over a real unix datagram socket: UTF-8 intact, and never blocking the service."""

from __future__ import annotations

import socket
import time

import pytest

from dangan.daemon.notify import notify


def test_status_in_chinese_arrives_intact(tmp_path, monkeypatch):
    path = tmp_path / "notify.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(path))
        monkeypatch.setenv("NOTIFY_SOCKET", str(path))
        assert notify(ready=1, status="正在监视档案目录")
        assert sock.recv(4096).decode("utf-8") == "READY=1\nSTATUS=正在监视档案目录"


@pytest.mark.faults  # also a case of the fault suite (issue 7)
def test_a_reader_that_never_reads_cannot_stall_the_service(tmp_path, monkeypatch):
    path = tmp_path / "notify.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(path))
        monkeypatch.setenv("NOTIFY_SOCKET", str(path))
        started = time.monotonic()
        sent = [notify(status="x" * 200) for _ in range(5000)]
        assert time.monotonic() - started < 10
        assert not all(sent)  # the queue filled up and messages were dropped instead of waiting


def test_outside_systemd_it_is_a_no_op(monkeypatch):
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    assert notify(ready=1) is False

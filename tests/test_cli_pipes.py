"""Output into a pipe whose reader has gone (`dangan rules | head -1`) ends quietly, as Unix tools do:
no traceback, no "internal error", no exit 3; the command still does its work and exits with its own
code. Real processes and real pipes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

DANGAN = str(Path(sys.executable).with_name("dangan"))


def _into_closed_pipe(*args: str) -> tuple[int, str]:
    """Run dangan with stdout a pipe whose reading end is already closed (the earliest `head`)."""
    read, write = os.pipe()
    os.close(read)
    try:
        done = subprocess.run([DANGAN, *args], stdout=write, stderr=subprocess.PIPE, timeout=120)
    finally:
        os.close(write)
    return done.returncode, done.stderr.decode("utf-8", "replace")


def _unpiped(*args: str) -> int:
    """The exit code of the same command with its output read to the end (into /dev/null)."""
    return subprocess.run([DANGAN, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                          timeout=120).returncode


def _through_head(*args: str) -> tuple[int, str, str]:
    """``dangan ARGS | head -1``, the reader closing after its first line."""
    dangan = subprocess.Popen([DANGAN, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    head = subprocess.run(["head", "-1"], stdin=dangan.stdout, capture_output=True, timeout=120)
    dangan.stdout.close()
    err = dangan.stderr.read().decode("utf-8", "replace")
    dangan.stderr.close()
    return dangan.wait(timeout=120), err, head.stdout.decode("utf-8", "replace")


def _quiet(code: int, err: str, allowed: set[int]) -> None:
    assert code in allowed, (code, err)
    assert "Traceback" not in err and "BrokenPipe" not in err and "内部错误" not in err, err
    assert "Exception ignored" not in err, err


def test_rules_into_a_closed_pipe(tmp_path):
    code, err = _into_closed_pipe("rules", "--config", str(tmp_path / "none.yaml"))
    _quiet(code, err, {0})


def test_init_into_a_closed_pipe_still_sets_up(tmp_path):
    config = tmp_path / "etc/config.yaml"
    code, err = _into_closed_pipe("init", "--config", str(config), "--archive-root", str(tmp_path / "a"),
                                  "--mirror-root", str(tmp_path / "m"), "--state-dir", str(tmp_path / "s"))
    _quiet(code, err, {0})
    assert config.exists() and (tmp_path / "s/catalog.sqlite").exists()
    assert (config.parent / "offsite.key").exists()  # saved before the recovery sheet is printed


@pytest.mark.parametrize("command", ["check", "audit"])
def test_reading_commands_into_a_closed_pipe(archive, command):
    for i in range(30):
        folder = archive.root / "01办公室" / f"任务{i:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "说明.txt").write_text("x", encoding="utf-8")
    expected = _unpiped(command, "--config", str(archive.config))
    code, err = _into_closed_pipe(command, "--config", str(archive.config))
    _quiet(code, err, {expected})


@pytest.mark.parametrize("command", ["rules", "check", "audit", "status"])
def test_head_reads_the_first_line(archive, command):
    code, err, first = _through_head(command, "--config", str(archive.config))
    _quiet(code, err, {_unpiped(command, "--config", str(archive.config))})
    assert first.strip()

"""Issue 13, the items finished later: an overflow storm coalesced (14), log lines for people in the
configured language (8), feedback on long work (9)."""

from __future__ import annotations

import ast
import errno
import json
import io
import os
import pty
import re
import select
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from loguru import logger
from makers import TASK
from service_helpers import DANGAN

from dangan.config import words
from dangan.config.messages import set_language
from dangan.daemon.backoff import PathBackoff
from dangan.store.progress import QUIET, Progress, duration
from dangan.daemon.storm import LONGEST_WAIT, QUIET_SECONDS, OverflowStorm

ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Captured:
    lines: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@pytest.fixture
def zh_log():
    """What loguru logs while the language is zh."""
    captured = Captured()
    set_language("zh")
    sink = logger.add(lambda message: captured.lines.append(str(message)), level="DEBUG", format="{message}")
    try:
        yield captured
    finally:
        logger.remove(sink)


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


# -- 8. log lines for people follow `language`: none is a literal English string -----------------
PEOPLE_LEVELS = {"info", "success", "warning", "error", "critical", "exception"}


def _literal_log_lines(root: Path) -> list[str]:
    """logger calls above DEBUG whose message is written in the code instead of taken from
    config/messages.py (a bare "{}" carrying a t(...) is fine)."""
    found = []
    for folder in ("daemon", "backup", "store", "rules", "registers", "cli"):
        for source in sorted((root / folder).rglob("*.py")):
            tree = ast.parse(source.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                        and isinstance(node.func.value, ast.Name) and node.func.value.id == "logger"
                        and node.func.attr in PEOPLE_LEVELS and node.args):
                    continue
                first = node.args[0]
                literal = isinstance(first, ast.JoinedStr) or (
                    isinstance(first, ast.Constant) and isinstance(first.value, str) and first.value != "{}")
                if literal:
                    found.append(f"{source.relative_to(root)}:{node.lineno}")
    return found


def test_no_log_line_for_people_is_literal_english():
    assert _literal_log_lines(ROOT) == []


def test_the_literal_log_line_check_can_fail(tmp_path):
    (tmp_path / "daemon").mkdir()
    (tmp_path / "daemon" / "x.py").write_text('logger.warning("mirror copy of {} failed", p)\n'
                                              'logger.debug("internal {}", p)\nlogger.info(t("log.x"))\n')
    assert _literal_log_lines(tmp_path) == ["daemon/x.py:1"]


def test_a_failed_mirror_copy_is_logged_in_chinese(zh_log):
    backoff = PathBackoff(2)
    backoff.failed(b"01\\xe5/a.pdf", words.os_error(OSError(errno.ENOSPC, "No space left on device")))
    backoff.succeeded(b"01\\xe5/a.pdf")
    assert "复制到镜像盘失败" in zh_log.text and "磁盘已满" in zh_log.text and "之前失败后已成功复制" in zh_log.text
    assert "No space" not in zh_log.text and "mirror copy" not in zh_log.text


# -- 9. feedback on long work: one progress library ---------------------------------------------
class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_in_a_log_is_a_plain_line_in_the_configured_language():
    set_language("zh")
    lines: list[str] = []
    shown = Progress("核验副本", 4, 4 << 20, line=lines.append, every=0)
    shown.advance(1, 1 << 20)
    shown.advance(2, 2 << 20)
    shown.close()
    assert lines[0].startswith("核验副本：1/4 个文件，1.0 MB/4.0 MB，每秒 ") and "预计还需 " in lines[0]
    assert lines[1].startswith("核验副本：3/4 个文件，3.0 MB/4.0 MB")
    assert lines[-1].startswith("核验副本完成：3 个文件 3.0 MB，用时 ")
    assert not re.search(r"[A-Za-z]{3,}", "".join(lines))  # no English words: units (MB) only


def test_progress_lines_come_every_few_seconds_not_per_file():
    lines: list[str] = []
    shown = Progress("检查", 10_000, line=lines.append, every=3600)
    for _ in range(10_000):
        shown.advance()
    shown.close()
    assert lines == []  # short work: nothing but the command's own result


def test_progress_on_a_terminal_is_a_bar_with_counts_bytes_rate_and_time_left():
    set_language("zh")
    terminal = _Terminal()
    shown = Progress("复制到镜像盘", 3, 3 << 20, terminal=terminal)
    shown.advance(1, 1 << 20)
    time.sleep(0.01)  # rich's rate needs two samples apart in time
    shown.advance(1, 1 << 20)
    shown.bar.refresh()
    drawn = terminal.getvalue()
    shown.close()
    assert "复制到镜像盘" in drawn and "2/3" in drawn and "2.0/3.0 MiB" in drawn
    assert re.search(r"\d+(\.\d+)? [kMG]?B/s", drawn) and re.search(r"\d:\d\d:\d\d|-:--:--", drawn)


def test_progress_follows_a_count_kept_elsewhere():
    lines: list[str] = []
    shown = Progress("传送到异地", sized=True, line=lines.append, every=0)
    shown.to(3, 3000, 10, 10_000)
    shown.to(7, 7000, 10, 10_000)
    assert (shown.done, shown.bytes, shown.total, shown.total_bytes) == (7, 7000, 10, 10_000)
    assert "7/10" in lines[-1]


def test_durations_are_in_words():
    set_language("zh")
    assert (duration(45), duration(200), duration(7500)) == ("45 秒", "3 分 20 秒", "2 小时 5 分")


def _on_a_terminal(argv: list[str], timeout: float = 60) -> str:
    """What a command draws when its output is a terminal (a pseudo-terminal read to the end)."""
    master, slave = pty.openpty()
    process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=slave, stderr=slave)
    os.close(slave)
    chunks = []
    try:
        while select.select([master], [], [], timeout)[0]:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the last writer closed it
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(master)
        process.wait(timeout)
    return b"".join(chunks).decode("utf-8", "replace")


def test_dangan_mirror_shows_its_copies_on_a_terminal(archive):
    for i in range(300):
        archive.write(f"{TASK}/{i:03d}.txt", b"x" * 1000)
    drawn = _on_a_terminal([DANGAN, "mirror", "--config", str(archive.config)])
    assert "复制到镜像盘" in drawn and "/300" in drawn and "KiB" in drawn, drawn[-2000:]
    assert "完整核对" in drawn  # and the result after it


def test_the_offsite_transfer_progress_is_dangans_own_in_chinese(tmp_path):
    source = tmp_path / "stage"
    (source / "data").mkdir(parents=True)
    names = [f"data/{i:03d}" for i in range(50)]
    for name in names:
        (source / name).write_bytes(os.urandom(20_000))
    (tmp_path / "list.txt").write_text("".join(n + "\n" for n in names), encoding="ascii")
    script = "\n".join([
        "from pathlib import Path",
        "from dangan.backup.rclone import CRYPT, Rclone, obscure",
        "from dangan.config.messages import set_language",
        "set_language('zh')",
        f"partner = Rclone({str(tmp_path / 'partner')!r}, obscure('pw'), obscure('salt'))",
        f"partner.transfer({str(source)!r}, CRYPT + ':', Path({str(tmp_path / 'list.txt')!r}), [], 60, True)"])
    drawn = _on_a_terminal([sys.executable, "-c", script])
    assert "传送到异地" in drawn, drawn[-2000:]
    assert "Shipping" not in drawn and " to " not in drawn
    assert len(list((tmp_path / "partner").rglob("*"))) >= 50  # and it did ship


def test_a_scheduled_job_prints_no_progress(monkeypatch):
    """The service reads a job's stderr for its failure's reason, once the job ended: progress lines
    there would hide the reason, and fill the pipe on a long audit."""
    assert Progress.for_command("核验副本").line is not None
    monkeypatch.setenv(QUIET, "1")
    shown = Progress.for_command("核验副本")
    assert shown.line is None and shown.bar is None


# -- found on the way: a drill of the partner on a record filed since the last off-site run -----
def _dangan(archive, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([DANGAN, *args, "--config", str(archive.config)], capture_output=True, text=True,
                          timeout=120)


def test_the_partner_is_drilled_on_what_it_was_sent(archive):
    """A file filed after the night's off-site run is not at the partner yet: the monthly drill
    failed on it (合作单位处缺少该内容) although the partner's copy was whole."""
    archive.write(f"{TASK}/20210205会议纪要.txt", b"minutes")
    assert _dangan(archive, "mirror").returncode == 0
    assert _dangan(archive, "backup").returncode == 0
    archive.write(f"{TASK}/20210206会议纪要.txt", b"filed later")
    assert _dangan(archive, "mirror").returncode == 0
    drill = _dangan(archive, "drill", "--format", "json")
    results = {r["source"]: r for r in json.loads(drill.stdout)}
    assert drill.returncode == 0, drill.stdout + drill.stderr
    assert results["mirror"]["files"] == 2 and results["offsite"]["files"] == 1
    assert results["offsite"]["ok"] and not results["offsite"]["failures"]


def test_the_offsite_transfer_in_a_pipe_or_log_gives_plain_lines_from_rclones_stats(tmp_path):
    from dangan.backup.rclone import CRYPT, Rclone, RcloneError, obscure

    set_language("zh")
    (tmp_path / "stage" / "data").mkdir(parents=True)
    for i in range(3):
        (tmp_path / "stage" / "data" / f"{i}").write_bytes(os.urandom(100_000))
    listing = tmp_path / "list.txt"
    listing.write_text("data/0\ndata/1\ndata/2\n", encoding="ascii")
    lines: list[str] = []
    shown = Progress("传送到异地", 3, 300_000, line=lines.append, every=0)
    partner = Rclone(str(tmp_path / "partner"), obscure("pw"), obscure("salt"))
    partner.start_transfer(str(tmp_path / "stage"), f"{CRYPT}:", listing, ["--stats-one-line"], False,
                           shown=shown).wait(60)
    assert lines and lines[-1].startswith("传送到异地：3/3 个文件，293 KB/293 KB"), lines
    assert len(list((tmp_path / "partner").rglob("*"))) >= 3
    # a failure still says rclone's reason, not an exit code (its log is JSON now)
    (tmp_path / "blocked").write_bytes(b"a file where the partner's folder should be")
    blocked = Rclone(str(tmp_path / "blocked"), obscure("pw"), obscure("salt"))
    with pytest.raises(RcloneError) as failed:
        blocked.start_transfer(str(tmp_path / "stage"), f"{CRYPT}:", listing, [], False,
                               shown=Progress("传送到异地", 3, line=lines.append, every=0)).wait(60)
    assert failed.value.reason and "exit" not in failed.value.reason, failed.value.reason

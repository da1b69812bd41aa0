"""Issue 13, the items finished later: an overflow storm coalesced (14), log lines for people in the
configured language (8), feedback on long work (9)."""

from __future__ import annotations

import ast
import errno
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from loguru import logger

from dangan.config import words
from dangan.config.messages import set_language
from dangan.daemon.backoff import PathBackoff
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

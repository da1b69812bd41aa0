"""Feedback on long work, the one way every long command and the service give it.

On a terminal: a live bar (rich) with files done of all, bytes, rate and time left, on stderr, so
that stdout stays the command's result (a pipe gets no bar characters). Elsewhere (a pipe, a log,
the service's journal): a plain line every few seconds and one at the end, in the configured
language. The words come from config/messages.py; rich draws only numbers and units.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from typing import TextIO

from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, TextColumn, TimeRemainingColumn, TransferSpeedColumn
from rich.progress import Progress as Bar

from dangan.config.messages import t

EVERY_SECONDS = 5.0  # a plain line this often while the work goes on
QUIET = "DANGAN_NO_PROGRESS"  # set by the service for its scheduled jobs: their stderr carries only the reason


def human_size(n: int | float) -> str:
    """Bytes as a person reads them (binary multiples, as file managers show them): 72 KB, 1.5 GB."""
    value = float(n or 0)
    unit = "B"
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(value) < 1024 or unit == "TB":
            break
        value /= 1024
    if unit == "B":
        return f"{int(value)} B"
    return f"{value:.1f} {unit}" if abs(value) < 10 else f"{value:.0f} {unit}"


def duration(seconds: float) -> str:
    """A span of time in the reader's words: 45 秒, 3 分 20 秒, 2 小时 5 分."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return t("progress.seconds", s=seconds)
    if seconds < 3600:
        return t("progress.minutes", m=seconds // 60, s=seconds % 60)
    return t("progress.hours", h=seconds // 3600, m=seconds % 3600 // 60)


class Progress:
    """How far one long piece of work is: ``advance`` as files are done, ``close`` at the end.

    ``what`` names the work for people ("核对档案"); ``total`` files and ``total_bytes`` bytes
    (``sized``: bytes are counted, also when the total is found as the work goes, see :meth:`more`).
    ``line``: where plain lines go (None: nowhere); a bar is drawn instead when ``terminal`` is a
    terminal."""

    def __init__(self, what: str, total: int = 0, total_bytes: int = 0, *, sized: bool = False,
                 line: Callable[[str], None] | None = None, terminal: TextIO | None = None,
                 every: float = EVERY_SECONDS) -> None:
        self.what, self.total, self.total_bytes = what, total, total_bytes
        self.sized = sized or total_bytes > 0
        self.done = self.bytes = 0
        self.line = line
        self.every = every
        self.started = self.last_line = time.monotonic()
        self.bar: Bar | None = None
        if terminal is not None and terminal.isatty():
            # With bytes the bar measures bytes (rich's size, rate and time-left columns read the
            # task's completed/total); the files are a field of their own.
            columns = [TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[files]}")]
            if self.sized:
                columns += [DownloadColumn(binary_units=True), TransferSpeedColumn(), TimeRemainingColumn()]
            self.bar = Bar(*columns, console=Console(file=terminal), transient=True)
            self.task = self.bar.add_task(what, total=self._bar_total(), files=f"{self.done}/{total}")
            self.bar.start()

    @classmethod
    def for_command(cls, what: str, total: int = 0, total_bytes: int = 0, *, sized: bool = False,
                    enabled: bool = True) -> "Progress":
        """A command's progress on stderr: a bar on a terminal, plain lines in a pipe or log."""
        if not enabled or os.environ.get(QUIET):
            return cls(what, total, total_bytes, sized=sized)
        return cls(what, total, total_bytes, sized=sized, line=_to_stderr, terminal=sys.stderr)

    def _bar_total(self) -> int:
        return self.total_bytes if self.sized else self.total

    def more(self, files: int, size: int = 0) -> None:
        """More work found while it goes on (a walk that feeds the workers as it finds files)."""
        self.total += files
        self.total_bytes += size
        if self.bar is not None:
            self.bar.update(self.task, total=self._bar_total(), files=f"{self.done}/{self.total}")

    def to(self, done: int, size: int, total: int, total_bytes: int) -> None:
        """Where the work stands as another program counts it (rclone's stats)."""
        self.total, self.total_bytes = max(total, self.total), max(total_bytes, self.total_bytes)
        if self.bar is not None:
            self.bar.update(self.task, total=self._bar_total())
        self.advance(done - self.done, size - self.bytes)

    def advance(self, files: int = 1, size: int = 0) -> None:
        self.done += files
        self.bytes += size
        if self.bar is not None:
            self.bar.update(self.task, completed=self.bytes if self.sized else self.done,
                            files=f"{self.done}/{self.total}")
            return
        now = time.monotonic()
        if self.line is not None and now - self.last_line >= self.every:
            self.last_line = now
            self.line(self.text())

    def text(self) -> str:
        """Where the work stands, in one line."""
        elapsed = max(time.monotonic() - self.started, 1e-6)
        parts = [t("progress.count", what=self.what, done=self.done, total=self.total)]
        if self.sized:
            parts.append(t("progress.bytes", done=human_size(self.bytes), total=human_size(self.total_bytes),
                           rate=human_size(self.bytes / elapsed)))
            if 0 < self.bytes < self.total_bytes:
                parts.append(t("progress.left", left=duration((self.total_bytes - self.bytes) * elapsed / self.bytes)))
        elif 0 < self.done < self.total:
            parts.append(t("progress.left", left=duration((self.total - self.done) * elapsed / self.done)))
        return t("progress.sep").join(parts)

    def close(self) -> None:
        """The end: the bar goes away; a plain line says what was done when lines were written."""
        if self.bar is not None:
            self.bar.stop()
            self.bar = None
        elif self.line is not None and time.monotonic() - self.started >= self.every:
            self.line(t("progress.done", what=self.what, done=self.done,
                        size=human_size(self.bytes) if self.sized else "",
                        seconds=duration(time.monotonic() - self.started)))

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _to_stderr(text: str) -> None:
    try:
        print(text, file=sys.stderr, flush=True)
    except (BrokenPipeError, ValueError):
        pass  # nobody reads stderr any more: the work goes on

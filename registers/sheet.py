"""The one writer of every register: a :class:`Register` (title, the school, the moment made, tables with
their cover fields, totals and signature lines) written as ``.xlsx`` (openpyxl's write-only mode: rows
stream to disk, so a million of them stay far below 300 MiB), as a printable A4 HTML page (Jinja2,
autoescaped), as JSON for scripts, or as PDF printed by headless Chromium."""

from __future__ import annotations

import base64
import re
import json
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import jinja2

from dangan.config.errors import EnvironmentProblem
from dangan.config.messages import t
from dangan.registers import pages
from dangan.store import atomic
from dangan.store.names import printable, show

FORMATS = ("xlsx", "html", "json", "pdf")
# Chromium's flags for printing a local page, as the report's test uses them (no sandbox: dangan may run
# as a system user without user namespaces; the page is our own, autoescaped HTML).
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync",
                  "--disable-background-networking", "--disable-component-update", "--no-pdf-header-footer")
PDF_TIMEOUT = 300
# .xlsx column widths (characters) by column name; others 12
COLUMN_WIDTHS = {"序号": 6, "页数": 6, "密级": 6, "档号": 28, "文号": 18, "题名": 40, "文件名": 40, "备注": 40,
                 "问题": 40, "哈希": 66, "位置": 60, "收进时间": 24}


@dataclass
class Row:
    """One row: its cells as shown, and the record's exact path (for JSON; None: not about one record)."""

    cells: Sequence[object]
    path: bytes | None = None


@dataclass
class Table:
    """One table of a register, under its cover fields (全宗名称, 年度 …)."""

    caption: list[tuple[str, str]]
    columns: list[str]
    rows: Iterable[Row]
    totals: list[tuple[str, str]] | Callable[[], list[tuple[str, str]]] = field(default_factory=list)

    def closing(self) -> list[tuple[str, str]]:
        """The totals under the rows; a streamed table's are known only once its rows were read."""
        return self.totals() if callable(self.totals) else self.totals


@dataclass
class Register:
    """A register ready to write: ``tables`` may be a generator (read once, while writing)."""

    kind: str
    title: str
    school: str
    made_at: str
    tables: Iterable[Table]
    notes: list[str] = field(default_factory=list)
    summary: list[tuple[str, str]] = field(default_factory=list)
    signatures: list[str] = field(default_factory=list)
    wide: bool = False  # printed on A4 landscape (many columns, a hash)


def write(register: Register, fmt: str, stream: BinaryIO) -> None:
    """``register`` in ``fmt`` (xlsx, html, json) into ``stream``."""
    {"xlsx": _xlsx, "html": _html, "json": _json}[fmt](register, stream)


def save(register: Register, fmt: str, out: Path) -> None:
    """Write ``register`` to ``out`` atomically, never through a symlink at the name."""
    if fmt == "pdf":
        _pdf(register, out)
    else:
        atomic.write_streamed(out, lambda stream: write(register, fmt, stream))


# -- xlsx -------------------------------------------------------------------------------------
def _xlsx(register: Register, stream: BinaryIO) -> None:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook(write_only=True)
    sheet = book.create_sheet(register.title[:31])
    bold, large = Font(bold=True), Font(bold=True, size=14)

    def styled(value: object, font: Font) -> WriteOnlyCell:
        cell = WriteOnlyCell(sheet, value=value)
        cell.font = font
        return cell

    def safe(value: object) -> object:  # openpyxl refuses control characters; a name may carry them
        return printable(value) if isinstance(value, str) else value

    sheet.append([styled(register.title, large)])
    sheet.append([t("register.school"), safe(register.school) or "—", t("register.made_at"), register.made_at])
    for note in register.notes:
        sheet.append([safe(note)])
    widths_set = False
    for table in register.tables:
        if not widths_set:  # write-only: widths must come before the first row of data
            for n, column in enumerate(table.columns):
                sheet.column_dimensions[get_column_letter(n + 1)].width = COLUMN_WIDTHS.get(column, 12)
            widths_set = True
        sheet.append([])
        sheet.append([styled(safe(f"{label}：{value}"), bold) for label, value in table.caption])
        sheet.append([styled(column, bold) for column in table.columns])
        for row in table.rows:
            sheet.append([safe(c) for c in row.cells])
        for label, value in table.closing():
            sheet.append([styled(label, bold), safe(value)])
    if register.summary:
        sheet.append([])
        for label, value in register.summary:
            sheet.append([styled(label, bold), value])
    for line in register.signatures:
        sheet.append([])
        sheet.append([line])
    book.save(stream)


# -- html -------------------------------------------------------------------------------------
def _environment() -> jinja2.Environment:
    env = pages.environment()
    env.filters["shown"] = lambda value: printable(str(value)) if value is not None else ""
    env.filters["fit"] = _fit
    return env


def _fit(cell: object) -> str:
    """A cell's class on the printed page: numbers right, codes and short words on one line, text wraps."""
    if isinstance(cell, (int, float)):
        return "num"
    text = "" if cell is None else str(cell)
    if len(text) >= 32 and re.fullmatch(r"[0-9a-f]+", text):
        return "hash"
    if len(text) <= 8 or (len(text) <= 32 and all(" " < c < "\u2000" for c in text)):  # 档号: Z109-WS·2024-…
        return "keep"
    return "text"


def _html(register: Register, stream: BinaryIO) -> None:
    template = _environment().get_template("register.html.j2")
    for chunk in template.generate(r=register, t=t):
        stream.write(chunk.encode("utf-8"))


# -- json -------------------------------------------------------------------------------------
def _json(register: Register, stream: BinaryIO) -> None:
    def dump(value: object) -> bytes:
        return json.dumps(value, ensure_ascii=False, default=str).encode("utf-8")

    head = {"register": register.kind, "title": register.title, "school": register.school,
            "made_at": register.made_at, "notes": register.notes}
    stream.write(dump(head)[:-1] + b', "tables": [')
    for n, table in enumerate(register.tables):
        stream.write((b",\n" if n else b"\n") + b'{"caption": ' + dump(dict(table.caption)) + b', "rows": [')
        for i, row in enumerate(table.rows):
            entry = dict(zip(table.columns, row.cells))
            if row.path is not None:
                entry["path"] = show(row.path)
                entry["path_base64"] = base64.b64encode(row.path).decode("ascii")
            stream.write((b",\n" if i else b"\n") + dump(entry))
        stream.write(b'], "totals": ' + dump(dict(table.closing())) + b"}")
    tail = {"summary": dict(register.summary), "signatures": register.signatures}
    stream.write(b"\n], " + dump(tail)[1:] + b"\n")


# -- pdf --------------------------------------------------------------------------------------
def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def _pdf(register: Register, out: Path) -> None:
    """The HTML page printed to A4 by headless Chromium, then placed atomically at ``out``."""
    browser = chromium()
    if browser is None:
        raise EnvironmentProblem(t("register.no_chromium"))
    with tempfile.TemporaryDirectory(prefix="dangan-export-") as scratch:
        page, pdf = Path(scratch) / "register.html", Path(scratch) / "register.pdf"
        with open(page, "wb") as stream:
            _html(register, stream)
        try:
            done = subprocess.run([browser, *CHROMIUM_FLAGS, f"--user-data-dir={Path(scratch) / 'profile'}",
                                   f"--print-to-pdf={pdf}", page.as_uri()],
                                  capture_output=True, text=True, timeout=PDF_TIMEOUT, stdin=subprocess.DEVNULL)
            detail = (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
        except subprocess.TimeoutExpired:
            detail = f"timeout {PDF_TIMEOUT} s"
        if not pdf.exists() or pdf.stat().st_size == 0:
            raise EnvironmentProblem(t("register.pdf_failed", detail=detail))
        with open(pdf, "rb") as printed:
            atomic.write_streamed(out, lambda stream: shutil.copyfileobj(printed, stream))

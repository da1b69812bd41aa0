"""The file directory (归档文件目录, DA/T 22-2015): one row per record — 序号, 档号, 文号, 责任者, 题名, 日期,
密级, 页数, 备注 — in tables by year, retention period and department (the standard's cover: 全宗名称, 年度,
保管期限, 机构), and within those by category and task item (the dossier).

The 件号 (and 序号, the same number) is given by date, then name. Once a year has ended its numbers are
kept in the catalog: a record arriving later is numbered after the last one, and a removed record's
number is not given again, so a printed, signed directory stays true. The current year's numbers are
provisional (said so in the note) until the year ends."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from itertools import groupby

from dangan.config.messages import t
from dangan.config.schema import Config
from dangan.registers.item import departments, items_of, made_now, remarks
from dangan.registers.retention import CODES, code_of
from dangan.registers.sheet import Register, Row, Table
from dangan.store.catalog import Catalog, now
from dangan.store.catalog.registers import Entry

COLUMNS = ("序号", "档号", "文号", "责任者", "题名", "日期", "密级", "页数", "备注")


class Directory:
    """Builds the directory of the archive (or of one department, category, year)."""

    def __init__(self, catalog: Catalog, config: Config, *, department: str | None = None,
                 category: str | None = None, year: int | None = None, today: date | None = None) -> None:
        self.catalog, self.config = catalog, config
        self.department, self.category, self.year = department, category, year
        self.today = today or datetime.now(config.tz).date()

    def register(self) -> Register:
        return Register(kind="directory", title=t("directory.title"), school=self.config.school,
                        made_at=made_now(self.config), tables=self._tables(), notes=self._notes())

    def _notes(self) -> list[str]:
        notes = []
        if self._missing_codes():
            notes.append(t("directory.codes_missing", what="、".join(self._missing_codes())))
        if self.year is None or self.year >= self.today.year:
            notes.append(t("directory.provisional", year=self.today.year))
        return notes

    def _missing_codes(self) -> list[str]:
        settings = self.config.registers
        missing = [t("directory.missing.fonds_id")] if not settings.fonds_id else []
        if not settings.category_code:
            missing.append(t("directory.missing.category_code"))
        wanted = departments(self.catalog, self.department)
        lacking = [d for d in wanted if d not in settings.department_codes]
        if lacking:
            missing.append(t("directory.missing.department_codes", departments="、".join(lacking)))
        return missing

    def _tables(self) -> Iterator[Table]:
        registers = self.catalog.registers
        for department in departments(self.catalog, self.department):
            registers.stage(self._entries(department))
            with self.catalog.transaction():
                registers.number_staged(now())
            staged = registers.staged(self.category, self.year)
            try:
                for (year, retention, category, task), group in groupby(
                        staged, key=lambda pair: (pair[1].year, pair[1].grp.split("/")[1], pair[1].category,
                                                  pair[1].task)):
                    tally = _Tally()
                    yield Table(
                        caption=[("全宗名称", self.config.registers.fonds_name or self.config.school or "—"),
                                 ("年度", str(year)), ("保管期限", retention), ("机构", department),
                                 ("类别", category or "—"), ("任务项", task or "—")],
                        columns=list(COLUMNS), rows=self._rows(group, department, tally), totals=tally.totals)
            finally:
                staged.close()
                registers.unstage()

    def _entries(self, department: str) -> Iterator[Entry]:
        """The department's records as scratch entries (made one at a time while the catalog is read)."""
        for item in items_of(self.catalog, self.config, department):
            notes = remarks(item)
            if item.date_source != "name":
                notes = "；".join(filter(None, [t(f"directory.date_from.{item.date_source}"), notes]))
            cells = [item.document_number, item.title, item.date, item.pages, notes]
            yield Entry(f"{item.year}/{item.retention}/{department}", item.year < self.today.year, item.year,
                        list(CODES).index(item.retention), item.category, item.task, item.date, item.name,
                        item.path, json.dumps(cells, ensure_ascii=False))

    def _rows(self, group: Iterator[tuple[int, Entry]], department: str, tally: _Tally) -> Iterator[Row]:
        """The rows of one table, streamed; counted into ``tally`` on the way for its totals."""
        for number, entry in group:
            document_number, title, day, page_count, notes = json.loads(entry.cells)
            tally.items += 1
            tally.pages += page_count or 0
            code = self._archival_code(number, entry.year, entry.grp.split("/")[1], department)
            yield Row([number, code, document_number, department, title, day, "", page_count, notes], entry.path)

    def _archival_code(self, number: int, year: int, retention: str, department: str) -> str:
        """档号: 全宗号-门类代码·年度-保管期限代码-机构代码-件号, or what is missing to write it."""
        settings = self.config.registers
        department_code = settings.department_codes.get(department)
        missing = [name for name, value in (("全宗号", settings.fonds_id), ("门类代码", settings.category_code),
                                            ("机构代码", department_code)) if not value]
        if missing:
            return t("directory.code_lacks", what="、".join(missing))
        return (f"{settings.fonds_id}-{settings.category_code}·{year}-{code_of(retention, self.config)}"
                f"-{department_code}-{number:04d}")


@dataclass
class _Tally:
    """A streamed table's count and pages, summed while its rows are written (its totals come after)."""

    items: int = 0
    pages: int = 0

    def totals(self) -> list[tuple[str, str]]:
        return [("本表件数", str(self.items)), ("本表页数合计", str(self.pages))]

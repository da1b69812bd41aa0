"""The file directory (归档文件目录, DA/T 22-2015): one row per record — 序号, 档号, 文号, 责任者, 题名, 日期,
密级, 页数, 备注 — in tables by year, retention period and department (the standard's cover: 全宗名称, 年度,
保管期限, 机构), and within those by category and task item (the dossier).

The 件号 (and 序号, the same number) is given by date, then name. Once a year has ended its numbers are
kept in the catalog: a record arriving later is numbered after the last one, and a removed record's
number is not given again, so a printed, signed directory stays true. The current year's numbers are
provisional (said so in the note) until the year ends."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from itertools import groupby

from dangan.config.messages import t
from dangan.config.schema import Config
from dangan.registers.item import Item, departments, items_of, made_now, remarks
from dangan.registers.retention import code_of
from dangan.registers.sheet import Register, Row, Table
from dangan.store.catalog import Catalog, now

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
        for department in departments(self.catalog, self.department):
            numbered = self.numbered(department)
            numbered = [(n, item) for n, item in numbered
                        if (self.category is None or item.category == self.category)
                        and (self.year is None or item.year == self.year)]
            numbered.sort(key=lambda pair: (pair[1].year, _retention_order(pair[1].retention), pair[1].category,
                                            pair[1].task, pair[0]))
            for (year, retention, category, task), group in groupby(
                    numbered, key=lambda pair: (pair[1].year, pair[1].retention, pair[1].category, pair[1].task)):
                rows = [self._row(number, item) for number, item in group]
                yield Table(
                    caption=[("全宗名称", self.config.registers.fonds_name or self.config.school or "—"),
                             ("年度", str(year)), ("保管期限", retention), ("机构", department),
                             ("类别", category or "—"), ("任务项", task or "—")],
                    columns=list(COLUMNS), rows=rows,
                    totals=[(t("directory.total_items"), str(len(rows))),
                            (t("directory.total_pages"), str(sum(r.cells[7] or 0 for r in rows)))])

    def numbered(self, department: str) -> list[tuple[int, Item]]:
        """(件号, item) for every record of ``department``; numbers of ended years are assigned once
        and kept in the catalog (in one transaction per department)."""
        items = items_of(self.catalog, self.config, department)
        items.sort(key=lambda item: (item.year, item.retention, item.date, item.name, item.path))
        result: list[tuple[int, Item]] = []
        stamp = now()
        for (year, retention), group in groupby(items, key=lambda item: (item.year, item.retention)):
            members = list(group)
            key = f"{year}/{retention}/{department}"
            if year >= self.today.year:  # still open: numbered afresh, not kept
                result += list(enumerate(members, 1))
                continue
            with self.catalog.transaction():
                kept = self.catalog.registers.numbers(key)
                following = self.catalog.registers.highest(key)
                new = []
                for item in members:
                    if item.path not in kept:
                        following += 1
                        kept[item.path] = following
                        new.append((item.path, following))
                self.catalog.registers.assign(key, new, stamp)
            result += [(kept[item.path], item) for item in members]
        return result

    def _row(self, number: int, item: Item) -> Row:
        notes = remarks(item)
        if item.date_source != "name":
            notes = "；".join(filter(None, [t(f"directory.date_from.{item.date_source}"), notes]))
        return Row([number, self._archival_code(number, item), item.document_number, item.department, item.title,
                    item.date, "", item.pages, notes], item.path)

    def _archival_code(self, number: int, item: Item) -> str:
        """档号: 全宗号-门类代码·年度-保管期限代码-机构代码-件号, or what is missing to write it."""
        settings = self.config.registers
        department_code = settings.department_codes.get(item.department)
        missing = [name for name, value in (("全宗号", settings.fonds_id), ("门类代码", settings.category_code),
                                            ("机构代码", department_code)) if not value]
        if missing:
            return t("directory.code_lacks", what="、".join(missing))
        return (f"{settings.fonds_id}-{settings.category_code}·{item.year}-{code_of(item.retention, self.config)}"
                f"-{department_code}-{number:04d}")


def _retention_order(retention: str) -> int:
    return ("永久", "长期", "短期").index(retention) if retention in ("永久", "长期", "短期") else 3

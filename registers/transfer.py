"""The transfer register (移交清册): what a department handed over to the archive in a period (by the
time each record arrived, 收进) or for one task item — every record with its hash, totals by kind
(count and bytes), the records still carrying findings called out, and the signature lines (移交人、
接收人、日期). Both sides can re-check it later against the catalog: the hashes are the catalog's."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from dangan.config.messages import t
from dangan.config.schema import Config
from dangan.registers.item import Item, items_of, made_now, remarks
from dangan.registers.sheet import Register, Row, Table
from dangan.store.catalog import Catalog
from dangan.store.clock import local

COLUMNS = ("序号", "题名", "文件名", "类别", "任务项", "日期", "类型", "字节", "页数", "收进时间", "哈希", "问题")
# The register's own words (the same in every language: they are JSON keys too)
KINDS = {"document": "文档", "photo": "照片", "video": "视频", "audio": "音频"}


def transfer(catalog: Catalog, config: Config, department: str, *, since: date | None = None,
             until: date | None = None, task: str | None = None) -> Register:
    """The register of ``department``'s records that arrived from ``since`` to ``until`` (local days,
    both included), or that lie in the task item folder ``task`` (its name, or category/name)."""
    low = utc_start(since, config) if since else ""
    high = utc_start(until + timedelta(days=1), config) if until else "~"
    items = [item for item in items_of(catalog, config, department, (low, high))
             if task is None or task in (item.task, f"{item.category}/{item.task}")]
    items.sort(key=lambda item: (item.first_seen, item.path))
    period = task or t("transfer.period", since=since.isoformat() if since else "—",
                       until=until.isoformat() if until else "—")
    caption = [("移交部门", department), ("范围", period), ("哈希算法", config.hash_algorithm)]
    tables = [Table(caption=caption, columns=list(COLUMNS), rows=[_row(n, item, config) for n, item
                                                                  in enumerate(items, 1)])]
    flagged = [(n, item) for n, item in enumerate(items, 1) if item.findings]
    if flagged:
        tables.append(Table(caption=[("其中仍有待整改问题的文件", str(len(flagged)))], columns=list(COLUMNS),
                            rows=[_row(n, item, config) for n, item in flagged]))
    return Register(kind="transfer", title=t("transfer.title"), school=config.school, made_at=made_now(config),
                    wide=True,
                    tables=tables, summary=_totals(items),
                    notes=[t("transfer.none")] if not items else [],
                    signatures=["移交人", "接收人", "日期"])


def _row(number: int, item: Item, config: Config) -> Row:
    return Row([number, item.title, item.name, item.category, item.task, item.date, KINDS[item.kind],
                item.size, item.pages, local(item.first_seen, config), item.hash or "", remarks(item)], item.path)


def _totals(items: list[Item]) -> list[tuple[str, str]]:
    """Count and bytes per kind, then in all."""
    lines = []
    for kind, word in KINDS.items():
        mine = [item for item in items if item.kind == kind]
        if mine:
            lines.append((word, t("transfer.count_bytes", count=len(mine),
                                                 size=sum(i.size for i in mine))))
    lines.append(("合计", t("transfer.count_bytes", count=len(items), size=sum(i.size for i in items))))
    lines.append(("有待整改问题的文件", str(sum(1 for item in items if item.findings))))
    return lines


def utc_start(day: date, config: Config) -> str:
    """The start of a local day, as the catalog's UTC text sorts."""
    return datetime.combine(day, time(), config.tz).astimezone(timezone.utc).isoformat(timespec="milliseconds")

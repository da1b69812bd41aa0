"""The appraisal list (鉴定, 第十五条): the records whose retention period has ended, by department, for the
appraisal the regulation prescribes — registered and approved before anything is destroyed. dangan lists
them and never deletes one."""

from __future__ import annotations

from datetime import date, datetime

from dangan.config.messages import t
from dangan.config.schema import Config
from dangan.registers.item import departments, items_of, made_now, remarks
from dangan.registers.retention import last_year
from dangan.registers.sheet import Register, Row, Table
from dangan.store.catalog import Catalog

COLUMNS = ("序号", "题名", "类别", "任务项", "日期", "保管期限", "到期年度", "页数", "位置", "备注")


def appraisal(catalog: Catalog, config: Config, *, department: str | None = None,
              today: date | None = None) -> Register:
    """Records of ``department`` (or all) whose period ended before ``today``'s year."""
    year = (today or datetime.now(config.tz).date()).year
    tables = []
    for owner in departments(catalog, department):
        ended = []
        for item in items_of(catalog, config, owner):
            last = last_year(item.retention, item.year, config)
            if last is not None and last < year:
                ended.append((last, item))
        ended.sort(key=lambda pair: (pair[0], pair[1].date, pair[1].path))
        if ended:
            tables.append(Table(caption=[("机构", owner), ("到期件数", str(len(ended)))],
                                columns=list(COLUMNS),
                                rows=[Row([n, item.title, item.category, item.task, item.date, item.retention, last,
                                           item.pages, item.path.decode("utf-8", "backslashreplace"), remarks(item)],
                                          item.path) for n, (last, item) in enumerate(ended, 1)]))
    notes = [t("appraisal.never_deletes")] + ([] if tables else [t("appraisal.none", year=year)])
    return Register(kind="appraisal", title=t("appraisal.title"), school=config.school, made_at=made_now(config),
                    tables=tables, notes=notes, signatures=["鉴定人", "审核人", "批准人", "日期"])

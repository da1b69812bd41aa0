"""The registration statistics (登记统计, 第十一条): per department and month, how many records were
received (收进), changed, moved, moved out (移出) and restored, and their bytes — counted from the ledger,
the catalog's append-only register, so the figures are those of what happened, not of what is there now."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, timedelta

from dangan.config.messages import t
from dangan.config.schema import Config
from dangan.registers.item import made_now
from dangan.registers.sheet import Register, Row, Table
from dangan.registers.transfer import utc_start
from dangan.store.catalog import Catalog

# The ledger's events and their columns (the register's own words, the same in every language: JSON keys);
# a repair that put the primary copy back is a restore.
EVENTS = {"intake": "收进", "change": "修改", "move": "移动", "removal": "移出", "restore": "恢复"}


def statistics(catalog: Catalog, config: Config, *, department: str | None = None, since: date | None = None,
               until: date | None = None) -> Register:
    """Counts and bytes per department and month of the ledger's events from ``since`` to ``until``."""
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0] * (2 * len(EVENTS)))
    low = utc_start(since, config) if since else ""
    high = utc_start(until + timedelta(days=1), config) if until else "~"
    for move in catalog.registers.ledger(low, high):
        event = "restore" if move.event == "repair" and move.copy == "primary" else move.event
        if event not in EVENTS or move.path is None:
            continue
        owner = move.path.split(b"/", 1)[0].decode("utf-8", "backslashreplace")
        if department is not None and owner != department:
            continue
        month = datetime.fromisoformat(move.at).astimezone(config.tz).strftime("%Y-%m")
        cells = counts[(owner, month)]
        index = list(EVENTS).index(event)
        cells[2 * index] += 1
        cells[2 * index + 1] += move.size
    columns = ["月份"]
    for word in EVENTS.values():
        columns += [word, f"{word}字节"]
    tables, everything = [], [0] * (2 * len(EVENTS))
    for owner in sorted({owner for owner, _ in counts}):
        months = sorted(month for o, month in counts if o == owner)
        total = [sum(counts[(owner, m)][i] for m in months) for i in range(2 * len(EVENTS))]
        everything = [a + b for a, b in zip(everything, total)]
        rows = [Row([m, *counts[(owner, m)]]) for m in months] + [Row(["合计", *total])]
        tables.append(Table(caption=[("机构", owner)], columns=columns, rows=rows))
    summary = [(word, t("transfer.count_bytes", count=everything[2 * i], size=everything[2 * i + 1]))
               for i, word in enumerate(EVENTS.values())]
    return Register(kind="statistics", title=t("statistics.title"), school=config.school, made_at=made_now(config),
                    wide=True,
                    tables=tables, summary=summary, notes=[t("statistics.note")])

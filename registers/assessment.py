"""过程考核: the department scorecard the regulations ask for ("统一管理、分头组建、责任到人、过程考核";
major activities handed over "within one month", counted in the yearly assessment).

Per department and period: the records filed (the ledger's 收进), the open findings by rule at the
period's end and the median days it took to fix those fixed in the period, the share of activity
records (photos, video) that arrived within one month of the date in their name, the share of photo
folders with a complete description, and a score from three rates — never raw counts, so a large
department and a small one are compared fairly. The formula is printed under every form of the table
(:data:`WEIGHTS` in message ``assessment.formula``).
"""

from __future__ import annotations

import calendar
import re
import statistics
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from functools import cache
from typing import Any

from dangan.config.errors import UsageError
from dangan.config.messages import t
from dangan.config.schema import Config

from dangan.rules.rulebook import Rulebook, rule_title
from dangan.store.catalog import Catalog
from dangan.store.catalog.assessment import Finding
from dangan.store.names import show, split_ext

# The score's three rates and their weights (sum 1). A rate with nothing to count is left out and the
# others' weights are scaled up, so a department without photos is not punished for having none.
WEIGHTS: dict[str, float] = {"clean": 0.4, "on_time": 0.3, "described": 0.3}
DESCRIPTION_RULE = "folder.no-description"
_DATED = re.compile(rb"(\d{8})")


@dataclass(frozen=True)
class Period:
    """Local calendar days ``first`` … ``last`` (inclusive) in the configured zone."""

    first: date
    last: date
    zone: tzinfo

    @property
    def since(self) -> str:
        """The period's start as a catalog time (UTC ISO, sortable as text)."""
        return _utc(datetime.combine(self.first, time(), self.zone))

    @property
    def until(self) -> str:
        """The moment after the period (exclusive), as a catalog time."""
        return _utc(datetime.combine(self.last + timedelta(days=1), time(), self.zone))

    @property
    def label(self) -> str:
        return f"{self.first.isoformat()} — {self.last.isoformat()}"

    @classmethod
    def parse(cls, config: Config, period: str | None = None, start: str | None = None,
              end: str | None = None) -> "Period":
        """``--period 2026 | 2026-11 | 2026-Q4``, or ``--from``/``--to`` days (YYYY-MM-DD, inclusive);
        none: this calendar year up to today. A bad value is the user's mistake (exit 2), said in words."""
        zone, today = config.tz, datetime.now(config.tz).date()
        if period and (start or end):
            raise UsageError(t("assessment.period_and_range"))
        if period:
            return cls(*_period_days(period), zone)
        first = _day(start, "--from") if start else date(today.year, 1, 1)
        last = _day(end, "--to") if end else today
        if last < first:
            raise UsageError(t("assessment.bad_range", first=first.isoformat(), last=last.isoformat()))
        return cls(first, last, zone)

    @classmethod
    def year_to_date(cls, config: Config) -> "Period":
        return cls.parse(config)


def _utc(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds")


def _day(text: str, option: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UsageError(t("assessment.bad_day", option=option, value=text)) from None


def _period_days(text: str) -> tuple[date, date]:
    match = re.fullmatch(r"(\d{4})(?:-(?:(\d{2})|[Qq]([1-4])))?", text.strip())
    if match:
        year, month, quarter = int(match.group(1)), match.group(2), match.group(3)
        if month is None and quarter is None:
            return date(year, 1, 1), date(year, 12, 31)
        if quarter is not None:
            first_month = 3 * int(quarter) - 2
            return date(year, first_month, 1), _month_end(year, first_month + 2)
        if 1 <= int(month) <= 12:
            return date(year, int(month), 1), _month_end(year, int(month))
    raise UsageError(t("assessment.bad_period", value=text))


def _month_end(year: int, month: int) -> date:
    return date(year, month, calendar.monthrange(year, month)[1])


def one_month_after(day: date) -> date:
    """The same day a month later (the month's last day when it has no such day): the hand-over
    limit of the major-activities rules ("结束之日起1个月内")."""
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass
class DepartmentScore:
    """One department's row of the scorecard: counts, the three rates (None: nothing to count), the score."""

    department: str
    records: int = 0  # present at the period's end
    filed: int = 0  # 收进 in the period
    with_findings: int = 0  # records carrying an open finding at the period's end
    open_by_rule: dict[str, int] = field(default_factory=dict)
    fixed: int = 0  # findings fixed in the period
    median_days_to_fix: float | None = None
    median_days_by_rule: dict[str, float] = field(default_factory=dict)  # of the findings fixed in the period
    activity: int = 0  # photos and videos received in the period with a date in their name
    on_time: int = 0  # of those, arrived within one month of that date
    undated: int = 0  # photos and videos received without a date in their name (not in the rate)
    photo_folders: int = 0  # folders of photos/videos that received one in the period
    described: int = 0  # of those, with a complete description
    clean_rate: float | None = None
    on_time_rate: float | None = None
    described_rate: float | None = None
    score: float | None = None

    @property
    def open_findings(self) -> int:
        return sum(self.open_by_rule.values())


@dataclass
class Scorecard:
    """The scorecard of every configured department for one period."""

    school: str
    period: Period
    generated: str  # catalog time
    rows: list[DepartmentScore]

    def to_json(self, config: Config) -> dict[str, Any]:
        """The scorecard as data: every form (text, HTML, xlsx, the weekly report) is drawn from this."""
        rows = [{**asdict(row), "open_findings": row.open_findings} for row in self.rows]
        rules = sorted({rule for row in self.rows for rule in row.open_by_rule})
        return {"school": self.school, "period": {"from": self.period.first.isoformat(),
                                                  "to": self.period.last.isoformat()},
                "generated": self.generated, "timezone": config.timezone, "weights": WEIGHTS,
                "formula": t("assessment.formula", **WEIGHTS), "rule_titles": {r: rule_title(r, config) for r in rules},
                "departments": rows}


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def score_of(rates: dict[str, float | None]) -> float | None:
    """100 × the weighted mean of the rates that have something to count (see :data:`WEIGHTS`)."""
    counted = {name: value for name, value in rates.items() if value is not None}
    if not counted:
        return None
    total = sum(WEIGHTS[name] for name in counted)
    return round(100 * sum(WEIGHTS[name] * value for name, value in counted.items()) / total, 1)


def _department(path: bytes) -> str | None:
    head, sep, _ = path.partition(b"/")
    return show(head) if sep else None


def _days(start: str, end: str) -> float:
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds() / 86400


def assess(config: Config, catalog: Catalog, period: Period, generated: str) -> Scorecard:
    """The scorecard for ``period`` from the catalog: the ledger, the records and the findings."""
    book = Rulebook(config)
    rows = {name: DepartmentScore(name) for name in config.departments}
    since, until = period.since, period.until
    for path in catalog.assessment.filed(since, until):
        row = rows.get(_department(path) or "")
        if row:
            row.filed += 1
    findings = catalog.assessment.findings(since, until)
    open_at_end = [f for f in findings if f.fixed_at is None or f.fixed_at >= until]
    open_paths = {f.path for f in open_at_end}
    undescribed = {f.path for f in open_at_end if f.rule == DESCRIPTION_RULE}
    folders: dict[bytes, _Folder] = defaultdict(_Folder)
    visual = book.photo | book.video
    for path, first_seen in catalog.assessment.arrivals(until):
        row = rows.get(_department(path) or "")
        if row is None:
            continue
        row.records += 1
        row.with_findings += path in open_paths
        folder, _, name = path.rpartition(b"/")
        ext = split_ext(name)[1]
        # a photo or video of an activity (a scanned certificate is a document, not an activity record)
        activity = ext in visual and not book.is_scan_only(path)
        arrived = first_seen >= since
        if arrived and activity:
            _count_arrival(row, name, first_seen, config)
        if folder.count(b"/") >= 2:  # a task item (level 3) or deeper
            folders[folder].add(activity, ext in book.descriptions, arrived)
    for folder, state in folders.items():
        if state.photo_folder:
            row = rows[_department(folder)]
            row.photo_folders += 1
            row.described += state.description and folder not in undescribed
    _count_findings(rows, open_at_end, [f for f in findings if f.fixed_at and f.fixed_at < until])
    for row in rows.values():
        row.clean_rate = _rate(row.records - row.with_findings, row.records)
        row.on_time_rate = _rate(row.on_time, row.activity)
        row.described_rate = _rate(row.described, row.photo_folders)
        row.score = score_of({"clean": row.clean_rate, "on_time": row.on_time_rate,
                              "described": row.described_rate})
    return Scorecard(config.school, period, generated, list(rows.values()))


class _Folder:
    """What the scorecard keeps of one folder while the records stream by: a photo folder holds only
    photos/videos and their description (as the rule folder.no-description sees it, scans excluded)
    and counts when it received a photo or video in the period."""

    __slots__ = ("others", "description", "fresh")

    def __init__(self) -> None:
        self.others = False  # a record that is neither a photo/video nor a description, or a scan
        self.description = False
        self.fresh = False  # a photo or video arrived in the period

    def add(self, activity: bool, description: bool, arrived: bool) -> None:
        if activity:
            self.fresh |= arrived
        elif description:
            self.description = True
        else:
            self.others = True

    @property
    def photo_folder(self) -> bool:
        return self.fresh and not self.others


def _count_arrival(row: DepartmentScore, name: bytes, first_seen: str, config: Config) -> None:
    match = _DATED.match(name)
    limit = _limit(match.group(1)) if match else None
    if limit is None:
        row.undated += 1
        return
    row.activity += 1
    row.on_time += datetime.fromisoformat(first_seen).astimezone(config.tz).date() <= limit


@cache
def _limit(digits: bytes) -> date | None:
    """The last day a record named with ``digits`` (YYYYMMDD) arrives on time; None: not a date.
    Cached: an archive's photos share few dates, and parsing was most of a large scorecard's time."""
    try:
        return one_month_after(date(int(digits[:4]), int(digits[4:6]), int(digits[6:])))
    except ValueError:
        return None


def _count_findings(rows: dict[str, DepartmentScore], open_at_end: list[Finding], fixed: list[Finding]) -> None:
    by_rule: dict[str, Counter] = defaultdict(Counter)
    for finding in open_at_end:
        by_rule[_department(finding.path) or ""][finding.rule] += 1
    durations: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for finding in fixed:
        durations[_department(finding.path) or ""][finding.rule].append(_days(finding.first_seen, finding.fixed_at))
    for name, row in rows.items():
        row.open_by_rule = dict(sorted(by_rule[name].items()))
        every = [days for by in durations[name].values() for days in by]
        row.fixed = len(every)
        row.median_days_by_rule = {rule: round(statistics.median(days), 1)
                                   for rule, days in sorted(durations[name].items())}
        row.median_days_to_fix = round(statistics.median(every), 1) if every else None

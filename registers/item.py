"""One record as the registers describe it (DA/T 22-2015's 条目): its title, its date and where that date
came from, its pages, its year and retention, its open findings — derived from the catalog's row alone,
so every register says the same of the same record."""

from __future__ import annotations

import re
from dataclasses import dataclass
from collections.abc import Iterator
from datetime import date, datetime

from dangan.config.messages import t
from dangan.config.schema import Config
from dangan.registers.retention import retention_of
from dangan.rules.rulebook import DATE_SEPARATORS
from dangan.store.catalog import Catalog, now
from dangan.store.catalog.registers import RegisterRow
from dangan.store.clock import local
from dangan.store.names import show, split_ext

# 文号 as Chinese documents write it: 冀职教〔2021〕5号, 校办[2020]12号
_DOCUMENT_NUMBER = re.compile(r"[\u4e00-\u9fffA-Za-z]+[〔\[［(（]\d{4}[〕\]］)）]\s*\d+\s*号")
_NAME_DATE = re.compile(r"(\d{8})(.*)$", re.S)


@dataclass(slots=True)
class Item:
    """A record's register entry. ``date`` is 8 digits; ``date_source`` says whence (name, exif, mtime)."""

    path: bytes
    department: str
    category: str
    task: str  # the task item folder (level 3): the dossier
    name: str
    title: str
    document_number: str
    date: str
    date_source: str
    year: int
    retention: str
    pages: int | None
    size: int
    hash: str | None
    kind: str  # document | photo | video | audio
    first_seen: str
    findings: list[str]


def item_of(row: RegisterRow, config: Config, retention: str, findings: list[str]) -> Item:
    parts = row.path.split(b"/")
    stem, ext = split_ext(parts[-1])
    text = show(stem)
    day, source, title = _date_of(text, row, config)
    number = m.group(0) if (m := _DOCUMENT_NUMBER.search(text)) else ""
    if number:  # the 文号 has its own column; the 题名 is what remains
        title = title.replace(number, "").strip(DATE_SEPARATORS) or title
    return Item(
        path=row.path, department=row.department or "", category=show(parts[1]) if len(parts) > 2 else "",
        task=show(parts[2]) if len(parts) > 3 else "", name=show(parts[-1]), title=title,
        document_number=number,
        date=day, date_source=source, year=int(day[:4]), retention=retention, pages=_pages(row.facts),
        size=row.size, hash=row.hash, kind=kind_of(ext, config), first_seen=row.first_seen, findings=findings)


def _date_of(text: str, row: RegisterRow, config: Config) -> tuple[str, str, str]:
    """(date, source, title): the name's date prefix, else the EXIF capture date, else the file's time."""
    match = _NAME_DATE.match(text)
    if match and _real(match.group(1)):
        return match.group(1), "name", match.group(2).strip(DATE_SEPARATORS) or text
    taken = row.facts.get("taken")
    if taken and _real(taken):
        return taken, "exif", text
    moment = datetime.fromtimestamp(row.mtime_ns / 1e9, config.tz)
    return moment.strftime("%Y%m%d"), "mtime", text


def _real(digits: str) -> bool:
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:])).year >= 1900
    except ValueError:
        return False


def _pages(facts: dict) -> int | None:
    pages = facts.get("pages")
    return pages if isinstance(pages, int) else None


def kind_of(ext: str, config: Config) -> str:
    rules = config.rules
    if ext in rules.photo_extensions:
        return "photo"
    if ext in rules.video_extensions:
        return "video"
    if ext in rules.audio_extensions:
        return "audio"
    return "document"


def remarks(item: Item) -> str:
    """备注: the open findings by their rules' titles."""
    return "；".join(t(f"rule.{rule}.title") for rule in item.findings)


def items_of(catalog: Catalog, config: Config, department: str,
             arrived: tuple[str, str] = ("", "~")) -> Iterator[Item]:
    """The present records of ``department`` (arrived in [from, to) when given) as entries, one at a time."""
    findings = catalog.registers.open_findings(department)
    for row in catalog.registers.rows(department, arrived):
        yield item_of(row, config, retention_of(row.path, config), findings.get(row.path, []))


def departments(catalog: Catalog, wanted: str | None) -> list[str]:
    """The departments a register covers: ``wanted`` alone, or every one holding records."""
    return [wanted] if wanted else catalog.registers.departments()


def made_now(config: Config) -> str:
    """The moment an export is made, as people read it (local, with its offset)."""
    return local(now(), config, seconds=True)

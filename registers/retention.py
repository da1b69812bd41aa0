"""Retention periods (保管期限): which period a record has and when it ends.

The period comes from the one mapping the config has (``offsite.retention_default`` and
``offsite.retention_rules``, the same the off-site inventory lists), the years from
``registers.retention_years``. DA/T 22-2015 counts a period from 1 January of the year after the
record's year, so a 短期 (10 years) record of 2014 ends with 31 December 2024."""

from __future__ import annotations

from dangan.config.schema import Config
from dangan.store.names import show

PERMANENT = "永久"
# DA/T 22-2015's codes, as the 档号 writes them
CODES = {"永久": "Y", "长期": "D30", "短期": "D10"}


def retention_of(path: bytes, config: Config) -> str:
    """The period of the record at ``path``: the first rule whose word the path holds, else the default."""
    text = show(path)
    for word, retention in config.offsite.retention_rules.items():
        if word in text:
            return retention
    return config.offsite.retention_default


def code_of(retention: str, config: Config) -> str:
    """The 档号's code of a period: Y, or D and the configured years (D30, D10)."""
    if retention == PERMANENT:
        return CODES[PERMANENT]
    return f"D{config.registers.retention_years.get(retention, 0)}"


def last_year(retention: str, year: int, config: Config) -> int | None:
    """The last year a record of ``year`` is kept (None: 永久, never ends)."""
    if retention == PERMANENT:
        return None
    return year + config.registers.retention_years[retention]

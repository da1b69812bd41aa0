"""Times people read: in the configured zone, with its offset.

The catalog keeps UTC (ISO 8601, sortable as text) and JSON output may keep it too; every text a
person reads (status, the register sheet, the recovery sheet, restore output, logs) shows a time
through :func:`local`, so the office reads its own clock and still sees which clock it is.
"""

from __future__ import annotations

from datetime import datetime, timezone, tzinfo
from typing import Protocol
from zoneinfo import ZoneInfo


_zone: tzinfo = timezone.utc  # the configured zone, once a config is loaded (see set_zone)


def set_zone(config: "_HasZone | tzinfo | str") -> None:
    """Use this zone for every time shown from now on (called where the config is loaded, as
    the language is)."""
    global _zone
    _zone = zone_of(config)


def zone() -> tzinfo:
    return _zone


class _HasZone(Protocol):
    @property
    def tz(self) -> ZoneInfo: ...


def zone_of(config: _HasZone | tzinfo | str | None) -> tzinfo:
    """The zone of a config (its ``tz``), a tzinfo, a zone name; the configured one for None."""
    if config is None:
        return _zone
    if isinstance(config, tzinfo):
        return config
    if isinstance(config, str):
        return ZoneInfo(config)
    return config.tz


def local(ts: str | datetime | None, config: _HasZone | tzinfo | str | None = None,
          seconds: bool = False) -> str:
    """``ts`` (an ISO time, naive meaning UTC, or a datetime) in the configured zone with its offset:
    ``2026-12-02 21:30 +08:00``. Empty or None gives an em dash; text that is not a time is returned
    as it is (a caller's value is never lost to a parse error)."""
    if ts is None or ts == "":
        return "—"
    if isinstance(ts, str):
        try:
            moment = datetime.fromisoformat(ts.replace("Z", "+00:00"))
        except ValueError:
            return ts
    else:
        moment = ts
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    moment = moment.astimezone(zone_of(config))
    offset = moment.strftime("%z") or "+0000"
    shown = moment.strftime("%Y-%m-%d %H:%M:%S " if seconds else "%Y-%m-%d %H:%M ")
    return shown + f"{offset[:3]}:{offset[3:]}"

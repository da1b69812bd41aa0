"""What the admin must be told: conditions that stay raised until they clear, and recent notes."""

from __future__ import annotations

from typing import Any

from loguru import logger

from dangan.config.messages import t
from dangan.store.catalog import now
from dangan.store.status import alert_text, alert_title, note_text

# Notes that come in storms (1,300 overflows in one burst): one entry each kind, counted, with
# the time of the first and of the latest, instead of one entry per occurrence.
AGGREGATED = frozenset({"inotify_overflow"})


class Alerts:
    """What the admin must be told: raised conditions (until cleared) and recent notes."""

    def __init__(self) -> None:
        self.active: dict[str, dict[str, Any]] = {}
        self.notes: list[dict[str, Any]] = []

    def raise_(self, kind: str, **detail: Any) -> None:
        fresh = kind not in self.active
        self.active[kind] = {"since": self.active.get(kind, {}).get("since", now()), **detail}
        if fresh:
            logger.error(t("alert.raised", text=alert_text(kind, self.active[kind])))

    def clear(self, kind: str) -> None:
        if self.active.pop(kind, None) is not None:
            logger.info(t("alert.cleared", title=alert_title(kind)))

    def note(self, kind: str, **detail: Any) -> None:
        at = now()
        if kind in AGGREGATED:
            earlier = next((n for n in self.notes if n["kind"] == kind), None)
            if earlier is not None:
                self.notes.remove(earlier)
                self.notes.append(earlier | detail | {"at": at})
                return
            detail = {"since": at} | detail
        entry = {"kind": kind, "at": at, **detail}
        logger.warning(note_text(entry) or kind)
        self.notes = (self.notes + [entry])[-50:]

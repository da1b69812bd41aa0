"""What the admin must be told: conditions that stay raised until they clear, and recent notes."""

from __future__ import annotations

from typing import Any

from loguru import logger

from dangan.store.catalog import now


class Alerts:
    """What the admin must be told: raised conditions (until cleared) and recent notes."""

    def __init__(self) -> None:
        self.active: dict[str, dict[str, Any]] = {}
        self.notes: list[dict[str, Any]] = []

    def raise_(self, kind: str, **detail: Any) -> None:
        if kind not in self.active:
            logger.error("alert {}: {}", kind, detail)
        self.active[kind] = {"since": self.active.get(kind, {}).get("since", now()), **detail}

    def clear(self, kind: str) -> None:
        if self.active.pop(kind, None) is not None:
            logger.info("alert cleared: {}", kind)

    def note(self, kind: str, **detail: Any) -> None:
        logger.warning("{}: {}", kind, detail)
        self.notes = (self.notes + [{"kind": kind, "at": now(), **detail}])[-50:]

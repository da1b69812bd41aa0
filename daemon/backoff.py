"""Back-off per path: a copy that fails for its own path (not the disk's) is retried on its own,
later and later, while every other path goes on."""

from __future__ import annotations

import time
from dataclasses import dataclass

from loguru import logger

from dangan.config.messages import t

from dangan.store.catalog import Catalog
from dangan.store.mirror import KeptVersion
from dangan.store.names import show

FIRST_DELAY = 1.0


@dataclass(slots=True)
class _Entry:
    delay: float
    due: float  # monotonic time of the next try
    reason: str


class PathBackoff:
    """Paths whose mirror copy failed for their own reason, each with its own growing delay."""

    def __init__(self, max_seconds: float) -> None:
        self.max_seconds = max(FIRST_DELAY, max_seconds)
        self.entries: dict[bytes, _Entry] = {}

    def failed(self, path: bytes, reason: str) -> float:
        """Note a failure of ``path``; returns the seconds until it is tried again."""
        entry = self.entries.get(path)
        delay = FIRST_DELAY if entry is None else min(entry.delay * 2, self.max_seconds)
        self.entries[path] = _Entry(delay, time.monotonic() + delay, reason)
        if entry is None:
            logger.warning(t("log.copy_failed", path=show(path), reason=reason))
        return delay

    def due(self, path: bytes) -> bool:
        entry = self.entries.get(path)
        return entry is None or time.monotonic() >= entry.due

    def next_due(self) -> float:
        """The monotonic time the first waiting path is due (now when none waits)."""
        return min((entry.due for entry in self.entries.values()), default=time.monotonic())

    def succeeded(self, path: bytes) -> None:
        if self.entries.pop(path, None) is not None:
            logger.info(t("log.copy_recovered", path=show(path)))


def record_displaced(catalog: Catalog, displaced: list[KeptVersion], at: str) -> None:
    """Record the versions of mirror copies moved aside because their path changed kind (a file
    became a folder or the reverse), inside the caller's transaction. The record's mirror copy is
    now that version: a removed record is done with (nothing left to remove), a live one (its
    removal not yet seen) is marked unmirrored, so its removal deletes it without a mirror step."""
    for kept in displaced:
        record = catalog.record(kept.path)
        digest = record.mirror_hash if record is not None else None
        catalog.add_version(kept.path, digest, kept.size, kept.mtime_ns, at, "removal", kept.location)
        if record is None:
            continue
        if record.removed_at is not None:
            catalog.forget([kept.path])
        else:
            catalog.set_mirrored(kept.path, None)

"""The deletion guard: a veto, not a brake. Removals reach the mirror only in batches that look
like ordinary work; a mass deletion is held whole until an admin confirms it, and nothing is
removed at all while the archive root's marker is missing (disk gone or emptied)."""

from __future__ import annotations

import json
import time

from dangan.config.schema import Config

from dangan.daemon.alerts import Alerts
from dangan.store.catalog import Catalog, now
from dangan.daemon.keeper import Keeper
from dangan.store.layout import Layout
from dangan.store.status import HELD

CONFIRM = "deletions_confirm_requested"
SHARE_MINIMUM = 20  # below this many, a share says little (3 of 10 files is an ordinary clean-up)


class DeletionGuard:
    """Decides when pending removals (kept in the catalog) may be applied to the mirror."""

    def __init__(self, config: Config, catalog: Catalog, keeper: Keeper, alerts: Alerts) -> None:
        self.settings = config.mirror
        self.catalog = catalog
        self.keeper = keeper
        self.alerts = alerts
        self.layout = Layout.of(config)
        self.last_removal = time.monotonic()

    def noted(self) -> None:
        """A removal was just seen: wait for the batch to be complete before judging it."""
        self.last_removal = time.monotonic()

    def held(self) -> dict | None:
        value = self.catalog.get_meta(HELD)
        return json.loads(value) if value else None

    def tick(self, confirm: bool = False, settled: bool = False) -> int:
        """Apply pending removals if allowed; returns how many were applied. ``settled``: the batch
        is known to be complete (a one-off reconcile with no watcher behind it), so it is judged now
        instead of after the delay that lets a batch of deletions finish."""
        pending = self.catalog.pending_removals()
        confirm = confirm or self.catalog.get_meta(CONFIRM) is not None
        if not pending:
            self._release()
            return 0
        if not confirm and not settled and time.monotonic() - self.last_removal < self.settings.delete_delay_seconds:
            return 0
        if not self.layout.archive_marker.is_file():
            self.alerts.raise_("archive_missing", path=str(self.layout.archive_root), pending=len(pending))
            return 0
        self.alerts.clear("archive_missing")
        if not confirm:
            if self.held():
                self._hold(len(pending))
                return 0
            total = self.catalog.gauges.rows()
            if len(pending) > self.settings.max_delete_count or (
                    len(pending) >= SHARE_MINIMUM and len(pending) / max(total, 1) > self.settings.max_delete_share):
                self._hold(len(pending))
                return 0
        if not self.keeper.mirror_writable():
            return 0
        applied = self.keeper.apply_removals(pending)
        if applied == len(pending):
            self._release()
        return applied

    def _hold(self, count: int) -> None:
        held = self.held() or {"since": now()}
        held["count"] = count
        with self.catalog.transaction():
            self.catalog.set_meta(HELD, json.dumps(held))
        self.alerts.raise_("deletions_held", count=count, since=held["since"])

    def _release(self) -> None:
        if self.catalog.get_meta(HELD) or self.catalog.get_meta(CONFIRM):
            with self.catalog.transaction():
                self.catalog.delete_meta(HELD)
                self.catalog.delete_meta(CONFIRM)
        self.alerts.clear("deletions_held")

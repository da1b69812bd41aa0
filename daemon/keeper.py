"""The keeper applies what happened to one path: the mirror first, then the catalog and the rules.

Both the service (what the watch saw, settled and batched) and the reconciler (what a tree walk
found) hand their findings to the keeper, so there is one place that decides what an arrival, a
change, a move or a removal means, and one batch pipeline (:meth:`Keeper.arrive`) that copies,
inspects and registers arrivals. Pending work always lives in the catalog (a file registered but
not mirrored, a removal not yet applied), so a crash, a missing mirror disk or a full one loses
nothing: the next catch-up finds it there.
"""

from __future__ import annotations

import io
import json
import os
import stat
import time
from dataclasses import dataclass, replace
from collections.abc import Iterator
from functools import partial
from enum import Enum
from typing import Any

from loguru import logger

from dangan.config.schema import Config
from dangan.config.messages import t
from dangan.config import words

from dangan.rules import inspector
from dangan.daemon.alerts import Alerts
from dangan.daemon.backoff import PathBackoff, record_displaced
from dangan.daemon.judge import Judge
from dangan.store.catalog import Catalog, Event, FileRecord, now
from dangan.store.layout import Layout
from dangan.store.mirror import (ContentMismatch, Copied, KeptVersion, Mirror, MirrorUnavailable, MirrorWriteError,
                     SourceChanged,
                     SourceGone, SourceUnreadable)
from dangan.store.progress import human_size
from dangan.store.names import show
from dangan.rules.rulebook import Rulebook
from dangan.daemon.stall import MirrorHung, Pending, StallGuard
from dangan.store.tree import Tree, open_file

# One batch of arrivals (Keeper.arrive): its copies' contents are held until inspected, its
# temp files stay open until durable, and one syncfs makes them all durable.
BATCH_FILES = 256
BATCH_BYTES = 16 << 20


class Outcome(Enum):
    DONE = "done"
    RETRY = "retry"  # the file is still changing: try again after it settles
    SKIPPED = "skipped"  # not a regular file, gone, or unreadable


@dataclass
class Arrival:
    """One arrival on its way: decided, then transferred, then concluded."""

    path: bytes
    st: os.stat_result
    old: FileRecord | None
    expect: str | None  # the content it must have (unchanged size, mtime, inode), else None
    to_mirror: bool
    copied: Copied | None = None
    digest: str | None = None
    facts: dict[str, Any] | None = None
    changing: bool = False
    corrupt: bool = False
    unreadable: str = ""
    mirror_error: Exception | None = None


@dataclass
class Flight:
    """A batch of arrivals whose copies were handed to the mirror thread, not yet registered."""

    arrivals: list[Arrival]
    copying: list[Arrival]  # those handed over (the others were unreadable, changing, or not to mirror)
    pending: Pending | None = None
    error: MirrorHung | None = None  # the handover itself failed

    @property
    def paths(self) -> list[bytes]:
        return [arrival.path for arrival in self.arrivals]


class Keeper:
    """Applies arrivals, changes, moves and removals to the mirror, the catalog and the rules."""

    def __init__(self, config: Config, catalog: Catalog, mirror: Mirror, alerts: Alerts,
                 tree: Tree | None = None) -> None:
        self.config = config
        self.catalog = catalog
        self.mirror = mirror
        self.alerts = alerts
        layout = Layout.of(config)
        self.root = os.fsencode(layout.archive_root)
        self.tree = tree or Tree(layout.archive_root, config.rules.ignore_patterns)
        self.judge = Judge(Rulebook(config), catalog, self.tree)
        self.algorithm = config.hash_algorithm
        self.retry_at = 0.0  # monotonic time before which the mirror is not tried again
        self.stall = StallGuard(config.mirror.stall_seconds)  # mirror writes off this thread, watched
        self.retry_delay = 0.0
        self.backoff = PathBackoff(config.mirror.retry_max_seconds)  # a path failing on its own
        # Files were registered without reaching the mirror: a catch-up is due when it is back.
        self.behind = True
        # The batch of copies on the mirror thread (see arrive): landed before anything else
        # touches the mirror or the catalog's view of those paths.
        self._flight: Flight | None = None
        # Paths to look at again that were concluded outside arrive/finish (a landing forced by
        # the reconcile's arrivals): handed to the service with the next arrive or finish.
        self._again: dict[bytes, None] = {}
        self.log_batches = False  # the service logs each batch copied (a command shows its progress instead)

    def close(self) -> None:
        """Let the mirror thread end (the batch in flight must have been landed: see finish)."""
        self.stall.close()

    # -- the mirror's lifecycle ---------------------------------------------------------------
    def sweep_temps(self) -> int:
        """Remove the temp files an interrupted copy left on the mirror (at a start). On the
        watched mirror thread: a hung disk must not hang the start."""
        if not self.mirror.available():
            return 0
        try:
            return self.stall.call(None, self.mirror.sweep_temps)
        except (OSError, MirrorHung) as exc:
            logger.warning(t("log.sweep_failed", reason=words.reason(exc)))
            return 0

    def mirror_lacking(self, expected: dict[bytes, dict[bytes, tuple[int, int]]],
                       slack_ns: int) -> list[bytes] | None:
        """What the mirror does not hold of ``expected`` (see :meth:`Mirror.lacking`), looked at on
        the watched mirror thread; None when the mirror hung."""
        try:
            return self.stall.call(None, self.mirror.lacking, expected, slack_ns)
        except MirrorHung:
            return None

    def refill(self, count: int) -> None:
        """``count`` copies the catalog lists were missing from the mirror and are marked to be
        copied again: a catch-up is due, and the admin is told until it is done."""
        self.behind = True
        self.alerts.raise_("mirror_refill", count=count)

    def catching_up(self) -> None:
        """A catch-up of every unmirrored record begins: not behind, unless it finds otherwise."""
        self.behind = False

    def fell_behind(self) -> None:
        """Records stay unmirrored (the disk went away, or paths wait out their back-off): catch up later."""
        self.behind = True

    def refilled(self) -> None:
        self.alerts.clear("mirror_refill")

    def copy_due(self, path: bytes) -> bool:
        """Whether ``path`` may be copied now (not waiting out a back-off of its own)."""
        return self.backoff.due(path)

    def next_copy_due(self) -> float:
        """The monotonic time the first path waiting out its own back-off may be tried again."""
        return self.backoff.next_due()

    def mirror_hung(self) -> bool:
        """A mirror call is still stuck in the kernel: its late result must be recorded by this
        keeper (and catalog), and no other keeper's thread may write beside it."""
        return self.stall.stuck and not self.stall.recovered()

    # -- the mirror's health ------------------------------------------------------------------
    def mirror_writable(self) -> bool:
        if not self.stall.recovered():
            return False  # a call is still stuck in the kernel: the disk is hung
        self.alerts.clear("mirror_hung")
        if time.monotonic() < self.retry_at:
            return False
        if not self.mirror.available():
            self.alerts.raise_("mirror_missing", path=os.fsdecode(self.mirror.root))
            return False
        if "mirror_missing" in self.alerts.active:
            self._sweep_after_outage()
        self.alerts.clear("mirror_missing")
        return True

    def _sweep_after_outage(self) -> None:
        """The mirror works again after an unmount or I/O errors: a temp file whose unlink failed
        then (EIO) may have come back with the journal replay. Swept now, as at a start."""
        try:
            swept = self.stall.call(None, self.mirror.sweep_temps)
        except (OSError, MirrorHung):
            return
        if swept:
            logger.info(t("log.swept_after_outage", count=swept))

    def _mirror_failed(self, exc: MirrorWriteError) -> None:
        if not exc.whole_disk:  # this path's own failure: it waits alone, the others go on
            seconds = self.backoff.failed(exc.path, exc.reason)
            self.alerts.note("mirror_path", path=show(exc.path), reason=exc.reason, seconds=round(seconds))
            return
        self.retry_delay = min(max(self.retry_delay * 2, 1.0), self.config.mirror.retry_max_seconds)
        self.retry_at = time.monotonic() + self.retry_delay
        self.alerts.raise_("mirror_write", reason=exc.reason, seconds=round(self.retry_delay))

    def _mirror_ok(self) -> None:
        if self.retry_delay:
            self.retry_delay = 0.0
            self.alerts.clear("mirror_write")
            self._sweep_after_outage()

    # -- arrivals and changes -----------------------------------------------------------------
    def arrived(self, path: bytes) -> Outcome:
        """A file at ``path`` is complete: mirror it, register it, judge it."""
        return self.arrived_many([path])[0]

    def arrived_many(self, paths: list[bytes]) -> list[Outcome]:
        """Files that are complete: mirror, register and judge them through the pipeline and land
        the last batch too. Returns the outcome of each path, in order."""
        outcomes = self._pipeline(paths)
        outcomes.update(self._land_flight())
        asked = set(paths)
        landed_before = {p: o for p, o in outcomes.items() if p not in asked}  # the service's batch in flight
        self._again.update(dict.fromkeys(self._recheck(landed_before)))
        return [outcomes[path] for path in paths]

    def arrive(self, paths: list[bytes]) -> list[bytes]:
        """Files that are complete (a burst drained from the watch): the service's pipeline. Each
        batch is launched on the mirror thread, then the batch before it is landed (inspected,
        registered) while it copies; the last one stays in flight until :meth:`finish` or the next
        call. Returns the paths to look at again once they stand still."""
        return self._recheck(self._pipeline(paths))

    def finish(self) -> list[bytes]:
        """Wait for the batch in flight and register it. Returns the paths to look at again."""
        return self._recheck(self._land_flight())

    @property
    def in_flight(self) -> bool:
        return self._flight is not None

    def _pipeline(self, paths: list[bytes]) -> dict[bytes, Outcome]:
        outcomes: dict[bytes, Outcome] = {}
        if self._flight is not None and not set(self._flight.paths).isdisjoint(paths):
            outcomes.update(self._land_flight())  # the same file again: its earlier copy is registered first
        for decided, batch in self.batches(paths):
            outcomes.update(decided)
            if batch:
                previous, self._flight = self._flight, self.launch(batch)
                if previous is not None:
                    outcomes.update(self.land(previous))
        return outcomes

    def _land_flight(self) -> dict[bytes, Outcome]:
        if self._flight is None:
            return {}
        flight, self._flight = self._flight, None
        return self.land(flight)

    def _recheck(self, outcomes: dict[bytes, Outcome]) -> list[bytes]:
        """What to look at again once it stands still: a file still being written, and the other
        names of a hard-linked file just copied (a write through one name changes them all, but
        inotify reports only the name written; each name is mirrored as its own file)."""
        again, self._again = self._again, {}
        for path, outcome in outcomes.items():
            if outcome is Outcome.RETRY:
                again[path] = None
            elif outcome is Outcome.DONE:
                again.update(dict.fromkeys(self._other_names(path)))
        return list(again)

    def _other_names(self, path: bytes) -> list[bytes]:
        try:
            st = self.tree.lstat(path)
        except OSError:
            return []
        if st.st_nlink < 2:
            return []
        return self.catalog.links.other_names(st.st_ino, path)

    def batches(self, paths: list[bytes]) -> Iterator[tuple[dict[bytes, Outcome], list["Arrival"]]]:
        """Decide each path (:meth:`prepare`) and group what needs a transfer into batches of at
        most BATCH_FILES and about BATCH_BYTES: yields the outcomes decided at once and a batch.
        Lazy, so that a batch can be landed before the next one reads the catalog."""
        decided: dict[bytes, Outcome] = {}
        batch: list[Arrival] = []
        size = 0
        for path in dict.fromkeys(paths):
            arrival = self.prepare(path)
            if isinstance(arrival, Outcome):
                decided[path] = arrival
                continue
            batch.append(arrival)
            size += arrival.st.st_size
            if len(batch) >= BATCH_FILES or size >= BATCH_BYTES:
                yield decided, batch
                decided, batch, size = {}, [], 0
        if decided or batch:
            yield decided, batch

    def prepare(self, path: bytes) -> "Arrival | Outcome":
        """Decide what an arrival needs (in the service's thread: it reads the catalog)."""
        try:
            st = self.tree.lstat(path)
        except FileNotFoundError:
            return Outcome.SKIPPED
        except OSError as exc:
            self.alerts.note("unreadable", path=show(path), reason=words.os_error(exc))
            return Outcome.SKIPPED
        if not stat.S_ISREG(st.st_mode) or self.tree.ignored(path.rpartition(b"/")[2]):
            return Outcome.SKIPPED
        old = self.catalog.record(path)
        unchanged = old is not None and old.removed_at is None and (old.size, old.mtime_ns, old.inode) == (
            st.st_size, st.st_mtime_ns, st.st_ino) and old.hash_algorithm == self.algorithm
        if unchanged and old.mirrored:
            return Outcome.DONE
        # Unchanged size, mtime and inode: the content must be what the catalog holds. If it is
        # not, the archive disk is rotting, and that copy must not replace a good one anywhere.
        expect = old.hash if unchanged and old.hash else None
        return Arrival(path, st, old, expect, to_mirror=self.mirror_writable() and self.backoff.due(path))

    def launch(self, arrivals: list["Arrival"]) -> "Flight":
        """Open the sources and start copying them to the mirror on the mirror thread (one batch);
        returns at once. Each file is read once, hashing while copying. Touches no shared state."""
        copying: list[tuple[Arrival, int]] = []
        for arrival in arrivals:
            try:
                source = open_file(self.root, arrival.path)
            except OSError as exc:
                arrival.unreadable = words.os_error(exc)  # unreadable is not gone: keep what we have
                continue
            opened, st = os.fstat(source), arrival.st
            if (opened.st_size, opened.st_mtime_ns, opened.st_ino) != (st.st_size, st.st_mtime_ns, st.st_ino):
                # Written again since it was looked at: the content read now would be registered with
                # the size and mtime of before (a later, identical copy would then pile up as a version).
                os.close(source)
                arrival.changing = True
                continue
            if arrival.to_mirror:
                copying.append((arrival, source))
            else:
                os.close(source)
        flight = Flight(arrivals, [arrival for arrival, _ in copying])
        if copying:
            try:
                flight.pending = self.stall.submit(partial(self._late_copies, flight.copying),
                                                   self.mirror.copy_many,
                                                   [(a.path, source, a.expect) for a, source in copying])
            except MirrorHung as exc:  # an earlier call is stuck: nothing was handed over
                for _, source in copying:
                    os.close(source)
                flight.error = exc
        return flight

    def land(self, flight: "Flight") -> dict[bytes, Outcome]:
        """Wait for a flight's copies, inspect its files and register them in one catalog
        transaction (in the service's thread). Returns the outcome of each of its paths."""
        if flight.copying:
            try:
                if flight.error is not None:
                    raise flight.error
                results = self.stall.result(flight.pending)
            except (MirrorUnavailable, MirrorHung) as exc:
                results = [exc] * len(flight.copying)
            for arrival, result in zip(flight.copying, results):
                if isinstance(result, Copied):
                    arrival.copied = result
                elif isinstance(result, ContentMismatch):
                    arrival.corrupt = True
                elif isinstance(result, (SourceChanged, SourceGone)):  # gone: its removal follows
                    arrival.changing = True
                elif isinstance(result, SourceUnreadable):
                    arrival.unreadable = str(result)
                else:
                    arrival.mirror_error = result
        for arrival in flight.arrivals:
            if not (arrival.unreadable or arrival.corrupt or arrival.changing):
                self._inspect(arrival)
        outcomes = self.conclude_many(flight.arrivals)
        copied = [a for a in flight.copying if a.copied is not None]
        if self.log_batches and copied:
            logger.info(t("log.batch", files=len(copied), size=human_size(sum(a.st.st_size for a in copied))))
        return dict(zip(flight.paths, outcomes))

    def _inspect(self, arrival: "Arrival") -> None:
        path, st = arrival.path, arrival.st
        try:
            if arrival.copied is not None:
                arrival.digest = arrival.copied.digest
                arrival.facts = self._facts(path, st, arrival.copied.data)
                arrival.copied = replace(arrival.copied, data=None)  # inspected: let the bytes go
            else:
                arrival.digest, arrival.facts = inspector.inspect(open_file(self.root, path), st.st_size,
                                                                  self.algorithm)
        except OSError as exc:
            if arrival.copied is None:
                arrival.unreadable = words.os_error(exc)
                return
            arrival.facts = {}  # deleted since its copy: registered, so its removal finds the copy
        arrival.corrupt = arrival.expect is not None and arrival.digest != arrival.expect

    def conclude_many(self, arrivals: list["Arrival"]) -> list[Outcome]:
        """Register what the transfers found, in one catalog transaction (in the service's thread)."""
        verdicts = [self._verdict(arrival) for arrival in arrivals]
        complete = [arrival for arrival, verdict in zip(arrivals, verdicts) if verdict is None]
        displaced = self.mirror.take_displaced()
        if complete or displaced:
            at = now()
            with self.catalog.transaction():
                record_displaced(self.catalog, displaced, at)
                for arrival in complete:
                    self._register(arrival, at)
        return [verdict or Outcome.DONE for verdict in verdicts]

    def _verdict(self, arrival: "Arrival") -> Outcome | None:
        """What an arrival comes to when it is not to be registered (None: register it)."""
        path = arrival.path
        if isinstance(arrival.mirror_error, MirrorHung):
            self.alerts.raise_("mirror_hung", path=show(path), reason=arrival.mirror_error.reason)
        elif isinstance(arrival.mirror_error, MirrorWriteError):
            self._mirror_failed(arrival.mirror_error)
        elif arrival.copied is not None:
            self._mirror_ok()
            self.backoff.succeeded(path)
        if arrival.changing:
            return Outcome.RETRY
        if arrival.unreadable:
            self.alerts.note("unreadable", path=show(path), reason=arrival.unreadable)
            return Outcome.SKIPPED
        if arrival.corrupt:
            return self._corrupt_primary(path)
        return None

    def _register(self, arrival: "Arrival", at: str) -> None:
        path, copied = arrival.path, arrival.copied
        self.catalog.register(path, arrival.st, arrival.digest, arrival.facts, self.algorithm, at)
        if copied is not None:
            self.catalog.set_mirrored(path, arrival.digest)
            self._record_version(copied.kept, arrival.old, "change", at)
        else:
            self.behind = True
        self.judge.file(path, arrival.st, arrival.facts, at)
        self.judge.listing_changed(path.rpartition(b"/")[0])

    def _late_copies(self, arrivals: list["Arrival"], outcomes: object) -> None:
        """A batch of copies declared hung has returned after all: record what it left on the mirror."""
        if not isinstance(outcomes, list):
            return  # failed whole: nothing was replaced, the catalog still lists the files as unmirrored
        at = now()
        with self.catalog.transaction():
            record_displaced(self.catalog, self.mirror.take_displaced(), at)
            for arrival, outcome in zip(arrivals, outcomes):
                if not isinstance(outcome, Copied):
                    continue
                record = self.catalog.record(arrival.path)
                self._record_version(outcome.kept, arrival.old, "change", at)
                if record is not None and record.removed_at is None and record.hash == outcome.digest:
                    self.catalog.set_mirrored(arrival.path, outcome.digest)

    def _late_version(self, relpath: bytes, reason: str, outcome: object) -> None:
        """A hung rename or removal that returned after all: the version it kept goes on record."""
        kept = outcome[1] if isinstance(outcome, tuple) else outcome
        if isinstance(kept, KeptVersion):
            record = self.catalog.record(relpath)
            with self.catalog.transaction():
                self.catalog.add_version(kept.path, record.mirror_hash if record else None, kept.size, kept.mtime_ns,
                                         now(), reason, kept.location)

    def _corrupt_primary(self, path: bytes) -> Outcome:
        """Same size, mtime and inode, other content: silent corruption on the archive disk. The
        catalog keeps the good hash, the mirror its good copy; the audit repairs the primary."""
        self.alerts.raise_("primary_corrupt", path=show(path))
        logger.error(t("log.primary_corrupt", path=show(path)))
        return Outcome.SKIPPED

    def _facts(self, path: bytes, st: os.stat_result, data: bytes | None) -> dict[str, Any]:
        if data is not None:
            return inspector.facts_of(io.BytesIO(data), data[: inspector.HEADER], len(data))
        with open(open_file(self.root, path), "rb") as f:  # a large file: parse it from the disk
            header = f.read(inspector.HEADER)
            f.seek(0)
            return inspector.facts_of(f, header, st.st_size)

    def _record_version(self, kept: KeptVersion | None, old: FileRecord | None, reason: str, at: str) -> None:
        if kept is None:
            return
        digest = old.mirror_hash if old is not None else None
        self.catalog.add_version(kept.path, digest, kept.size, kept.mtime_ns, at, reason, kept.location)

    # -- removals -----------------------------------------------------------------------------
    def drop_version(self, location: bytes) -> None:
        """Delete a kept version past its retention from the mirror (the reconcile's pruning)."""
        self.mirror.drop_version(location)

    def gone(self, path: bytes) -> None:
        """``path`` disappeared from the archive: register the removal; the mirror follows later
        (through the deletion guard)."""
        try:
            if stat.S_ISREG(self.tree.lstat(path).st_mode):
                return  # it is there after all (an old event): nothing was removed
            # a folder (or a link) of the same name now: the file is gone all the same
        except (FileNotFoundError, NotADirectoryError):
            pass
        except OSError:
            return  # cannot tell: never take a permission or disk error for a deletion
        record = self.catalog.record(path)
        if record is None or record.removed_at is not None:
            return
        at = now()
        with self.catalog.transaction():
            self.catalog.record_events([(Event.REMOVAL, path, {"hash": record.hash})], at)
            self.catalog.mark_removed([path], at)
            self.catalog.sync_violations([], None, at, paths=[path])
        self.judge.listing_changed(path.rpartition(b"/")[0])

    def gone_below(self, folder: bytes) -> None:
        """A folder disappeared (deleted, or moved out of the archive)."""
        for path in self.catalog.records([folder]):
            self.gone(path)

    def apply_removals(self, paths: list[bytes]) -> int:
        """Move the mirror copies of removed files into the versions area (guard already passed)."""
        applied = 0
        for path in paths:
            record = self.catalog.record(path)
            if record is None or record.removed_at is None:
                continue
            try:
                kept = self.stall.call(partial(self._late_version, path, "removal"), self.mirror.remove, path)
            except (MirrorWriteError, MirrorUnavailable, MirrorHung) as exc:
                if isinstance(exc, MirrorWriteError):
                    self._mirror_failed(exc)
                return applied
            at = now()
            with self.catalog.transaction():
                if kept is not None:
                    self.catalog.add_version(path, record.mirror_hash, kept.size, kept.mtime_ns, at, "removal",
                                             kept.location)
                self.catalog.forget([path])
            applied += 1
        return applied

    # -- moves --------------------------------------------------------------------------------
    def renamed(self, old: bytes, new: bytes) -> list[bytes]:
        """A file renamed inside the archive, as the watch saw it. Returns the paths to look at
        again once they stand still."""
        if self.tree.ignored(old.rpartition(b"/")[2]):
            return self.arrive([new])  # an editor's atomic save: temp file renamed over the record
        return [new] if self.moved(old, new) is Outcome.RETRY else []

    def moved(self, old: bytes, new: bytes) -> Outcome:
        """A rename or move inside the archive: a rename on the mirror too, when it is the same file."""
        record = self.catalog.record(old)
        try:
            st = self.tree.lstat(new)
        except OSError:
            self.gone(old)
            return Outcome.SKIPPED
        same = record is not None and record.removed_at is None and stat.S_ISREG(st.st_mode) and (
            record.size, record.mtime_ns, record.inode) == (st.st_size, st.st_mtime_ns, st.st_ino)
        if not same:
            self.gone(old)
            return self.arrived(new)
        previous = self.catalog.record(new)
        renamed, kept = False, None
        if record.mirrored and self.mirror_writable():
            try:
                renamed, kept = self.stall.call(partial(self._late_version, new, "change"), self.mirror.rename,
                                                old, new)
            except (MirrorWriteError, MirrorUnavailable, MirrorHung) as exc:
                if isinstance(exc, MirrorWriteError):
                    self._mirror_failed(exc)
        at = now()
        facts = json.loads(record.facts) if record.facts else {}
        with self.catalog.transaction():
            record_displaced(self.catalog, self.mirror.take_displaced(), at)
            self.catalog.register(new, st, record.hash, facts, self.algorithm, at, moved_from=record)
            if renamed:
                # The old path's copy is now at the new path: nothing is left to remove there.
                self.catalog.forget([old])
                self.catalog.set_mirrored(new, record.hash)
                self._record_version(kept, previous, "change", at)
            self.catalog.sync_violations([], None, at, paths=[old])
            self.judge.file(new, st, facts, at)
        self.judge.listing_changed(old.rpartition(b"/")[0], new.rpartition(b"/")[0])
        return Outcome.DONE

    def folder_moved(self, old: bytes, new: bytes) -> None:
        """A folder renamed or moved inside the archive: one rename on the mirror when possible."""
        records = self.catalog.records([old])
        # A copy still waiting for its removal (the deletion guard's delay) would travel with a folder
        # renamed whole and be orphaned at the new place: then the files move one by one.
        pending = any(p.startswith(old + b"/") for p in self.catalog.pending_removals())
        renamed = False
        if records and not pending and self.mirror_writable():
            try:
                renamed = self.stall.call(None, self.mirror.rename_folder, old, new)
            except (MirrorWriteError, MirrorUnavailable, MirrorHung) as exc:
                if isinstance(exc, MirrorWriteError):
                    self._mirror_failed(exc)
        if not renamed:
            for path in sorted(records):
                self.moved(path, new + path[len(old):])
            if self.mirror_writable():
                try:
                    self.stall.call(None, self.mirror.prune_empty, old)
                except MirrorHung:
                    pass  # mirror_writable() says so from now on
            return
        at = now()
        with self.catalog.transaction():
            for path, record in records.items():
                target = new + path[len(old):]
                try:
                    st = self.tree.lstat(target)
                except OSError:
                    continue  # already gone again: its own events follow
                facts = json.loads(record.facts) if record.facts else {}
                self.catalog.register(target, st, record.hash, facts, self.algorithm, at, moved_from=record)
                if record.mirrored:
                    self.catalog.forget([path])
                    self.catalog.set_mirrored(target, record.hash)
                self.catalog.sync_violations([], None, at, paths=[path])
                self.judge.file(target, st, facts, at)
        self.judge.listing_changed(old.rpartition(b"/")[0], new.rpartition(b"/")[0], old, new)

    # -- the rules ----------------------------------------------------------------------------
    def listing_changed(self, folder: bytes) -> None:
        """``folder``'s listing is to be judged again (once, by :meth:`judge_dirty`)."""
        self.judge.listing_changed(folder)

    def judge_listing(self, folder: bytes) -> None:
        """Re-judge a folder's listing (its description, its subfolders' names)."""
        self.judge.judge_listing(folder)

    def judge_dirty(self) -> None:
        """Judge every folder whose listing changed since the last time, once each."""
        self.judge.judge_dirty()

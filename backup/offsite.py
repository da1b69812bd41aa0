"""Off-site runs to the partner site: encrypted, content-addressed, inventoried, verified.

The partner's storage holds, inside rclone's crypt layer (names and content sealed):

* ``data/<2 hex>/<hash>`` — each distinct content once (no redundant data), never overwritten
  (``--immutable``) and never deleted by a run, so every version stays restorable;
* ``manifests/<run id>.json.gz`` — a run's complete inventory, with the exact bytes of every name
  (so names too long for crypt, or not UTF-8, come back exactly), and its register sheet (清单);
  most runs ship ``<run id>-delta.json.gz`` instead, only what changed since the run it names as
  its base (``backup/manifest.py``), which keeps a daily run's cost to what changed.

The source is the mirror disk, not the archive: content there is written by dangan only, atomically,
so a hard link to it (in ``<mirror>/.dangan/stage``) is an immutable view whose hash is known, and
the transfer names only those ASCII hash paths — no archive name ever reaches rclone's shell.
A run ships what changed since the partner last received it (by the catalog, without listing the
remote), in priority order: retention 永久 first, then files damaged on the primary, then newest.
"""

from __future__ import annotations

import configparser
import hashlib
import json
import math
import os
import re
import shutil
import tempfile
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from loguru import logger

from dangan.config.errors import EnvironmentProblem
from dangan.config.messages import t
from dangan.config.schema import Config
from dangan.store.atomic import write_atomic
from dangan.store.catalog import Catalog, Totals, now
from dangan.store.catalog.offsite import DAMAGED, MISSING
from dangan.store.hashing import hash_file
from dangan.store.layout import Layout, MIRROR_DIR
from dangan.store.mirror import Mirror
from dangan.store.progress import Progress

from dangan.backup.keys import OffsiteKey, key_path, require_private
from dangan.backup.manifest import (SUFFIX, Entry, Manifest, by_priority, current_entries, entries_of, object_name,
                                   rebuild, register_sheet, run_of)
from dangan.backup.rclone import CRYPT, Rclone, RcloneError, Transfer, TransferChild, _kill_group, last_error, obscure

STAGE = "stage"
SMALL_BATCH = 1000  # below this many objects, asking the partner per file beats listing it
# At most this many delta inventories follow a full one: a restore replays the chain.
MAX_DELTAS = 30
LISTED = "offsite_listed"  # meta: which run offsite_listed describes, its rules, the chain's length


@dataclass
class RunResult:
    """What one off-site run did."""

    run_id: str
    kind: str
    ok: bool
    files: int = 0
    bytes: int = 0
    total_files: int = 0
    total_bytes: int = 0
    not_shipped: int = 0  # records with no verified mirror copy yet (shipped next time)
    reason: str = ""
    manifest: Path | None = None


@dataclass
class VerifyResult:
    """What a verification of the partner's copy found."""

    run_id: str
    ok: bool
    method: str
    checked: int = 0
    problems: list[str] = field(default_factory=list)
    note: str = ""  # how the check was done, when not as configured (and why)


def run_id_now() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S.%f")[:-3] + "Z"


def run_limit(at: datetime) -> str:
    """The largest run id made at or before ``at`` (run ids are UTC times to the millisecond)."""
    return at.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%S.%f")[:-3] + "Z"


class Offsite:
    """The partner site as dangan sees it: a crypt remote over the admin's storage."""

    def __init__(self, config: Config, config_path: Path, catalog: Catalog | None, progress: bool = False,
                 lines: bool = False) -> None:
        if not config.offsite.remote:
            raise EnvironmentProblem(t("offsite.not_configured"))
        self.config = config
        self.catalog = catalog
        self.layout = Layout.of(config)
        self.progress = progress  # a bar on the terminal (the transfer runs through rclone-python)
        self.lines = lines  # otherwise plain progress lines (a pipe or a log), from rclone's stats
        self.key = OffsiteKey.load(key_path(config_path, config.offsite.key_file))
        if config.offsite.rclone_config:
            require_private(Path(config.offsite.rclone_config))  # it holds the partner's passwords
        self.rclone = Rclone(config.offsite.remote, obscure(self.key.password), obscure(self.key.salt),
                             config.offsite.rclone_config)
        self.work = self.layout.state_dir / "offsite-work"
        self.manifests = self.layout.state_dir / "manifests"
        # What dangan knows the partner holds is true of this partner only (see partner_identity)
        self.partner = partner_identity(config.offsite.remote, config.offsite.rclone_config)
        self.lost: dict[str, str] = {}  # hash -> missing | damaged: found by a verification, shipped first
        self.found: dict[str, str] = {}  # the same, as the verification under way finds them

    # -- shipping ---------------------------------------------------------------------------
    def run(self, kind: str = "incremental") -> RunResult:
        """Ship what the partner lacks, then the inventory. ``kind``: incremental | full | snapshot."""
        run_id = run_id_now()
        result = RunResult(run_id, kind, ok=False)
        with self.catalog.transaction():
            self.catalog.offsite.start_run(run_id, kind, now(), partner=self.partner)
        died: BaseException | None = None
        try:
            self._ship(result)
            result.ok = True
        except (RcloneError, EnvironmentProblem, OSError) as exc:
            result.reason = getattr(exc, "reason", "") or str(exc)
            logger.error(t("log.offsite_failed", run=run_id, reason=result.reason))
        except BaseException as exc:  # interrupted, stopped, or a bug: never left `running` for ever
            died = exc
            result.reason = t("offsite.run_died", detail=str(exc) or type(exc).__name__)
            logger.error(t("log.offsite_failed", run=run_id, reason=result.reason))
        self._close_run(result)
        if died is not None:
            raise died
        return result

    def _close_run(self, result: RunResult) -> None:
        """The run's row: ok or failed, with its counts (a run that died is failed, never `running`)."""
        run_id = result.run_id
        with self.catalog.transaction():
            self.catalog.offsite.end_run(run_id, now(), result.ok, result.reason or None,
                                         shipped=Totals(result.files, result.bytes),
                                         listed=Totals(result.total_files, result.total_bytes))

    def _ship(self, result: RunResult) -> None:
        mirror = Mirror(self.layout, self.config.hash_algorithm)
        mirror.require()  # the mirror disk is the source
        # rclone-python's child (progress on a terminal) starts while the inventory is made
        child = self.rclone.transfer_child() if self.progress else None
        try:
            self._ship_with(result, mirror, child)
        finally:
            if child is not None:
                child.cancel()

    def _ship_with(self, result: RunResult, mirror: Mirror, child: TransferChild | None) -> None:
        with self.catalog.transaction():
            # One write transaction: the inventory, what it implies to ship and the register's
            # counts all describe the same moment of the catalog.
            before = self._listed()
            inventory = self._inventory(result, before)
            todo = self._to_ship(result, inventory, complete_before=before.get("complete", False))
            per_department = self.catalog.offsite.listed_per_department()
            result.not_shipped = self.catalog.readings.mirror_backlog().count
        self.work.mkdir(parents=True, exist_ok=True)
        stage = self.layout.mirror_root / MIRROR_DIR / STAGE
        gone = set(mirror.stage([(e.path, object_name(d)) for d, e in todo.items()], STAGE))
        for digest in [d for d, e in todo.items() if e.path in gone]:
            del todo[digest]  # gone from the mirror meanwhile: the next run ships it
            result.not_shipped += 1
        tiers = self._tiers(list(todo.values()))
        no_traverse = len(todo) < SMALL_BATCH
        shipped = (sum(len(tier) for tier in tiers), sum(e.size for tier in tiers for e in tier))
        written: list[Path] = []
        try:
            for number, tier in enumerate(tiers):
                listing = self.work / f"{result.run_id}-{number}.txt"
                write_atomic(listing, ("".join(object_name(e.hash) + "\n" for e in tier)).encode("ascii"),
                             mode=0o600, durable=False)
                replace = any(self.lost.get(e.hash) == DAMAGED for e in tier)
                shown = Progress.for_command(t("progress.offsite"), len(tier), sum(e.size for e in tier),
                                             enabled=self.lines and not self.progress)
                try:
                    running = self.rclone.start_transfer(str(stage), f"{CRYPT}:", listing,
                                                         self._flags(no_traverse, replace), self.progress,
                                                         child if number == 0 else None, shown)
                    if not written:  # while the first transfer runs: the main process idles there
                        try:
                            written = self._write_manifest(inventory, per_department, *shipped)
                        except BaseException:
                            running.cancel()  # no rclone left running behind a failed run
                            raise
                    running.wait(self._timeout())
                finally:
                    shown.close()  # (a failed transfer too: no bar left drawn)
                with self.catalog.transaction():
                    self.catalog.offsite.shipped(result.run_id, [(e.hash, e.size) for e in tier],
                                                 partner=self.partner)
                result.files += len(tier)
                result.bytes += sum(e.size for e in tier)
                listing.unlink()
            if not written:
                written = self._write_manifest(inventory, per_department, *shipped)
            self._upload_manifest(*written, result.run_id)  # after the contents it names
        except BaseException:
            for path in written:
                path.unlink(missing_ok=True)  # no local inventory of a run that failed
            raise
        result.manifest = written[0]
        if not gone:  # every listed content is at the partner: the next delta need look no further
            with self.catalog.transaction():
                self.catalog.set_meta(LISTED, json.dumps({**self._listed(), "complete": True}))

    def _inventory(self, result: RunResult, before: dict) -> Manifest:
        """This run's inventory (inside the caller's transaction): a delta on top of the last
        successful run when that is possible and small, else every record. ``offsite_listed``
        then holds the complete state it describes, marked as this run's (pending until the run
        succeeds: a failed run leaves a mark that no later run builds on)."""
        register = self.catalog.offsite
        base = self._delta_base(result.kind, before)
        changed: list[Entry] = []
        removed: list[bytes] = []
        if base is not None:
            changed = entries_of(register.changed_since_listed(), self.config)
            removed = register.gone_since_listed()
            listed = register.listed_count()
            if len(changed) + len(removed) > max(listed // 2, SMALL_BATCH):
                base = None  # most of a large archive changed: a full inventory is as small
        if base is None:
            entries = current_entries(self.catalog, self.config)
            # the same rows as entries: this transaction holds the catalog's write lock
            register.list_all()
            deltas = 0
        else:
            entries = changed
            register.list_changes(removed, changed)
            deltas = before.get("deltas", 0) + 1
        result.total_files, result.total_bytes = register.listed_totals()
        self.catalog.set_meta(LISTED, json.dumps({"run": result.run_id, "rules": self._rules(),
                                                  "deltas": deltas, "partner": self.partner}))
        return Manifest(result.run_id, result.kind, now(), self.layout.archive_id(), self.config.hash_algorithm,
                        entries, base=base, removed=removed, total_files=result.total_files,
                        total_bytes=result.total_bytes)

    def _delta_base(self, kind: str, listed: dict) -> str | None:
        """The run a delta inventory can build on, or None for a full one: full passes and
        snapshots list everything, and so does a run after a failed one, after a failed
        verification, after the retention rules changed, once the chain is long, and the first
        run to another partner (the base must be at the partner that receives the delta)."""
        if kind != "incremental":
            return None
        last = self.catalog.offsite.last_good_run(self.partner)
        if last is None or listed.get("run") != last.id or (last.verification or "").startswith("failed"):
            return None
        if listed.get("partner") != self.partner:  # another partner, or not known (before version 3)
            return None
        if listed.get("rules") != self._rules() or listed.get("deltas", 0) >= MAX_DELTAS:
            return None
        return last.id

    def _listed(self) -> dict:
        """meta 'offsite_listed': the run ``offsite_listed`` describes, the retention rules, the
        number of deltas since the full inventory, and whether every listed content was shipped."""
        return json.loads(self.catalog.get_meta(LISTED) or "{}")

    def _rules(self) -> str:
        """The retention rules as listed entries were judged by (a delta repeats only changed records)."""
        settings = self.config.offsite
        return json.dumps([settings.retention_default, settings.retention_rules], ensure_ascii=False, sort_keys=True)

    def _to_ship(self, result: RunResult, inventory: Manifest, complete_before: bool) -> dict[str, Entry]:
        """Each content the inventory lists and the partner lacks, once, in priority order (a full
        pass: every content). Inside the inventory's transaction: ``offsite_listed`` is its state."""
        register = self.catalog.offsite
        self.lost = register.lost(partner=self.partner)
        if result.kind == "full":
            candidates = inventory.entries
        elif inventory.base is None:  # the inventory lists everything already
            held = register.held(partner=self.partner)
            candidates = [e for e in inventory.entries if e.hash not in held]
        elif complete_before and not self.lost:
            # Every content of the base is at the partner: only the delta's can be missing.
            candidates = [e for e in inventory.entries if not register.holds(e.hash, partner=self.partner)]
        else:  # a delta's base lacked some, or a verification found some lost since
            candidates = entries_of(register.listed_not_held(partner=self.partner), self.config)
        todo: dict[str, Entry] = {}
        for entry in by_priority(candidates, self.catalog):
            todo.setdefault(entry.hash, entry)
        return todo

    def _tiers(self, entries: list[Entry]) -> list[list[Entry]]:
        # Each tier is one rclone call; calls run in order, so priority holds across an interruption.
        # What a verification found lost comes first: the partner's copy has a hole there now.
        lost = [e for e in entries if e.hash in self.lost]
        first = [e for e in entries if e.retention == "永久" and e.hash not in self.lost]
        rest = [e for e in entries if e.retention != "永久" and e.hash not in self.lost]
        return [tier for tier in (lost, first, rest) if tier]

    def _flags(self, no_traverse: bool, replace: bool = False) -> list[str]:
        """rclone's flags for a transfer. Objects are named by their hash: one of the same name
        and size at the partner is that content (``--size-only``: a copy of the same content
        from a record with another mtime is not a conflict), and none is ever overwritten
        (``--immutable``) — except, with ``replace``, those a verification found damaged."""
        settings = self.config.offsite
        keep = ["--ignore-times"] if replace else ["--immutable", "--size-only"]
        flags = [*keep, f"--retries={settings.retries}", "--low-level-retries=10", "--contimeout=30s",
                 "--timeout=5m", "--stats-one-line"]
        if no_traverse:
            flags.append("--no-traverse")
        if settings.bwlimit:
            flags.append(f"--bwlimit={settings.bwlimit}")  # an argument: quoted where a shell reads it
        return flags

    def _timeout(self) -> float:
        return self.config.offsite.timeout_minutes * 60

    def _write_manifest(self, manifest: Manifest, per_department: dict[str | None, tuple[int, int]],
                        shipped_files: int, shipped_bytes: int) -> list[Path]:
        """The inventory and its register sheet, kept locally (``state_dir/manifests``)."""
        self.manifests.mkdir(parents=True, exist_ok=True)
        local = self.manifests / f"{manifest.name}{SUFFIX}"
        sheet = self.manifests / f"{manifest.name}-清单.txt"
        write_atomic(local, manifest.to_bytes(), mode=0o600)
        text = register_sheet(manifest.run_id, manifest.kind, manifest.created, per_department, shipped_files,
                              shipped_bytes,
                              manifest if manifest.base else None)
        write_atomic(sheet, text.encode("utf-8"), mode=0o600)
        return [local, sheet]

    def _upload_manifest(self, local: Path, sheet: Path, run_id: str) -> None:
        """Both to the partner in one rclone run. The register sheet travels under an ASCII name
        (only dangan's own names reach rclone): hard links give it that name in a folder of its own."""
        name = local.name.removesuffix(SUFFIX)
        outgoing = self.work / f"{run_id}-manifest"
        shutil.rmtree(outgoing, ignore_errors=True)
        outgoing.mkdir(parents=True)
        try:
            os.link(local, outgoing / local.name)
            os.link(sheet, outgoing / f"{name}-register.txt")
            listing = self.work / f"{run_id}-manifest.txt"
            write_atomic(listing, (f"{local.name}\n{name}-register.txt\n").encode("ascii"),
                         mode=0o600, durable=False)
            self.rclone.run(["copy", str(outgoing), f"{CRYPT}:manifests", f"--files-from={listing}", "--immutable",
                             "--no-traverse"], timeout=self._timeout())
            listing.unlink()
        finally:
            shutil.rmtree(outgoing, ignore_errors=True)

    # -- verification -----------------------------------------------------------------------
    def verify(self) -> VerifyResult:
        """Prove this partner holds every object of the latest manifest shipped to it, intact.
        What is found missing or damaged is no longer counted as held: the next run ships it
        again, before anything else."""
        latest = self.catalog.offsite.last_good_run(self.partner)
        if latest is None:
            raise EnvironmentProblem(t("offsite.nothing_to_verify"))
        run_id = latest.id
        manifest, chain = self._local_chain(run_id)
        method = self.config.offsite.verify
        result = VerifyResult(run_id, ok=False, method=method)
        digests = sorted({e.hash for e in manifest.entries})
        self.found = {}
        try:
            self._verify_manifests_present(chain)
            result.problems += self._verify_chain_content(chain)
            if method == "cryptcheck":
                try:
                    result.problems += self._cryptcheck(digests)
                    result.checked = len(digests)
                except _NoHashes as exc:
                    # The partner's storage offers no checksums (an sftp server without md5sum):
                    # nothing can be compared without reading it back, so a slice is downloaded.
                    result.method = "sample"
                    result.note = t("offsite.no_hashes", reason=exc.reason)
                    problems, result.checked = self._sample(digests)
                    result.problems += problems
            else:
                problems, result.checked = self._sample(digests)
                result.problems += problems
        except RcloneError as exc:
            result.problems.append(exc.reason)
        result.ok = not result.problems
        verdict = "ok" if result.ok else "failed: " + "; ".join(result.problems[:5])
        with self.catalog.transaction():
            self.catalog.offsite.set_verification(run_id, now(), verdict)
            self.catalog.offsite.found_lost(self.found, partner=self.partner)
            if result.ok and result.method == "cryptcheck":
                self.catalog.offsite.objects_verified(now(), partner=self.partner)
        return result

    # -- reading back (restore, drills) --------------------------------------------------------
    def manifest_at(self, at: datetime | None, newest_known: str | None = None,
                    accept_older: bool = False) -> Manifest:
        """The partner's latest complete inventory (made at or before ``at``), fetched through the
        crypt layer and replayed from its last full inventory through the deltas: what a restore
        needs when the state folder and the mirror are gone.

        ``newest_known`` is the newest run (at or before ``at``) that the local catalog, or its
        copy on the mirror, knows was shipped to this partner. A partner whose newest inventory is
        older was rolled back or lost data: refused, unless ``accept_older`` asks for the newest
        state the partner has — then an inventory that is not what its name says is passed over
        for the one before it too."""
        names = [n for n in self._partner_manifests() if n.endswith(SUFFIX)]
        if at is not None:
            limit = run_limit(at)
            names = [n for n in names if run_of(n) <= limit]
        if not names:
            raise EnvironmentProblem(t("restore.no_manifest"))
        newest = run_of(max(names))
        if newest_known is not None and newest < newest_known and not accept_older:
            raise EnvironmentProblem(t("restore.partner_older", partner_run=newest, known=newest_known))
        with tempfile.TemporaryDirectory(prefix=".dangan-manifest-") as scratch:
            def load(batch: list[str]) -> dict[str, Manifest]:
                listing = Path(scratch) / "wanted.txt"
                write_atomic(listing, ("".join(n + "\n" for n in batch)).encode("ascii"),
                             mode=0o600, durable=False)
                self.rclone.run(["copy", f"{CRYPT}:manifests", f"{scratch}/manifests", f"--files-from={listing}"],
                                timeout=self._timeout())
                found = {n: Path(scratch) / "manifests" / n for n in batch}
                return {n: Manifest.from_bytes(p.read_bytes()) for n, p in found.items() if p.exists()}

            targets = sorted(names, reverse=True)
            for number, target in enumerate(targets):
                try:
                    return rebuild(names, target, load)[0]
                except EnvironmentProblem as problem:
                    if not accept_older or number == len(targets) - 1:
                        raise
                    logger.warning(t("log.inventory_unusable", target=target, reason=problem))
            raise EnvironmentProblem(t("restore.no_manifest"))

    def local_manifest(self, run_id: str) -> Manifest:
        """The complete inventory of run ``run_id`` from the local copies (replayed when a delta)."""
        return self._local_chain(run_id)[0]

    def _local_chain(self, run_id: str) -> tuple[Manifest, list[str]]:
        names = [p.name for p in self.manifests.glob(f"*{SUFFIX}")] if self.manifests.is_dir() else []
        target = next((n for n in names if run_of(n) == run_id), None)
        if target is None:
            raise EnvironmentProblem(t("offsite.manifest_missing", run=run_id))

        def load(batch: list[str]) -> dict[str, Manifest]:
            return {n: Manifest.from_bytes((self.manifests / n).read_bytes()) for n in batch}

        return rebuild(names, target, load)

    def _partner_manifests(self) -> list[str]:
        return self.rclone.run(["lsf", f"{CRYPT}:manifests"], timeout=self._timeout()).stdout.split()

    def _verify_manifests_present(self, chain: list[str]) -> None:
        """Every inventory of the chain is on the partner: without one, no complete restore."""
        listing = set(self._partner_manifests())
        for name in chain:
            if name not in listing:
                raise RcloneError("rclone lsf", t("offsite.manifest_gone", name=name))

    def _verify_chain_content(self, chain: list[str]) -> list[str]:
        """Each inventory of the chain at the partner is byte for byte the one shipped (kept in
        ``state_dir/manifests``): an older, valid inventory under a newer one's name would pass
        every other check, and a restore by it would silently drop files."""
        problems: list[str] = []
        with tempfile.TemporaryDirectory(dir=self.layout.state_dir, prefix=".dangan-verify-") as scratch:
            listing = Path(scratch) / "chain.txt"
            listing.write_text("".join(n + "\n" for n in chain), encoding="ascii")
            self.rclone.run(["copy", f"{CRYPT}:manifests", f"{scratch}/manifests", f"--files-from={listing}"],
                            timeout=self._timeout())
            for name in chain:
                there = Path(scratch) / "manifests" / name
                if not there.exists():
                    problems.append(t("offsite.manifest_gone", name=name))
                elif there.read_bytes() != (self.manifests / name).read_bytes():
                    try:
                        found = Manifest.from_bytes(there.read_bytes()).run_id
                    except (ValueError, KeyError, OSError, EOFError):
                        found = "?"
                    problems.append(t("offsite.manifest_differs", name=name, found=found))
        return problems

    def fetch(self, digests: list[str], into: Path,
              started: Callable[[Transfer | TransferChild], None] = lambda running: None) -> None:
        """Download objects (by hash) into ``into/data/<hh>/<hash>``; what exists is not fetched again.
        ``started`` receives the running transfer, so that another thread can cancel it."""
        into.mkdir(parents=True, exist_ok=True)
        listing = into / "wanted.txt"
        write_atomic(listing, ("".join(object_name(d) + "\n" for d in digests)).encode("ascii"),
                     mode=0o600, durable=False)
        try:
            running = self.rclone.start_transfer(f"{CRYPT}:", str(into), listing, ["--retries=3"], self.progress)
            started(running)
            running.wait(self._timeout())
        finally:
            listing.unlink(missing_ok=True)

    def _cryptcheck(self, digests: list[str]) -> list[str]:
        """rclone cryptcheck: encrypts each local object with the partner's nonce and compares the
        partner's checksum, so nothing is downloaded; reports missing and differing objects."""
        stage = self.layout.mirror_root / MIRROR_DIR / STAGE
        self.work.mkdir(parents=True, exist_ok=True)
        listing = self.work / "verify.txt"
        write_atomic(listing, ("".join(object_name(d) + "\n" for d in digests)).encode("ascii"),
                     mode=0o600, durable=False)
        try:
            # NOTICE, not ERROR: rclone says "does not support any hashes" at that level
            done = self.rclone.run(["cryptcheck", str(stage), f"{CRYPT}:", f"--files-from={listing}", "--one-way",
                                    "--log-level=NOTICE"], timeout=self._timeout(), check=False)
        finally:
            listing.unlink(missing_ok=True)
        if done.returncode == 0:
            return []
        problems = [line.split(" : ", 1)[-1].strip() for line in done.stderr.splitlines()
                    if "ERROR" in line and "data/" in line]
        if not problems:
            reason = last_error(done.stderr)
            if "support any hashes" in reason:
                raise _NoHashes("rclone cryptcheck", reason)
            return [reason or t("offsite.cryptcheck_failed", code=done.returncode)]
        for problem in problems:
            found = _OBJECT.search(problem)
            if found:
                self.found[found.group(1)] = MISSING if "not in" in problem else DAMAGED
        # cryptcheck compares the partner with the local stage. A stage object whose content no
        # longer matches its name (the mirror copy it links to rotted) says nothing about the
        # partner: those objects are checked again by downloading and hashing them.
        suspects = [p.split(":", 1)[0].rsplit("/", 1)[-1] for p in problems]
        damaged_here = [d for d in suspects if _hash_of(stage / object_name(d), self.config.hash_algorithm) != d]
        if not damaged_here:
            return problems
        for digest in damaged_here:
            self.found.pop(digest, None)  # the download below says what the partner's copy is
        again, _ = self._download_and_hash(damaged_here)
        return [p for p, d in zip(problems, suspects) if d not in damaged_here] + again

    def _sample(self, digests: list[str]) -> tuple[list[str], int]:
        """restic's --read-data-subset idea: download a slice and hash it against the manifest."""
        # A different slice each ISO week: over ceil(1/share) weeks every object has been read.
        slices = max(1, math.ceil(1 / self.config.offsite.sample_share))
        week = datetime.now(timezone.utc).isocalendar().week
        return self._download_and_hash([d for i, d in enumerate(digests) if i % slices == week % slices])

    def _download_and_hash(self, chosen: list[str]) -> tuple[list[str], int]:
        problems: list[str] = []
        with tempfile.TemporaryDirectory(dir=self.layout.state_dir, prefix=".dangan-verify-") as scratch:
            listing = Path(scratch) / "sample.txt"
            write_atomic(listing, ("".join(object_name(d) + "\n" for d in chosen)).encode("ascii"),
                         mode=0o600, durable=False)
            try:
                self.rclone.run(["copy", f"{CRYPT}:", f"{scratch}/data-root", f"--files-from={listing}"],
                                timeout=self._timeout())
            except RcloneError as exc:
                problems.append(exc.reason)
            for digest in chosen:
                path = Path(scratch) / "data-root" / object_name(digest)
                if not path.exists():
                    problems.append(t("offsite.sample_missing", object=object_name(digest)))
                    self.found[digest] = MISSING
                elif _hash_of(path, self.config.hash_algorithm) != digest:
                    problems.append(t("offsite.sample_corrupt", object=object_name(digest)))
                    self.found[digest] = DAMAGED
        return problems, len(chosen)


class _NoHashes(RcloneError):
    """The partner's storage offers no checksum: cryptcheck cannot compare anything."""


_OBJECT = re.compile(r"data/[0-9a-f]{2}/([0-9a-f]+)")


def partner_identity(remote: str, rclone_config: str) -> str:
    """Which partner ``remote`` is: the remote as written, with — when it names a remote of the
    admin's rclone.conf — that section's settings (host, port, user, bucket …; secrets left out,
    so a new password is not a new partner). Another host behind the same remote name is another
    partner. A digest, so that no host name or path is kept in the catalog twice."""
    parts = [remote]
    name = remote.split(":", 1)[0].split(",", 1)[0] if ":" in remote and not remote.startswith("/") else ""
    if name and rclone_config:
        settings = configparser.RawConfigParser(interpolation=None)
        try:
            settings.read(rclone_config, encoding="utf-8")
        except (OSError, configparser.Error):
            pass  # rclone itself will say what is wrong with it
        seen: set[str] = set()
        while name and name in settings and name not in seen:
            seen.add(name)
            section = settings[name]
            parts += [f"[{name}]", *(f"{k}={v}" for k, v in sorted(section.items()) if not _SECRET.search(k))]
            inner = section.get("remote", "")  # an alias, crypt, union … over another remote
            name = inner.split(":", 1)[0] if ":" in inner else ""
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()[:32]


_SECRET = re.compile(r"pass|secret|token|private|key_pem|^key$|session|sas_url", re.IGNORECASE)


def _hash_of(path: Path, algorithm: str) -> str | None:
    try:
        return hash_file(path, algorithm)
    except OSError:
        return None


def offsite_fetch(offsite: Offsite, scratch: Path):
    """A restore source reading the partner. The objects download in the background and each is
    handed over as soon as it is there, so restoring overlaps the download. They land on the
    target's disk: one that a single path needs is moved into place, not copied."""
    from dangan.backup.restore import Copy, Item

    scratch = Path(os.path.abspath(scratch))

    def fetch(items: list[Item]):
        waiting: dict[str, list[Item]] = {}
        for item in items:
            waiting.setdefault(item.hash, []).append(item)
        queues: dict[str, deque[str]] = {}  # per object folder, in name order (about rclone's order)
        for digest in sorted(waiting):
            queues.setdefault(digest[:2], deque()).append(digest)
        uses = {digest: len(group) for digest, group in waiting.items()}
        where = {digest: os.fsencode(scratch / object_name(digest)) for digest in waiting}
        download = _Download(offsite, sorted(waiting), scratch)
        try:
            while waiting:
                finished = download.finished()  # first: whatever is there after the end is complete
                ready: list[Item] = []
                for folder in list(queues):
                    queue = queues[folder]
                    # rclone renames a finished object from its .partial name: a name present is whole
                    while queue and (finished or os.path.exists(where[queue[0]])):
                        ready += waiting.pop(queue.popleft())
                    if not queue:
                        del queues[folder]
                reason = download.error or t("restore.not_at_partner")
                for item in sorted(ready, key=lambda i: i.path):
                    yield item, iter((Copy(where[item.hash], item.mtime_ns, movable=uses[item.hash] == 1),)), reason
                if not ready:
                    download.wait(0.25)
        finally:
            download.stop()
    return fetch


class _Download:
    """The partner's objects downloading in a background thread (rclone in its own process group)."""

    def __init__(self, offsite: Offsite, digests: list[str], into: Path) -> None:
        self.error = ""
        self._running: Transfer | TransferChild | None = None  # the rclone transfer, once started
        self._stopped = False
        self._lock = threading.Lock()  # stop() and the start of the transfer, in either order
        self._thread = threading.Thread(target=self._run, args=(offsite, digests, into), name="partner-download",
                                        daemon=True)
        self._thread.start()

    def _run(self, offsite: Offsite, digests: list[str], into: Path) -> None:
        try:
            offsite.fetch(digests, into, started=self._started)
        except RcloneError as exc:
            self.error = exc.reason
        except Exception as exc:  # noqa: BLE001 - the restore reports it for every file left
            self.error = str(exc) or type(exc).__name__

    def _started(self, running: Transfer | TransferChild) -> None:
        with self._lock:
            self._running = running
            if self._stopped:  # the restore ended before rclone started: no orphan transfer
                _kill_group(running.process.pid)

    def finished(self) -> bool:
        return not self._thread.is_alive()

    def wait(self, seconds: float) -> None:
        self._thread.join(seconds)

    def stop(self) -> None:
        """The restore ended early (an error, Ctrl-C): take the transfer down rather than leave it running."""
        if self._thread.is_alive():
            with self._lock:
                self._stopped = True
                if self._running is not None:  # its waiting thread then sees it end and returns
                    _kill_group(self._running.process.pid)
            self._thread.join(15)

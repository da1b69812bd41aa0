"""Off-site runs to the partner site: encrypted, content-addressed, inventoried, verified.

The partner's storage holds, inside rclone's crypt layer (names and content sealed):

* ``data/<2 hex>/<hash>`` — each distinct content once (no redundant data), never overwritten
  (``--immutable``) and never deleted by a run, so every version stays restorable;
* ``manifests/<run id>.json.gz`` — each run's inventory, with the exact bytes of every name (so
  names too long for crypt, or not UTF-8, come back exactly), and its register sheet (清单).

The source is the mirror disk, not the archive: content there is written by dangan only, atomically,
so a hard link to it (in ``<mirror>/.dangan/stage``) is an immutable view whose hash is known, and
the transfer names only those ASCII hash paths — no archive name ever reaches rclone's shell.
A run ships what changed since the partner last received it (by the catalog, without listing the
remote), in priority order: retention 永久 first, then files damaged on the primary, then newest.
"""

from __future__ import annotations

import math
import multiprocessing
import os
import tempfile
import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from loguru import logger

from dangan.config.errors import EnvironmentProblem
from dangan.config.messages import t
from dangan.config.schema import Config
from dangan.daemon.atomic import write_atomic
from dangan.daemon.catalog import Catalog, now
from dangan.daemon.hashing import hash_file
from dangan.daemon.layout import Layout, MIRROR_DIR
from dangan.daemon.mirror import Mirror

from .keys import OffsiteKey, key_path, require_private
from .manifest import Entry, Manifest, current_entries, object_name
from .rclone import CRYPT, Rclone, RcloneError, _kill_group, last_error, obscure

STAGE = "stage"
SMALL_BATCH = 1000  # below this many objects, asking the partner per file beats listing it


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


def run_id_now() -> str:
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S.%f")[:-3] + "Z"


class Offsite:
    """The partner site as dangan sees it: a crypt remote over the admin's storage."""

    def __init__(self, config: Config, config_path: Path, catalog: Catalog | None, progress: bool = False) -> None:
        if not config.offsite.remote:
            raise EnvironmentProblem(t("offsite.not_configured"))
        self.config = config
        self.catalog = catalog
        self.layout = Layout.of(config)
        self.progress = progress
        self.key = OffsiteKey.load(key_path(config_path, config.offsite.key_file))
        if config.offsite.rclone_config:
            require_private(Path(config.offsite.rclone_config))  # it holds the partner's passwords
        self.rclone = Rclone(config.offsite.remote, obscure(self.key.password), obscure(self.key.salt),
                             config.offsite.rclone_config)
        self.work = self.layout.state_dir / "offsite-work"
        self.manifests = self.layout.state_dir / "manifests"

    # -- shipping ---------------------------------------------------------------------------
    def run(self, kind: str = "incremental") -> RunResult:
        """Ship what the partner lacks, then the inventory. ``kind``: incremental | full | snapshot."""
        run_id = run_id_now()
        result = RunResult(run_id, kind, ok=False)
        with self.catalog.transaction():
            self.catalog.db.execute("INSERT INTO offsite_runs (id, kind, started, result) VALUES (?,?,?,?)",
                                    (run_id, kind, now(), "running"))
        try:
            self._ship(result)
            result.ok = True
        except (RcloneError, EnvironmentProblem, OSError) as exc:
            result.reason = getattr(exc, "reason", "") or str(exc)
            logger.error("off-site run {} failed: {}", run_id, result.reason)
        with self.catalog.transaction():
            self.catalog.db.execute(
                "UPDATE offsite_runs SET ended = ?, files = ?, bytes = ?, total_files = ?, total_bytes = ?,"
                " result = ?, reason = ? WHERE id = ?",
                (now(), result.files, result.bytes, result.total_files, result.total_bytes,
                 "ok" if result.ok else "failed", result.reason or None, run_id))
        return result

    def _ship(self, result: RunResult) -> None:
        mirror = Mirror(self.layout, self.config.hash_algorithm)
        mirror.require()  # the mirror disk is the source
        entries = current_entries(self.catalog, self.config)
        result.total_files = len(entries)
        result.total_bytes = sum(e.size for e in entries)
        result.not_shipped = self.catalog.db.execute(
            "SELECT count(*) FROM files WHERE removed_at IS NULL AND (mirror_hash IS NULL OR mirror_hash != hash)"
        ).fetchone()[0]
        held = {row[0] for row in self.catalog.db.execute("SELECT hash FROM offsite_objects")}
        todo: dict[str, Entry] = {}
        for entry in self._by_priority(entries):
            if (result.kind == "full" or entry.hash not in held) and entry.hash not in todo:
                todo[entry.hash] = entry
        self.work.mkdir(parents=True, exist_ok=True)
        stage = self.layout.mirror_root / MIRROR_DIR / STAGE
        for digest, entry in list(todo.items()):
            if not mirror.stage(entry.path, object_name(digest), STAGE):
                del todo[digest]  # gone from the mirror meanwhile: the next run ships it
                result.not_shipped += 1
        if todo:
            tiers = self._tiers(list(todo.values()))
            flags = self._flags(no_traverse=len(todo) < SMALL_BATCH)
            for number, tier in enumerate(tiers):
                listing = self.work / f"{result.run_id}-{number}.txt"
                listing.write_text("".join(object_name(e.hash) + "\n" for e in tier), encoding="ascii")
                self.rclone.transfer(str(stage), f"{CRYPT}:", listing, flags, self._timeout(), self.progress)
                with self.catalog.transaction():
                    self.catalog.db.executemany(
                        "INSERT OR REPLACE INTO offsite_objects (hash, size, run_id) VALUES (?,?,?)",
                        [(e.hash, e.size, result.run_id) for e in tier])
                result.files += len(tier)
                result.bytes += sum(e.size for e in tier)
                listing.unlink()
        manifest = Manifest(result.run_id, result.kind, now(), self.layout.archive_id(),
                            self.config.hash_algorithm, entries)
        result.manifest = self._write_manifest(manifest, result)

    def _by_priority(self, entries: list[Entry]) -> list[Entry]:
        """永久 first, then records damaged on the primary (the mirror holds their good copy), then
        newest first: an interrupted run has shipped what matters most."""
        damaged = {row[0] for row in self.catalog.db.execute(
            "SELECT path FROM violations WHERE fixed_at IS NULL AND rule = 'readable.corrupt'")}
        return sorted(entries, key=lambda e: (e.retention != "永久", e.path not in damaged, -e.mtime_ns))

    @staticmethod
    def _tiers(entries: list[Entry]) -> list[list[Entry]]:
        # Each tier is one rclone call; calls run in order, so priority holds across an interruption.
        first = [e for e in entries if e.retention == "永久"]
        rest = [e for e in entries if e.retention != "永久"]
        return [tier for tier in (first, rest) if tier]

    def _flags(self, no_traverse: bool) -> list[str]:
        settings = self.config.offsite
        flags = ["--immutable", f"--retries={settings.retries}", "--low-level-retries=10", "--contimeout=30s",
                 "--timeout=5m", "--stats-one-line"]
        if no_traverse:
            flags.append("--no-traverse")
        if settings.bwlimit:
            flags.append(f"--bwlimit='{settings.bwlimit}'")
        return flags

    def _timeout(self) -> float:
        return self.config.offsite.timeout_minutes * 60

    def _write_manifest(self, manifest: Manifest, result: RunResult) -> Path:
        self.manifests.mkdir(parents=True, exist_ok=True)
        name = f"{manifest.run_id}{'-snapshot' if manifest.kind == 'snapshot' else ''}"
        local = self.manifests / f"{name}.json.gz"
        sheet = self.manifests / f"{name}-清单.txt"
        write_atomic(local, manifest.to_bytes(), mode=0o600)
        write_atomic(sheet, manifest.summary(result.files, result.bytes).encode("utf-8"), mode=0o600)
        # The register sheet travels under an ASCII name: only dangan's own names reach rclone.
        self.rclone.run(["copyto", str(local), f"{CRYPT}:manifests/{name}.json.gz", "--immutable"],
                        timeout=self._timeout())
        self.rclone.run(["copyto", str(sheet), f"{CRYPT}:manifests/{name}-register.txt", "--immutable"],
                        timeout=self._timeout())
        return local

    # -- verification -----------------------------------------------------------------------
    def verify(self) -> VerifyResult:
        """Prove the partner holds every object of the latest manifest, intact."""
        latest = self.catalog.db.execute(
            "SELECT id FROM offsite_runs WHERE result = 'ok' ORDER BY id DESC LIMIT 1").fetchone()
        if latest is None:
            raise EnvironmentProblem(t("offsite.nothing_to_verify"))
        run_id = latest[0]
        manifest = self.local_manifest(run_id)
        method = self.config.offsite.verify
        result = VerifyResult(run_id, ok=False, method=method)
        digests = sorted({e.hash for e in manifest.entries})
        try:
            self._verify_manifest_present(run_id, manifest.kind)
            if method == "cryptcheck":
                result.problems = self._cryptcheck(digests)
                result.checked = len(digests)
            else:
                result.problems, result.checked = self._sample(digests)
        except RcloneError as exc:
            result.problems.append(exc.reason)
        result.ok = not result.problems
        verdict = "ok" if result.ok else "failed: " + "; ".join(result.problems[:5])
        with self.catalog.transaction():
            self.catalog.db.execute("UPDATE offsite_runs SET verified_at = ?, verification = ? WHERE id = ?",
                                    (now(), verdict, run_id))
            if result.ok and method == "cryptcheck":
                self.catalog.db.execute("UPDATE offsite_objects SET verified_at = ?", (now(),))
        return result

    # -- reading back (restore, drills) --------------------------------------------------------
    def manifest_at(self, at: datetime | None) -> Manifest:
        """The partner's latest inventory (made at or before ``at``), fetched through the crypt layer:
        what a restore needs when the state folder and the mirror are gone."""
        names = self.rclone.run(["lsf", f"{CRYPT}:manifests"], timeout=self._timeout()).stdout.split()
        runs = sorted(n for n in names if n.endswith(".json.gz"))
        if at is not None:
            limit = at.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%S.%f")
            runs = [n for n in runs if n[:len(limit) - 3] <= limit[:-3]]
        if not runs:
            raise EnvironmentProblem(t("restore.no_manifest"))
        with tempfile.TemporaryDirectory(prefix=".dangan-manifest-") as scratch:
            local = Path(scratch) / "manifest.json.gz"
            self.rclone.run(["copyto", f"{CRYPT}:manifests/{runs[-1]}", str(local)], timeout=self._timeout())
            return Manifest.from_bytes(local.read_bytes())

    def fetch(self, digests: list[str], into: Path) -> None:
        """Download objects (by hash) into ``into/data/<hh>/<hash>``; what exists is not fetched again."""
        into.mkdir(parents=True, exist_ok=True)
        listing = into / "wanted.txt"
        listing.write_text("".join(object_name(d) + "\n" for d in digests), encoding="ascii")
        try:
            self.rclone.transfer(f"{CRYPT}:", str(into), listing, ["--retries=3"], self._timeout(), self.progress)
        finally:
            listing.unlink(missing_ok=True)

    def local_manifest(self, run_id: str) -> Manifest:
        for name in (f"{run_id}.json.gz", f"{run_id}-snapshot.json.gz"):
            path = self.manifests / name
            if path.exists():
                return Manifest.from_bytes(path.read_bytes())
        raise EnvironmentProblem(t("offsite.manifest_missing", run=run_id))

    def _verify_manifest_present(self, run_id: str, kind: str) -> None:
        name = f"{run_id}{'-snapshot' if kind == 'snapshot' else ''}.json.gz"
        listing = self.rclone.run(["lsf", f"{CRYPT}:manifests"], timeout=self._timeout()).stdout.split()
        if name not in listing:
            raise RcloneError("rclone lsf", t("offsite.manifest_gone", name=name))

    def _cryptcheck(self, digests: list[str]) -> list[str]:
        """rclone cryptcheck: encrypts each local object with the partner's nonce and compares the
        partner's checksum, so nothing is downloaded; reports missing and differing objects."""
        stage = self.layout.mirror_root / MIRROR_DIR / STAGE
        self.work.mkdir(parents=True, exist_ok=True)
        listing = self.work / "verify.txt"
        listing.write_text("".join(object_name(d) + "\n" for d in digests), encoding="ascii")
        try:
            done = self.rclone.run(["cryptcheck", str(stage), f"{CRYPT}:", f"--files-from={listing}", "--one-way",
                                    "--log-level=ERROR"], timeout=self._timeout(), check=False)
        finally:
            listing.unlink(missing_ok=True)
        if done.returncode == 0:
            return []
        problems = [line.split(" : ", 1)[-1].strip() for line in done.stderr.splitlines()
                    if "ERROR" in line and "data/" in line]
        if not problems:
            return [last_error(done.stderr) or f"rclone cryptcheck exit code {done.returncode}"]
        # cryptcheck compares the partner with the local stage. A stage object whose content no
        # longer matches its name (the mirror copy it links to rotted) says nothing about the
        # partner: those objects are checked again by downloading and hashing them.
        suspects = [p.split(":", 1)[0].rsplit("/", 1)[-1] for p in problems]
        damaged_here = [d for d in suspects if _hash_of(stage / object_name(d), self.config.hash_algorithm) != d]
        if not damaged_here:
            return problems
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
            listing.write_text("".join(object_name(d) + "\n" for d in chosen), encoding="ascii")
            try:
                self.rclone.run(["copy", f"{CRYPT}:", f"{scratch}/data-root", f"--files-from={listing}"],
                                timeout=self._timeout())
            except RcloneError as exc:
                problems.append(exc.reason)
            for digest in chosen:
                path = Path(scratch) / "data-root" / object_name(digest)
                if not path.exists():
                    problems.append(t("offsite.sample_missing", object=object_name(digest)))
                elif _hash_of(path, self.config.hash_algorithm) != digest:
                    problems.append(t("offsite.sample_corrupt", object=object_name(digest)))
        return problems, len(chosen)


def _hash_of(path: Path, algorithm: str) -> str | None:
    try:
        return hash_file(path, algorithm)
    except OSError:
        return None


def offsite_fetch(offsite: Offsite, scratch: Path):
    """A restore source reading the partner. The objects download in the background and each is
    handed over as soon as it is there, so restoring overlaps the download. They land on the
    target's disk: one that a single path needs is moved into place, not copied."""
    from dangan.daemon.restore import Copy, Item

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
        self._others = {child.pid for child in multiprocessing.active_children()}
        self._thread = threading.Thread(target=self._run, args=(offsite, digests, into), name="partner-download",
                                        daemon=True)
        self._thread.start()

    def _run(self, offsite: Offsite, digests: list[str], into: Path) -> None:
        try:
            offsite.fetch(digests, into)
        except RcloneError as exc:
            self.error = exc.reason
        except Exception as exc:  # noqa: BLE001 - the restore reports it for every file left
            self.error = str(exc) or type(exc).__name__

    def finished(self) -> bool:
        return not self._thread.is_alive()

    def wait(self, seconds: float) -> None:
        self._thread.join(seconds)

    def stop(self) -> None:
        """The restore ended early (an error, Ctrl-C): take the transfer down rather than leave it running."""
        if self._thread.is_alive():
            for child in multiprocessing.active_children():
                if child.pid not in self._others:
                    _kill_group(child.pid)
            self._thread.join(15)

"""A model-based test of the running service (hypothesis's RuleBasedStateMachine).

Each step does one thing a school's users, its disks or its admins do to a live installation — files
created, overwritten, appended, truncated, saved atomically, renamed, moved as folders, turned from file
into folder and back, deleted during their copy, sparse, hard-linked, symlinks planted towards an outside
folder, permissions changed, names beginning with ``.dangan``, ``kill -9`` and restart, the state folder
lost, the mirror disk unmounted, a mirror copy deleted behind dangan's back, the mirror disk replaced by an
empty one, the catalog damaged — and after every step, once the service has settled:

* the mirror equals the archive, name bytes and content (symlinks are never records: on neither side);
* every content that was on the archive at any settled moment is on the mirror disk (tree or versions);
* nothing outside the three roots changed (the symlinks' targets, a canary folder).

The model does not simulate dangan: the archive itself is the truth it is compared with. CI runs a
bounded number of steps (``DANGAN_MODEL_EXAMPLES`` × ``DANGAN_MODEL_STEPS``); a longer run by hand
raises both and prints its figures.
"""

from __future__ import annotations

import hashlib
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from makers import TASK, Archive
from service_helpers import DANGAN, Running, kill9, set_mirror_settings, wait_for

from dangan.cli.main import main

EXAMPLES = int(os.environ.get("DANGAN_MODEL_EXAMPLES", "2"))
STEPS = int(os.environ.get("DANGAN_MODEL_STEPS", "18"))
ROOT_OWN = {"archive": {b".dangan-archive"}, "mirror": {b".dangan"}}  # dangan's names at each root
# how often each operation is drawn: mostly everyday work, now and then a fault
WEIGHTS = {"create": 6, "change": 5, "rename": 3, "move_folder": 1, "change_kind": 2, "delete_during_copy": 1,
           "delete": 2, "sparse": 1, "hard_link": 1, "symlink": 1, "chmod": 1, "kill_and_restart": 1,
           "mirror_copy_vanishes": 1, "mirror_unmounted": 1, "state_lost": 1, "mirror_replaced": 1,
           "catalog_damaged": 1}
FIGURES = {"steps": 0, "kills": 0, "checks": 0, "contents": 0, "ops": {}}
NAMES = ["a.pdf", "b.jpg", "会议纪要.docx", "20210205开幕式.jpg", ".dangan-notes.txt", "x", "报告 (1).pdf",
         "long-" + "名" * 40 + ".pdf"]
FOLDERS = [TASK, f"{TASK}/活动", f"{TASK}/活动/照片", f"{TASK}/.dangan", f"{TASK}/x"]


def _walk(root: Path, own: set[bytes]) -> dict[bytes, bytes]:
    """Every regular file below root by exact relative name bytes -> its SHA-256 (hex, as bytes);
    symlinks are listed as such."""
    found: dict[bytes, bytes] = {}
    base = os.fsencode(root)

    def visit(folder: bytes, rel: bytes) -> None:
        try:
            entries = list(os.scandir(folder))
        except FileNotFoundError:
            return
        for entry in entries:
            name = entry.name
            if not rel and name in own:
                continue
            path, sub = os.path.join(folder, name), (rel + b"/" + name if rel else name)
            if entry.is_symlink():
                found[sub] = b"<symlink>"
            elif entry.is_dir(follow_symlinks=False):
                visit(path, sub)
            elif entry.is_file(follow_symlinks=False):
                try:
                    with open(path, "rb") as f:  # a digest, not the bytes: memory stays flat
                        found[sub] = hashlib.file_digest(f, "sha256").hexdigest().encode()
                except (FileNotFoundError, PermissionError):
                    continue

    visit(base, b"")
    return found


def _records(root: Path) -> dict[bytes, bytes]:
    return {p: c for p, c in _walk(root, ROOT_OWN["archive"]).items() if c != b"<symlink>"}


def _digest_tree(root: Path) -> str:
    h = hashlib.sha256()
    for path, digest in sorted(_walk(root, set()).items()):
        h.update(path + b"\0" + digest)
    return h.hexdigest()


def _all_hashes(mirror: Path) -> set[str]:
    found = set()
    for folder, _, files in os.walk(mirror):
        for name in files:
            try:
                with open(Path(folder) / name, "rb") as f:
                    found.add(hashlib.file_digest(f, "sha256").hexdigest())
            except OSError:
                continue
    return found


def _dangan(archive: Archive, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([DANGAN, args[0], "--config", str(archive.config), *args[1:]], capture_output=True,
                          text=True, timeout=120)


class Installation(RuleBasedStateMachine):
    """A live dangan installation under test (one per hypothesis example)."""

    @initialize(rng=st.randoms(use_true_random=True))
    def start(self, rng: random.Random) -> None:
        self.rng = rng
        self.trail: list[str] = []
        self.base = Path(tempfile.mkdtemp(prefix="dangan-model-"))
        config = self.base / "etc" / "config.yaml"
        self.archive = Archive(self.base, config, self.base / "archive", self.base / "mirror", self.base / "state")
        assert main(["init", "--config", str(config), "--archive-root", str(self.archive.root), "--mirror-root",
                     str(self.archive.mirror), "--state-dir", str(self.archive.state)]) == 0
        set_mirror_settings(self.archive, max_delete_count=500)
        self.archive.path(TASK).mkdir(parents=True)
        self.outside = self.base / "outside"
        (self.outside / "folder").mkdir(parents=True)
        (self.outside / "secret.txt").write_bytes(b"outside the roots")
        (self.outside / "folder" / "keep.txt").write_bytes(b"outside folder")
        self.outside_digest = _digest_tree(self.outside)
        self.must_keep: set[str] = set()
        self.serial = 0
        self.running = Running(self.archive)
        self.running.wait_ready(timeout=60)

    def teardown(self) -> None:
        running = getattr(self, "running", None)
        if running is not None and running.proc.poll() is None:
            running.stop()
        if getattr(self, "base", None):
            shutil.rmtree(self.base, ignore_errors=True)

    # ---- helpers ----
    def _content(self, size: int) -> bytes:
        self.serial += 1
        return f"{self.serial}:".encode() + os.urandom(size)

    def _files(self) -> list[str]:
        return sorted(os.fsdecode(p) for p in _records(self.archive.root) if p.startswith(TASK.encode()))

    def _via_symlink(self, path: Path) -> bool:
        """Whether the path crosses a symlink below the archive root: the test itself must not write
        through the links it plants (only dangan is under test)."""
        for part in [path, *path.parents]:
            if part == self.archive.root:
                return False
            if part.is_symlink():
                return True
        return False

    def _write(self, rel: str, data: bytes) -> None:
        target = self.archive.path(rel)
        if self._via_symlink(target):
            return
        if target.parent.exists() and not target.parent.is_dir() or target.is_dir():
            return  # the place is taken by the other kind: another rule changes kinds
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)

    def _restart(self) -> None:
        self.running = Running(self.archive)
        self.running.wait_ready(timeout=60)

    # ---- what users do (each op takes the example's random source) ----
    def op_create(self, r: random.Random) -> None:
        self._write(f"{r.choice(FOLDERS)}/{r.choice(NAMES)}", self._content(r.choice([0, 10, 5_000, 300_000])))

    def op_change(self, r: random.Random) -> None:
        files = self._files()
        if not files:
            return
        path = self.archive.path(r.choice(files))
        mode = r.choice(["overwrite", "append", "truncate", "save"])
        self.trail[-1] += f" {mode} {path.name}"
        if mode == "overwrite":
            path.write_bytes(self._content(2_000))
        elif mode == "append":
            with open(path, "ab") as f:
                f.write(self._content(1_000))
        elif mode == "truncate":
            os.truncate(path, path.stat().st_size // 2)
        else:  # an editor's atomic save: a temp renamed over the record
            temp = path.with_name(path.name + ".~tmp")
            temp.write_bytes(self._content(3_000))
            os.replace(temp, path)

    def op_rename(self, r: random.Random) -> None:
        files = self._files()
        if not files:
            return
        source = self.archive.path(r.choice(files))
        target = self.archive.path(f"{r.choice(FOLDERS)}/{r.choice(NAMES)}")
        if self._via_symlink(target) or target.exists() or target.parent.exists() and not target.parent.is_dir():
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        os.rename(source, target)

    def op_move_folder(self, r: random.Random) -> None:
        folders = [p for p in self.archive.path(TASK).iterdir() if p.is_dir() and not p.is_symlink()]
        if folders:
            old = r.choice(folders)
            os.rename(old, old.with_name(f"moved-{self.serial}"))

    def op_change_kind(self, r: random.Random) -> None:
        """A file replaced by a folder of the same name with a file inside, or the reverse, at once."""
        path = self.archive.path(f"{TASK}/{r.choice(NAMES)}")
        if path.is_symlink():
            return
        if path.is_file():
            path.unlink()
            path.mkdir()
            (path / "inner.pdf").write_bytes(self._content(500))
        elif path.is_dir():
            shutil.rmtree(path)
            path.write_bytes(self._content(500))
        else:
            path.mkdir()
            (path / "inner.pdf").write_bytes(self._content(500))

    def op_delete_during_copy(self, r: random.Random) -> None:
        path = self.archive.path(f"{TASK}/big-{self.serial}.mp4")
        with open(path, "wb") as f:
            for _ in range(r.choice([8, 40])):
                f.write(os.urandom(1 << 20))
        time.sleep(r.choice([0.35, 0.5]))  # past the settle time: the copy is under way
        path.unlink()

    def op_delete(self, r: random.Random) -> None:
        files = self._files()
        if files:
            self.archive.path(r.choice(files)).unlink()

    def op_sparse(self, r: random.Random) -> None:
        with open(self.archive.path(f"{TASK}/sparse-{self.serial}.wav"), "wb") as f:
            f.write(b"RIFF" + self._content(100))
            f.truncate(64 << 20)  # 64 MiB of which a few bytes are written

    def op_hard_link(self, r: random.Random) -> None:
        files = self._files()
        if files:
            source = self.archive.path(r.choice(files))
            os.link(source, source.with_name(f"link-{self.serial}-{source.name}"))

    def op_symlink(self, r: random.Random) -> None:
        target = self.outside / r.choice(["secret.txt", "folder"])
        path = self.archive.path(f"{r.choice(FOLDERS[:3])}/{r.choice(NAMES)}")
        if not (path.exists() or path.is_symlink() or self._via_symlink(path.parent)) and path.parent.is_dir():
            os.symlink(target, path)

    def op_chmod(self, r: random.Random) -> None:
        files = self._files()
        if files:
            os.chmod(self.archive.path(r.choice(files)), r.choice([0o600, 0o640, 0o444]))

    # ---- what happens to the machine ----
    def op_kill_and_restart(self, r: random.Random) -> None:
        FIGURES["kills"] += 1
        kill9(self.running)
        if r.random() < 0.5:  # work goes on while the service is down
            self.op_create(r)
        self._restart()

    def op_mirror_copy_vanishes(self, r: random.Random) -> None:
        """A copy deleted on the mirror behind dangan's back; a reload must notice and refill it."""
        copies = sorted(p for p in _walk(self.archive.mirror, ROOT_OWN["mirror"]) if p.startswith(TASK.encode()))
        if copies:
            os.unlink(os.path.join(os.fsencode(self.archive.mirror), r.choice(copies)))
            self.running.proc.send_signal(signal.SIGHUP)

    def op_mirror_unmounted(self, r: random.Random) -> None:
        """The mirror disk goes away under the running service (a real bind mount, really unmounted):
        nothing may be written to the bare mount point; after the remount everything catches up."""
        if os.geteuid() != 0:
            return
        disk = self.base / "mirror-disk"
        kill9(self.running)
        os.rename(self.archive.mirror, disk)
        self.archive.mirror.mkdir()
        subprocess.run(["mount", "--bind", str(disk), str(self.archive.mirror)], check=True)
        self._restart()
        subprocess.run(["umount", "-l", str(self.archive.mirror)], check=True)
        self._write(f"{TASK}/while-unmounted-{self.serial}.pdf", self._content(800))
        time.sleep(1.5)
        bare = list(self.archive.mirror.iterdir())
        kill9(self.running)
        os.rmdir(self.archive.mirror)
        os.rename(disk, self.archive.mirror)
        assert bare == [], f"written to the bare mount point: {bare}"
        self._restart()

    def op_state_lost(self, r: random.Random) -> None:
        """The state folder is gone: dangan must not start a history afresh over the mirror's copy; it
        points to `init --adopt`, which takes the catalog back from the mirror."""
        kill9(self.running)
        shutil.rmtree(self.archive.state)
        copy_before = (self.archive.mirror / ".dangan" / "catalog.sqlite").read_bytes()
        done = _dangan(self.archive, "mirror")
        assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
        assert "--adopt" in done.stdout + done.stderr
        assert (self.archive.mirror / ".dangan" / "catalog.sqlite").read_bytes() == copy_before
        adopted = _dangan(self.archive, "init", "--adopt")
        assert adopted.returncode == 0, (adopted.stdout, adopted.stderr)
        self._restart()

    def op_mirror_replaced(self, r: random.Random) -> None:
        """The mirror disk failed and a new, empty one is mounted with dangan's marker put back: every
        copy is refilled from the archive (the old disk's versions are gone with it)."""
        kill9(self.running)
        old = self.base / f"failed-disk-{self.serial}"
        os.rename(self.archive.mirror, old)
        (self.archive.mirror / ".dangan").mkdir(parents=True)
        shutil.copy2(old / ".dangan" / "marker", self.archive.mirror / ".dangan" / "marker")
        self.must_keep.clear()  # what only the failed disk held went with it
        self._restart()

    def op_catalog_damaged(self, r: random.Random) -> None:
        """Bytes flipped in the catalog: commands refuse in words and point to `init --adopt`, which
        takes the mirror's copy; the service then catches up with the archive."""
        kill9(self.running)
        path = self.archive.state / "catalog.sqlite"
        db = sqlite3.connect(path)
        try:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # what the WAL holds goes into the file first
            records = db.execute("SELECT count(*) FROM files").fetchone()[0]
            root = db.execute("SELECT rootpage FROM sqlite_master WHERE name = 'files'").fetchone()[0]
            size = db.execute("PRAGMA page_size").fetchone()[0]
        finally:
            db.close()
        if not records:  # an empty table's root page holds no cell a flipped byte could break
            self._restart()
            return
        with open(path, "r+b") as f:  # the records table's root page: every command reads it
            f.seek((root - 1) * size + 8)
            f.write(bytes(b ^ 0xA5 for b in os.urandom(200)))
        done = _dangan(self.archive, "mirror")
        assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
        assert "--adopt" in done.stdout + done.stderr
        adopted = _dangan(self.archive, "init", "--adopt")
        assert adopted.returncode == 0, (adopted.stdout, adopted.stderr)
        self._restart()

    @rule()
    def step(self) -> None:
        op = self.rng.choices(list(WEIGHTS), weights=list(WEIGHTS.values()))[0]
        self.serial += 1
        self.trail.append(op)
        FIGURES["steps"] += 1
        FIGURES["ops"][op] = FIGURES["ops"].get(op, 0) + 1
        getattr(self, f"op_{op}")(self.rng)

    # ---- after every step ----
    @invariant()
    def settled_and_whole(self) -> None:
        if not hasattr(self, "running"):
            return
        assert self.running.proc.poll() is None, f"the service died:\n{self.running.output()[-3000:]}"

        def in_sync() -> bool:
            archive = _records(self.archive.root)
            return archive == _walk(self.archive.mirror, ROOT_OWN["mirror"])

        try:
            wait_for(in_sync, timeout=90, interval=0.3)
        except AssertionError:
            archive = _records(self.archive.root)
            mirror = _walk(self.archive.mirror, ROOT_OWN["mirror"])
            raise AssertionError(
                f"mirror lacks {sorted(set(archive) - set(mirror))[:5]}, has extra "
                f"{sorted(set(mirror) - set(archive))[:5]}, differs "
                f"{sorted(p for p in archive if p in mirror and archive[p] != mirror[p])[:5]}\n"
                f"after {self.trail}\n{self.running.output()[-3000:]}") from None
        FIGURES["checks"] += 1
        self.must_keep |= {c.decode() for c in _records(self.archive.root).values()}
        lost = self.must_keep - _all_hashes(self.archive.mirror)
        assert not lost, f"{len(lost)} contents once on the archive are nowhere on the mirror disk"
        FIGURES["contents"] = max(FIGURES["contents"], len(self.must_keep))
        assert _digest_tree(self.outside) == self.outside_digest, "something outside the roots changed"


Installation.TestCase.settings = settings(
    max_examples=EXAMPLES, stateful_step_count=STEPS, deadline=None,
    database=None, phases=[Phase.generate],  # no shrinking: each step drives a live service
    suppress_health_check=list(HealthCheck), print_blob=True)


@pytest.mark.faults
def test_running_service_keeps_its_promises():
    try:
        Installation.TestCase("runTest").runTest()
    finally:
        print(f"\nmodel-based run: {FIGURES}")

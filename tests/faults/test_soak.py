"""The soak: minutes of mixed random work on the archive while the service is killed -9 and restarted
at random, checked against a reference model. Run by hand (`pytest -m soak -s`); minutes from
DANGAN_SOAK_MINUTES (default 30), the random seed from DANGAN_SOAK_SEED.

The work comes in rounds. Within a round each path is touched at most once, and each round ends when
the mirror equals the archive; so every content ever written was on the archive at some moment the
service could see, and must be recoverable at the end: on the mirror tree or in its versions area."""

from __future__ import annotations

import hashlib
import os
import random
import time
from pathlib import Path

import pytest
from makers import TASK
from service_helpers import Running, kill9, set_mirror_settings, tree_files, wait_for

pytestmark = pytest.mark.soak
BASE = f"{TASK}/soak"
MAX_FILES = 300  # enough to exercise moves and deletions; small enough to compare every round


class Model:
    """What must exist: relative path -> content, and every content ever written."""

    def __init__(self, archive, rng: random.Random) -> None:
        self.archive = archive
        self.rng = rng
        self.files: dict[str, bytes] = {}
        self.written: set[str] = set()
        self.serial = 0
        self.ops: dict[str, int] = {}

    def _name(self, prefix: str) -> str:
        self.serial += 1
        return f"{prefix}{self.serial:05d}"

    def _content(self) -> bytes:
        size = self.rng.choice([0, 50, 2_000, 30_000, 200_000]) + self.rng.randrange(100)
        data = self.rng.randbytes(size)
        self.written.add(hashlib.sha256(data).hexdigest())
        return data

    def folders(self) -> list[str]:
        return sorted({str(Path(p).parent) for p in self.files} | {BASE})

    def top_folders(self) -> list[str]:
        return sorted({p.split("/")[len(BASE.split("/"))] for p in self.files if p.count("/") > BASE.count("/") + 1})

    def step(self, touched: set[str]) -> None:
        """One random operation on paths not touched yet in this round."""
        free = [p for p in self.files if p not in touched]
        creates = ["create"] * (3 if len(self.files) < MAX_FILES else 0)
        kinds = creates + (["overwrite", "overwrite", "save", "rename", "delete"] if free else [])
        if self.top_folders():
            kinds.append("move_folder")
        kind = self.rng.choice(kinds)
        if kind == "create":
            folder = self.rng.choice(self.folders() + [f"{BASE}/{self._name('d')}"])
            rel = f"{folder}/{self._name('f')}.bin"
            self.files[rel] = self._content()
            self.archive.write(rel, self.files[rel])
            touched.add(rel)
        elif kind in ("overwrite", "save"):
            rel = self.rng.choice(free)
            self.files[rel] = self._content()
            if kind == "save":  # an editor's atomic save: a temp file renamed over the record
                temp = self.archive.write(rel + ".tmp", self.files[rel])
                os.replace(temp, self.archive.path(rel))
            else:
                self.archive.write(rel, self.files[rel])
            touched.add(rel)
        elif kind == "rename":
            rel = self.rng.choice(free)
            new = f"{self.rng.choice(self.folders())}/{self._name('r')}.bin"
            os.makedirs(self.archive.path(new).parent, exist_ok=True)
            os.rename(self.archive.path(rel), self.archive.path(new))
            self.files[new] = self.files.pop(rel)
            touched.update((rel, new))
        elif kind == "delete":
            rel = self.rng.choice(free)
            self.archive.path(rel).unlink()
            del self.files[rel]
            touched.add(rel)
        else:
            top = self.rng.choice(self.top_folders())
            old = f"{BASE}/{top}"
            inside = [p for p in self.files if p.startswith(old + "/")]
            if any(p in touched for p in inside):
                return
            others = [t for t in self.top_folders() if t != top]
            new = f"{BASE}/{self.rng.choice(others)}/{self._name('m')}" if others and self.rng.random() < 0.5 \
                else f"{BASE}/{self._name('d')}"
            os.rename(self.archive.path(old), self.archive.path(new))
            for p in inside:
                self.files[new + p[len(old):]] = self.files.pop(p)
                touched.update((p, new + p[len(old):]))
        self.ops[kind] = self.ops.get(kind, 0) + 1


def _soak_part(files: dict[str, bytes]) -> dict[str, bytes]:
    return {p: data for p, data in files.items() if p.startswith(BASE + "/")}


def _in_sync(archive, model: Model) -> bool:
    on_archive = tree_files(archive.root)
    return _soak_part(on_archive) == model.files and tree_files(archive.mirror) == on_archive


def _recoverable(mirror: Path) -> set[str]:
    """Hashes of every file on the mirror, its versions area included."""
    found = set()
    for folder, _, files in os.walk(mirror):
        for name in files:
            found.add(hashlib.sha256((Path(folder) / name).read_bytes()).hexdigest())
    return found


def _ready(archive, running: Running, failed_starts: list[str]) -> Running:
    """The service up and ready. A start refused by the machine (another test run on this shared
    machine lowering an inotify limit for a moment) is retried and counted, never hidden."""
    for _ in range(5):
        try:
            running.wait_ready(timeout=60)
            return running
        except AssertionError as exc:
            if running.proc.poll() is None:
                raise
            failed_starts.append(str(exc).splitlines()[-1])
            time.sleep(2)
            running = Running(archive)
    raise AssertionError(f"the service would not start: {failed_starts[-5:]}")


def test_soak(archive):
    minutes = float(os.environ.get("DANGAN_SOAK_MINUTES", "30"))
    seed = int(os.environ.get("DANGAN_SOAK_SEED", str(time.time_ns() % 1_000_000)))
    rng = random.Random(seed)
    set_mirror_settings(archive, max_delete_count=500)
    model = Model(archive, rng)
    failed_starts: list[str] = []
    running = _ready(archive, Running(archive), failed_starts)
    kills = rounds = 0
    deadline = time.monotonic() + minutes * 60
    try:
        while time.monotonic() < deadline:
            rounds += 1
            touched: set[str] = set()
            for _ in range(rng.randrange(5, 30)):
                model.step(touched)
                if rng.random() < 0.02:  # kill -9 at a random moment; sometimes work goes on while it is down
                    kill9(running)
                    kills += 1
                    if rng.random() < 0.5:
                        running = Running(archive)
                if running.proc.poll() is not None and rng.random() < 0.3:
                    running = Running(archive)
                time.sleep(rng.choice([0, 0, 0.01, 0.1]))
            if running.proc.poll() is not None:
                running = Running(archive)
            running = _ready(archive, running, failed_starts)
            try:
                wait_for(lambda: _in_sync(archive, model), timeout=120, interval=0.3)
            except AssertionError:
                archive_now, mirror_now = tree_files(archive.root), tree_files(archive.mirror)
                raise AssertionError(
                    f"round {rounds} (seed {seed}): archive as the model says"
                    f" {_soak_part(archive_now) == model.files}; "
                    f"mirror lacks "
                    f"{sorted(set(archive_now) - set(mirror_now))[:5]}, has extra "
                    f"{sorted(set(mirror_now) - set(archive_now))[:5]}, differs "
                    f"{sorted(p for p in archive_now if p in mirror_now and archive_now[p] != mirror_now[p])[:5]}"
                ) from None
    finally:
        if running.proc.poll() is None:
            assert running.stop() == 0
    found = _recoverable(archive.mirror)
    lost = model.written - found
    print(f"\nsoak {minutes:g} min, seed {seed}: {rounds} rounds, {sum(model.ops.values())} operations {model.ops}, "
          f"{kills} kills -9, {len(model.files)} files at the end, {len(model.written)} versions written, "
          f"{len(model.written) - len(lost)} verified recoverable by hash; {len(failed_starts)} starts refused by "
          f"the machine {failed_starts[:3]}")
    assert not lost, f"{len(lost)} versions written are nowhere on the mirror (seed {seed})"

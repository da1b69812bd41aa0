"""Nothing written outside its place (issue 12): a symlink planted at each place dangan writes, pointing
outside the roots, changes nothing outside; the roots are kept apart by where they really are; restore's
guard rails; control characters never reach the terminal raw; a full restore target is said so."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Callable

import pytest
from makers import TASK

DANGAN = str(Path(sys.executable).with_name("dangan"))


def dangan(archive, *args: str) -> subprocess.CompletedProcess:
    done = subprocess.run([DANGAN, args[0], "--config", str(archive.config), *args[1:]], capture_output=True,
                          text=True, timeout=300, cwd=archive.base)
    assert "Traceback" not in done.stderr and "内部错误" not in done.stderr, done.stderr
    return done


def fingerprint(folder: Path) -> dict[str, tuple]:
    """Every entry below ``folder`` (not following symlinks): kind, mode, and content hash."""
    found: dict[str, tuple] = {}
    for top, dirs, files in os.walk(folder):
        for name in dirs + files:
            path = os.path.join(top, name)
            st = os.lstat(path)
            digest = None
            if os.path.isfile(path) and not os.path.islink(path):
                digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
            found[os.path.relpath(path, folder)] = (st.st_mode, st.st_size, digest)
    return found


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder outside every root, with a file in it that no write of dangan may touch."""
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "victim.txt").write_bytes(b"must never change")
    (folder / "journal.jsonl").write_bytes(b"not a journal\n")
    return folder


@pytest.fixture
def mirrored(archive):
    for i in range(3):
        archive.write(f"{TASK}/{i}.txt", f"record number {i} ".encode() * 50, mtime=1_600_000_000)
    assert dangan(archive, "mirror").returncode == 0
    return archive


def _flip(path: Path) -> None:
    before = path.stat()
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


# -- each write site, with a symlink planted at its path ------------------------------------------------
def _repair_temp(archive, outside: Path, tmp_path: Path) -> None:
    """12.2: the audit's repair temp, planted in the archive folder of the damaged record."""
    _flip(archive.path(f"{TASK}/0.txt"))
    (archive.path(TASK) / ".dangan-tmp-repair").symlink_to(outside / "victim.txt")
    dangan(archive, "audit", "--repair")
    assert not archive.path(f"{TASK}/0.txt").is_symlink()
    assert archive.path(f"{TASK}/0.txt").read_bytes() == b"record number 0 " * 50


def _restore_work_dir(archive, outside: Path, tmp_path: Path) -> None:
    """12.3: the target's bookkeeping folder is a symlink to an outside folder."""
    target = tmp_path / "target"
    target.mkdir()
    (target / ".dangan-restore").symlink_to(outside)
    done = dangan(archive, "restore", "--from", "mirror", "--to", str(target))
    assert done.returncode == 2, done.stdout + done.stderr
    assert ".dangan-restore" in done.stderr


def _restore_journal(archive, outside: Path, tmp_path: Path) -> None:
    """12.3: the journal is a symlink to an outside file."""
    target = tmp_path / "target"
    (target / ".dangan-restore").mkdir(parents=True)
    (target / ".dangan-restore" / "journal.jsonl").symlink_to(outside / "journal.jsonl")
    done = dangan(archive, "restore", "--from", "mirror", "--to", str(target))
    assert done.returncode == 2, done.stdout + done.stderr


def _restore_record_folder(archive, outside: Path, tmp_path: Path) -> None:
    """A record's folder in the target is a symlink to an outside folder."""
    target = tmp_path / "target"
    target.mkdir()
    (target / TASK.split("/")[0]).symlink_to(outside)
    done = dangan(archive, "restore", "--from", "mirror", "--to", str(target))
    assert done.returncode == 1


def _lock_file(archive, outside: Path, tmp_path: Path) -> None:
    """The lock file in the state folder is a dangling symlink into the outside folder."""
    (archive.state / ".dangan-lock").unlink(missing_ok=True)
    (archive.state / ".dangan-lock").symlink_to(outside / "planted-lock")
    archive.write(f"{TASK}/new.txt", b"new")
    dangan(archive, "mirror")


def _versions_area(archive, outside: Path, tmp_path: Path) -> None:
    """The mirror's versions area is a symlink to an outside folder: a version is kept on a change."""
    versions = archive.mirror / ".dangan" / "versions"
    shutil.rmtree(versions, ignore_errors=True)
    versions.symlink_to(outside)
    archive.write(f"{TASK}/0.txt", b"changed content")
    dangan(archive, "mirror")


def _catalog_copy_temp(archive, outside: Path, tmp_path: Path) -> None:
    """The temp name of the catalog's copy on the mirror is a symlink to an outside file."""
    own = archive.mirror / ".dangan"
    (own / ".dangan-tmp-catalog.sqlite").symlink_to(outside / "planted-catalog")  # dangling: sqlite would create it
    (own / "catalog.sqlite").unlink(missing_ok=True)
    archive.write(f"{TASK}/new.txt", b"new")
    dangan(archive, "mirror")


def _catalog_copy(archive, outside: Path, tmp_path: Path) -> None:
    """The catalog's copy on the mirror is itself a symlink to an outside file."""
    own = archive.mirror / ".dangan"
    (own / "catalog.sqlite").unlink(missing_ok=True)
    (own / "catalog.sqlite").symlink_to(outside / "victim.txt")
    archive.write(f"{TASK}/new.txt", b"new")
    dangan(archive, "mirror")


def _status_file(archive, outside: Path, tmp_path: Path) -> None:
    (archive.state / "status.json").unlink(missing_ok=True)
    (archive.state / "status.json").symlink_to(outside / "victim.txt")
    archive.write(f"{TASK}/new.txt", b"new")
    dangan(archive, "mirror")
    dangan(archive, "status")


SITES: dict[str, Callable] = {
    "audit repair temp": _repair_temp,
    "restore work folder": _restore_work_dir,
    "restore journal": _restore_journal,
    "restore record folder": _restore_record_folder,
    "lock file": _lock_file,
    "mirror versions area": _versions_area,
    "catalog copy temp": _catalog_copy_temp,
    "catalog copy": _catalog_copy,
    "status file": _status_file,
}


@pytest.mark.parametrize("site", SITES)
def test_symlink_planted_at_a_write_site_changes_nothing_outside(site, mirrored, outside, tmp_path):
    before = fingerprint(outside)
    SITES[site](mirrored, outside, tmp_path)
    assert fingerprint(outside) == before


def test_restore_report_names_planted_as_symlinks_are_replaced_not_followed(mirrored, outside, tmp_path):
    target = tmp_path / "target"
    first = dangan(mirrored, "restore", "--from", "mirror", "--to", str(target))
    assert first.returncode == 0
    # plant symlinks at every name a report could take in the next seconds
    work = target / ".dangan-restore"
    before = fingerprint(outside)
    for report in list(work.glob("report-*")):
        report.unlink()
        report.symlink_to(outside / "victim.txt")
    again = dangan(mirrored, "restore", "--from", "mirror", "--to", str(target))
    assert again.returncode == 0
    assert fingerprint(outside) == before

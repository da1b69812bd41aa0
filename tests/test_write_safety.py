"""Nothing written outside its place (issue 12): a symlink planted at each place dangan writes, pointing
outside the roots, changes nothing outside; the roots are kept apart by where they really are; restore's
guard rails; control characters never reach the terminal raw; a full restore target is said so."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
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
    # dangling: SQLite would create the file it points at
    (own / ".dangan-tmp-catalog.sqlite").symlink_to(outside / "planted-catalog")
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


# -- 12.6: roots compared by where they really are ------------------------------------------------------
def _set_root(archive, key: str, value: Path) -> None:
    text = archive.config.read_text(encoding="utf-8")
    lines = [f"{key}: {value}" if line.startswith(f"{key}:") else line for line in text.splitlines()]
    archive.config.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_mirror_root_that_is_a_symlink_into_the_archive_is_refused(archive, tmp_path):
    archive.write(f"{TASK}/a.txt", b"a")
    (archive.root / "inner").mkdir()
    link = tmp_path / "looks-apart"
    link.symlink_to(archive.root / "inner")
    _set_root(archive, "mirror_root", link)
    done = subprocess.run([DANGAN, "mirror", "--config", str(archive.config)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "mirror_root" in done.stderr and "archive_root" in done.stderr
    assert os.listdir(archive.root / "inner") == []  # nothing mirrored into itself


def test_state_folder_bind_mounted_inside_the_mirror_is_refused(archive, tmp_path):
    if os.geteuid() != 0:
        pytest.skip("needs root to bind-mount")
    (archive.mirror / "deep").mkdir()
    place = tmp_path / "elsewhere"
    place.mkdir()
    mounted = subprocess.run(["mount", "--bind", str(archive.mirror / "deep"), str(place)],
                             capture_output=True, text=True)
    if mounted.returncode:
        pytest.skip(f"cannot bind-mount here: {mounted.stderr.strip()}")
    try:
        from dangan.config import loader
        from dangan.config.errors import ConfigError

        text = archive.config.read_text(encoding="utf-8")
        text = "\n".join(f"state_dir: {place}" if line.startswith("state_dir:") else line
                         for line in text.splitlines())
        with pytest.raises(ConfigError) as err:
            loader.parse(text, archive.config)
        assert "state_dir" in str(err.value) and "mirror_root" in str(err.value)
    finally:
        subprocess.run(["umount", str(place)], capture_output=True)


# -- 12.10: restore guard rails ---------------------------------------------------------------------------
@pytest.mark.parametrize("where", ["root", "mirror", "state"])
def test_restore_into_a_root_is_refused(mirrored, where):
    base = getattr(mirrored, where)
    target = base / "restored"
    done = dangan(mirrored, "restore", "--from", "mirror", "--to", str(target))
    assert done.returncode == 2, done.stdout + done.stderr
    assert not target.exists()
    done = dangan(mirrored, "restore", "--from", "mirror", "--to", str(base))
    assert done.returncode == 2
    assert not (base / ".dangan-restore").exists()


def test_restore_only_twice_restores_both(mirrored, tmp_path):
    target = tmp_path / "target"
    done = dangan(mirrored, "restore", "--from", "mirror", "--to", str(target), "--format", "json",
                  "--only", f"{TASK}/0.txt", "--only", f"{TASK}/2.txt")
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (target / TASK).iterdir()) == ["0.txt", "2.txt"]


@pytest.mark.parametrize("how", [("--only", f"{TASK}/no-such-file.txt"), ("--at", "2001-01-01T00:00:00")])
def test_restore_that_matches_nothing_exits_1_saying_so(mirrored, tmp_path, how):
    done = dangan(mirrored, "restore", "--from", "mirror", "--to", str(tmp_path / "target"), *how)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "没有可恢复的文件" in done.stdout + done.stderr
    assert "全部文件已恢复" not in done.stdout + done.stderr


def test_two_restores_in_the_same_second_keep_both_reports(tmp_path):
    from dangan.backup.restore import RestoreReport, write_report

    target = tmp_path / "target"
    target.mkdir()
    first = write_report(target, RestoreReport("mirror", str(target), None, requested=1, restored=1))
    second = write_report(target, RestoreReport("mirror", str(target), None, requested=2, restored=2))
    assert first != second
    assert len(list((target / ".dangan-restore").glob("report-*.json"))) == 2
    assert len(list((target / ".dangan-restore").glob("report-*.txt"))) == 2


def test_modes_are_kept_on_the_mirror_and_in_a_restore(archive, tmp_path):
    secret = archive.write(f"{TASK}/private/secret.txt", b"staff only")
    secret.chmod(0o600)
    (archive.root / TASK / "private").chmod(0o700)
    assert dangan(archive, "mirror").returncode == 0
    assert (archive.mirror / TASK / "private" / "secret.txt").stat().st_mode & 0o777 == 0o600
    assert (archive.mirror / TASK / "private").stat().st_mode & 0o777 == 0o700
    target = tmp_path / "target"
    assert dangan(archive, "restore", "--from", "mirror", "--to", str(target)).returncode == 0
    assert (target / TASK / "private" / "secret.txt").stat().st_mode & 0o777 == 0o600
    assert (target / TASK / "private").stat().st_mode & 0o777 == 0o700


# -- 12.12: control characters never reach the terminal raw ---------------------------------------------
def test_control_characters_in_names_are_escaped_in_text_and_exact_in_json(archive):
    hostile = f"{TASK}/a\x1b]0;owned\x07\x1b[2Jb.exe"  # a type not allowed: check names it
    forged = f"{TASK}/x\n  [错误] naming.forged  伪造的一行.exe"
    archive.write(hostile, b"one")
    archive.write(forged, b"two")
    text = dangan(archive, "check")
    assert text.returncode in (0, 1)
    assert "\x1b" not in text.stdout and "\x07" not in text.stdout
    assert "\\x1b]0;owned\\x07" in text.stdout
    assert not any(line.startswith("  [错误] naming.forged") for line in text.stdout.splitlines())
    assert "x\\x0a  [错误] naming.forged" in text.stdout
    exact = json.loads(dangan(archive, "check", "--format", "json").stdout)
    paths = {v["path"] for v in exact["violations"]}
    assert hostile in paths and forged in paths


def test_printable_escapes_every_control_character():
    from dangan.store.names import printable

    assert printable("ok 名字.pdf") == "ok 名字.pdf"
    assert printable("a\x1b[31mb\nc\rd\x9be\u202ef") == "a\\x1b[31mb\\x0ac\\x0dd\\x9be\\u202ef"


# -- 20.7: a restore onto a full disk ---------------------------------------------------------------------
def test_restore_onto_a_full_disk_says_so_and_resumes_after_space_is_freed(archive, tmp_path):
    if os.geteuid() != 0:
        pytest.skip("needs root to mount a small tmpfs as the restore target")
    disk = tmp_path / "small-disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(disk)],
                             capture_output=True, text=True)
    if mounted.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        for i in range(6):
            archive.write(f"{TASK}/big-{i}.bin", os.urandom(400_000))
        assert dangan(archive, "mirror").returncode == 0
        filler = disk / "filler"
        filler.write_bytes(b"\0" * 2_800_000)  # leaves room for about two of the six files
        target = disk / "restored"
        full = dangan(archive, "restore", "--from", "mirror", "--to", str(target))
        assert full.returncode == 2, full.stdout + full.stderr
        assert "已满" in full.stderr and "还需" in full.stderr and "继续" in full.stderr
        assert "合作单位" not in full.stderr  # the partner is not blamed
        filler.unlink()
        again = dangan(archive, "restore", "--from", "mirror", "--to", str(target), "--format", "json")
        assert again.returncode == 0, again.stdout + again.stderr
        report = json.loads(again.stdout)
        assert report["ok"] and report["already"] >= 1 and report["already"] + report["restored"] == 6
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)


@pytest.mark.parametrize("name", ["catalog.sqlite", "catalog.sqlite-wal"])
def test_a_symlink_planted_at_the_catalog_is_refused(archive, tmp_path, name):
    """SQLite opens its files by name: a symlink at the catalog or its WAL would have it write elsewhere."""
    outside = tmp_path / "outside.sqlite"
    outside.write_bytes(b"not yours")
    target = archive.state / name
    if target.exists():
        target.unlink()
    target.symlink_to(outside)
    done = subprocess.run([str(Path(sys.executable).with_name("dangan")), "check", "--config", str(archive.config)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "符号链接" in done.stderr, (done.returncode, done.stderr)
    assert outside.read_bytes() == b"not yours"

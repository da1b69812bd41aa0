"""The catalog's history is never lost and a damaged catalog is noticed (issues 12.4 and 20.5).

The catalog (state folder) and its copy on the mirror disk are the ledger's only two copies. Played
with the installed `dangan` on real folders; the damage is real SQLite damage: bytes written into the
file at a page of the table named."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
from makers import TASK
from service_helpers import tree_files
from test_restore import dangan, fill, mirror, restore


def copy_path(archive) -> Path:
    return archive.mirror / ".dangan" / "catalog.sqlite"


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def ledger_length(path: Path) -> int:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return db.execute("SELECT count(*) FROM ledger").fetchone()[0]
    finally:
        db.close()


def damage(path: Path, table: str, count: int = 200) -> None:
    """Flip ``count`` bytes at the start of ``table``'s root page (its only page in these small
    catalogs): the page header and cell pointers, as a failing sector would."""
    db = sqlite3.connect(path)
    try:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # everything in the main file, where the damage goes
        page_size = db.execute("PRAGMA page_size").fetchone()[0]
        root = db.execute("SELECT rootpage FROM sqlite_master WHERE type = 'table' AND name = ?",
                          (table,)).fetchone()[0]
    finally:
        db.close()
    assert root > 1
    with open(path, "r+b") as f:
        f.seek((root - 1) * page_size)
        data = f.read(count)
        f.seek((root - 1) * page_size)
        f.write(bytes(b ^ 0xFF for b in data))
        f.flush()
        os.fsync(f.fileno())


def refused(done: subprocess.CompletedProcess, *words: str) -> None:
    """A clear environment error: exit 2, the way back named, never an internal error."""
    assert done.returncode == 2, (done.returncode, done.stdout, done.stderr)
    assert "内部错误" not in done.stderr and "Traceback" not in done.stderr, done.stderr
    for word in words:
        assert word in done.stderr, (word, done.stderr)


def moment_after_mirror(archive) -> str:
    time.sleep(0.05)
    moment = datetime.now(timezone.utc).isoformat()
    time.sleep(0.05)
    return moment


# -- 12.4: the state folder lost ---------------------------------------------------------------
@pytest.mark.parametrize("loss", ["deleted", "emptied"])
def test_lost_state_folder_is_refused_and_the_history_comes_back_by_adopt(archive, tmp_path, loss):
    expected = fill(archive)
    mirror(archive)
    moment = moment_after_mirror(archive)
    kept = digest(copy_path(archive))
    history = ledger_length(copy_path(archive))
    shutil.rmtree(archive.state)
    if loss == "emptied":
        archive.state.mkdir(mode=0o700)
    for command in ("mirror", "check", "status"):
        refused(dangan(archive, command), "init --adopt", str(copy_path(archive)))
        assert digest(copy_path(archive)) == kept, f"`{command}` replaced the mirror's catalog copy"
        assert archive.state.exists() == (loss == "emptied"), f"`{command}` recreated the state folder"
    assert not list((archive.mirror / ".dangan").glob("versions/**/*.pdf")), "copies went to versions"
    done = dangan(archive, "init", "--adopt")
    assert done.returncode == 0, done.stderr
    assert archive.state.stat().st_mode & 0o777 == 0o700
    assert ledger_length(archive.state / "catalog.sqlite") == history
    mirror(archive)
    assert ledger_length(copy_path(archive)) >= history
    code, report = restore(archive, "--from", "mirror", "--to", str(tmp_path / "then"), "--at", moment)
    assert code == 0 and report["restored"] == len(expected), report
    assert tree_files(tmp_path / "then") == expected


def test_an_older_catalog_never_replaces_the_mirror_copy(archive):
    """A state folder put back from an old backup: the mirror's copy has history it lacks."""
    fill(archive)
    mirror(archive)
    old_state = archive.base / "old-state"
    shutil.copytree(archive.state, old_state)
    archive.write(f"{TASK}/后来.txt", b"written after the old backup")
    mirror(archive)
    newer = ledger_length(copy_path(archive))
    kept = digest(copy_path(archive))
    shutil.rmtree(archive.state)
    shutil.copytree(old_state, archive.state)
    done = dangan(archive, "mirror")
    assert done.returncode != 0 and "init --adopt" in done.stdout + done.stderr, (done.stdout, done.stderr)
    assert digest(copy_path(archive)) == kept and ledger_length(copy_path(archive)) == newer


def test_a_new_catalog_never_replaces_the_mirror_copy(archive):
    """`init --force` after the state folder was lost makes a catalog of another lineage: it must not
    overwrite the copy, however long its own ledger grows."""
    fill(archive)
    mirror(archive)
    kept = digest(copy_path(archive))
    shutil.rmtree(archive.state)
    done = dangan(archive, "init", "--force", "--archive-root", str(archive.root), "--mirror-root",
                  str(archive.mirror), "--state-dir", str(archive.state))
    assert done.returncode == 0, done.stderr
    done = dangan(archive, "mirror")
    assert done.returncode != 0 and "init --adopt" in done.stdout + done.stderr, (done.stdout, done.stderr)
    assert digest(copy_path(archive)) == kept


# -- 20.5: a damaged catalog -------------------------------------------------------------------
def test_damaged_ledger_is_found_by_the_audit_and_refused_by_restore(archive, tmp_path):
    expected = fill(archive)
    mirror(archive)
    moment = moment_after_mirror(archive)
    kept = digest(copy_path(archive))
    catalog = archive.state / "catalog.sqlite"
    damage(catalog, "ledger")
    done = dangan(archive, "audit")
    assert done.returncode == 1, (done.returncode, done.stdout, done.stderr)
    assert str(catalog) in done.stdout and "init --adopt" in done.stdout, done.stdout
    refused(dangan(archive, "restore", "--from", "mirror", "--to", str(tmp_path / "x"), "--at", moment),
            "init --adopt", str(copy_path(archive)))
    refused(dangan(archive, "mirror"), "init --adopt")
    assert digest(copy_path(archive)) == kept, "the damaged catalog replaced the mirror's copy"
    done = dangan(archive, "init", "--adopt")
    assert done.returncode == 0, done.stderr
    assert list(archive.state.glob("catalog.sqlite.damaged-*")), "the damaged catalog is kept aside"
    code, report = restore(archive, "--from", "mirror", "--to", str(tmp_path / "then"), "--at", moment)
    assert code == 0 and report["restored"] == len(expected), report


def test_damaged_files_page_is_a_clear_error_and_the_copy_stays(archive):
    fill(archive)
    mirror(archive)
    kept = digest(copy_path(archive))
    damage(archive.state / "catalog.sqlite", "files")
    for command in ("check", "status", "mirror", "audit"):
        refused(dangan(archive, command), "init --adopt", str(copy_path(archive)))
    assert digest(copy_path(archive)) == kept


def test_a_damaged_mirror_copy_is_found_by_the_audit(archive):
    fill(archive)
    mirror(archive)
    damage(copy_path(archive), "ledger")
    done = dangan(archive, "audit")
    assert done.returncode == 1, (done.returncode, done.stdout, done.stderr)
    assert str(copy_path(archive)) in done.stdout, done.stdout
    # the next reconcile writes a sound copy again, although nothing in the archive changed
    mirror(archive)
    done = dangan(archive, "audit")
    assert str(copy_path(archive)) not in done.stdout, done.stdout


def test_catalog_truncated_to_zero_bytes_is_not_taken_as_new(archive):
    fill(archive)
    mirror(archive)
    kept = digest(copy_path(archive))
    os.truncate(archive.state / "catalog.sqlite", 0)
    for command in ("check", "mirror", "status"):
        refused(dangan(archive, command), "init --adopt", str(copy_path(archive)))
    assert digest(copy_path(archive)) == kept
    assert os.path.getsize(archive.state / "catalog.sqlite") == 0


def test_immutable_catalog_is_an_environment_error(archive):
    fill(archive)
    mirror(archive)
    catalog = archive.state / "catalog.sqlite"
    root = os.geteuid() == 0
    immutable = subprocess.run(["chattr", "+i", str(catalog)], capture_output=True) if root else None
    if immutable is None or immutable.returncode != 0:
        pytest.skip("chattr +i needs root and a file system with the immutable attribute")
    try:
        for command in ("check", "mirror"):
            refused(dangan(archive, command), str(catalog))
    finally:
        subprocess.run(["chattr", "-i", str(catalog)], check=True)

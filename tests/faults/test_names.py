"""Names and file kinds the mirror must treat right: case-only renames and hard links.

Policy for hard links (two names, one inode, inside the archive): each name is a record of its own
— its own catalog row, its own mirror file (the mirror never links them together, so a change to
one mirror copy can never alter the other), its own versions. A write through one name changes
both, and both are mirrored again. Off-site, content is stored once by its hash, so the second name
costs nothing there."""

from __future__ import annotations

import os
import sqlite3
import subprocess

from makers import TASK
from service_helpers import DANGAN, Running, ledger, same_on_mirror, set_mirror_settings, versions, wait_for


def test_case_only_renames_follow_on_the_mirror(archive):
    set_mirror_settings(archive)
    archive.write(f"{TASK}/Report.pdf", b"%PDF-1.4 report")
    archive.write(f"{TASK}/Minutes.txt", b"minutes")
    running = Running(archive)
    running.wait_ready()
    try:
        wait_for(lambda: same_on_mirror(archive, f"{TASK}/Report.pdf"))
        os.rename(archive.path(f"{TASK}/Report.pdf"), archive.path(f"{TASK}/report.pdf"))
        wait_for(lambda: same_on_mirror(archive, f"{TASK}/report.pdf"))
        wait_for(lambda: not (archive.mirror / TASK / "Report.pdf").exists())
        wait_for(lambda: ("move", f"{TASK}/report.pdf") in ledger(archive))  # a move, not a new record
    finally:
        assert running.stop() == 0
    # and while the service is down: the reconcile sees the same inode under the new case
    os.rename(archive.path(f"{TASK}/Minutes.txt"), archive.path(f"{TASK}/MINUTES.txt"))
    done = subprocess.run([DANGAN, "mirror", "--config", str(archive.config)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert same_on_mirror(archive, f"{TASK}/MINUTES.txt") and not (archive.mirror / TASK / "Minutes.txt").exists()
    names = sorted(os.listdir(archive.mirror / TASK))
    assert names == ["MINUTES.txt", "report.pdf"], names
    assert versions(archive, f"{TASK}/report.pdf") == [] and versions(archive, f"{TASK}/Report.pdf") == []


def test_hard_links_are_mirrored_per_name_and_stored_once_off_site(archive):
    set_mirror_settings(archive, offsite=True)
    a, b = f"{TASK}/a.pdf", f"{TASK}/b.pdf"
    archive.write(a, b"%PDF-1.4 one content, two names")
    os.link(archive.path(a), archive.path(b))
    running = Running(archive)
    running.wait_ready()
    try:
        wait_for(lambda: same_on_mirror(archive, a) and same_on_mirror(archive, b))
        assert (archive.mirror / a).stat().st_ino != (archive.mirror / b).stat().st_ino  # never linked there
        with open(archive.path(a), "r+b") as f:  # an in-place save through one name changes both
            f.write(b"%PDF-1.5")
        wait_for(lambda: same_on_mirror(archive, a) and same_on_mirror(archive, b), timeout=15)
        for rel in (a, b):
            kept = versions(archive, rel)
            assert [v.read_bytes() for v in kept] == [b"%PDF-1.4 one content, two names"], rel
    finally:
        assert running.stop() == 0
    done = subprocess.run([DANGAN, "backup", "--config", str(archive.config)], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    with sqlite3.connect(archive.state / "catalog.sqlite") as db:
        digest = db.execute("SELECT hash FROM files WHERE path = ?", (os.fsencode(a),)).fetchone()[0]
        assert db.execute("SELECT hash FROM files WHERE path = ?", (os.fsencode(b),)).fetchone()[0] == digest
        assert db.execute("SELECT count(*) FROM offsite_objects WHERE hash = ?", (digest,)).fetchone()[0] == 1

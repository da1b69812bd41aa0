"""The catalog registers the live service reads (gauges, history, shelf, backup, links), against a
real SQLite catalog: each answers what the daemon's own SQL answered before it moved here."""

from __future__ import annotations

import os
import sqlite3

from dangan.store.catalog import Catalog


def _stat(tmp_path, name: str, data: bytes, inode_of: str | None = None) -> os.stat_result:
    path = tmp_path / name
    if inode_of is not None:
        os.link(tmp_path / inode_of, path)
    else:
        path.write_bytes(data)
    return os.lstat(path)


def test_gauges_count_present_records_bytes_unmirrored_and_open_findings(tmp_path):
    with Catalog(tmp_path / "c.sqlite", create=True) as catalog, catalog.transaction():
        catalog.register(b"a/1.txt", _stat(tmp_path, "1", b"one"), "h1", {}, "sha256", "2026-01-01T00:00:00")
        catalog.register(b"a/2.txt", _stat(tmp_path, "2", b"two!"), "h2", {}, "sha256", "2026-01-01T00:00:00")
        catalog.set_mirrored(b"a/1.txt", "h1")
        catalog.set_mirrored(b"a/2.txt", "h2")
        catalog.register(b"a/3.txt", _stat(tmp_path, "3", b"3"), "h3", {}, "sha256", "2026-01-01T00:00:00")
        catalog.mark_removed([b"a/2.txt"], "2026-01-02T00:00:00")  # mirrored: stays until applied
        catalog.sync_violations([(b"a/1.txt", "naming", "error", "{}"), (b"a/3.txt", "naming", "error", "{}"),
                                 (b"a/3.txt", "duplicate", "warning", "{}")], None)
        assert tuple(catalog.gauges.holdings()) == (2, 4)
        assert catalog.gauges.rows() == 3  # the removal not yet applied counts as a row
        assert catalog.gauges.unmirrored() == 1
        assert catalog.gauges.open_violations_by_rule() == {"naming": 2, "duplicate": 1}


def test_the_last_good_offsite_runs_and_the_last_audit(tmp_path):
    with Catalog(tmp_path / "c.sqlite", create=True) as catalog:
        assert catalog.offsite.last_good_run() is None
        assert catalog.offsite.last_good_start_by_kind() == {}
        assert catalog.audits.latest() is None
        with catalog.transaction() as db:  # rows as the off-site runs and the audit write them
            db.executemany("INSERT INTO offsite_runs (id, kind, started, ended, result) VALUES (?,?,?,?,?)", [
                ("r1", "full", "2026-01-01T01", "2026-01-01T02", "ok"),
                ("r2", "incremental", "2026-01-02T01", "2026-01-02T02", "ok"),
                ("r3", "full", "2026-01-03T01", "2026-01-03T02", "failed"),
            ])
            db.executemany("INSERT INTO audits (id, at, seconds, problems, summary) VALUES (?,?,?,?,?)",
                           [(1, "2026-01-05", 1.0, 4, "{}"), (2, "2026-01-04", 1.0, 2, "{}")])
        assert catalog.offsite.last_good_run().ended == "2026-01-02T02"
        assert catalog.offsite.last_good_start_by_kind() == {"full": "2026-01-01T01", "incremental": "2026-01-02T01"}
        latest = catalog.audits.latest()  # the latest row, as the metrics read it
        assert (latest.at, latest.problems) == ("2026-01-04", 2)


def test_shelf_lists_versions_kept_before_a_time_and_drops_them(tmp_path):
    with Catalog(tmp_path / "c.sqlite", create=True) as catalog:
        with catalog.transaction():
            catalog.add_version(b"a.txt", "h", 1, 1, "2026-01-01T00:00:00", "change", b"loc/old")
            catalog.add_version(b"a.txt", "h2", 1, 1, "2026-03-01T00:00:00", "change", b"loc/new")
        old = catalog.shelf.kept_before("2026-02-01")
        assert [v.location for v in old] == [b"loc/old"]
        with catalog.transaction():
            catalog.shelf.drop(old[0].id)
        assert [row[5] for row in catalog.versions(b"a.txt")] == [b"loc/new"]


def test_backup_writes_a_consistent_copy_and_its_signature_follows_changes(tmp_path):
    with Catalog(tmp_path / "c.sqlite", create=True) as catalog:
        before = catalog.backup.signature()
        with catalog.transaction():
            catalog.register(b"a.txt", _stat(tmp_path, "1", b"one"), "h1", {}, "sha256", "2026-01-01T00:00:00")
        assert catalog.backup.signature() != before
        catalog.backup.write(tmp_path / "copy.sqlite")
    copy = sqlite3.connect(tmp_path / "copy.sqlite")
    try:
        assert copy.execute("SELECT path FROM files").fetchall() == [(b"a.txt",)]
    finally:
        copy.close()


def test_links_give_the_other_present_names_of_an_inode(tmp_path):
    with Catalog(tmp_path / "c.sqlite", create=True) as catalog, catalog.transaction():
        st = _stat(tmp_path, "1", b"one")
        catalog.register(b"a.txt", st, "h1", {}, "sha256", "2026-01-01T00:00:00")
        catalog.register(b"b.txt", _stat(tmp_path, "2", b"", inode_of="1"), "h1", {}, "sha256", "2026-01-01")
        catalog.register(b"c.txt", _stat(tmp_path, "3", b"", inode_of="1"), "h1", {}, "sha256", "2026-01-01")
        catalog.mark_removed([b"c.txt"], "2026-01-02")  # never mirrored: gone at once
        assert catalog.links.other_names(st.st_ino, b"a.txt") == [b"b.txt"]

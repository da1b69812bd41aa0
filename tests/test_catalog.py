"""The catalog: schema version and migrations, WAL, an append-only ledger, byte-exact paths."""

from __future__ import annotations

import sqlite3

import pytest

from dangan.config.errors import CatalogError
from dangan.store.catalog import core as catalog_module
from dangan.store.catalog import SCHEMA_VERSION, Catalog, Event, FileRecord


def _record(path: bytes, h: str = "ab") -> FileRecord:
    return FileRecord(path, 1, 2, 3, h, "sha256", '{"v": 1}', "01办公室", "A标准建设", "t0", None)


def test_fresh_catalog_is_at_current_version_in_wal_mode(tmp_path):
    with Catalog(tmp_path / "c.sqlite") as c:
        assert c.version == SCHEMA_VERSION
        assert c.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_ledger_is_append_only(tmp_path):
    with Catalog(tmp_path / "c.sqlite") as c:
        with c.transaction():
            c.record_events([(Event.INTAKE, b"a.pdf", {"hash": "x"})])
        for statement in ("UPDATE ledger SET event = 'removal'", "DELETE FROM ledger"):
            with pytest.raises(sqlite3.IntegrityError, match="append-only"):
                c.db.execute(statement)
        assert [e[1] for e in c.events()] == ["intake"]


def test_paths_are_byte_exact(tmp_path):
    gbk = "校运动会.jpg".encode("gbk")
    with Catalog(tmp_path / "c.sqlite") as c:
        with c.transaction():
            c.put([_record(b"01/" + gbk)])
        assert list(c.records()) == [b"01/" + gbk]


def test_prefix_queries_do_not_leak_into_siblings(tmp_path):
    with Catalog(tmp_path / "c.sqlite") as c:
        with c.transaction():
            c.put([_record(p) for p in (b"a/x", b"a/b/y", b"ab/z", b"a.txt", b"a")])
        assert sorted(c.records([b"a"])) == [b"a", b"a/b/y", b"a/x"]


def test_migration_steps_run_in_order_and_are_recorded(tmp_path, monkeypatch):
    path = tmp_path / "c.sqlite"
    with Catalog(path):
        pass
    step = "ALTER TABLE files ADD COLUMN note TEXT"
    monkeypatch.setattr(catalog_module, "MIGRATIONS", catalog_module.MIGRATIONS + (step,))
    monkeypatch.setattr(catalog_module, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    with Catalog(path) as c:
        assert c.version == SCHEMA_VERSION + 1
        columns = [row[1] for row in c.db.execute("PRAGMA table_info(files)")]
        assert "note" in columns


def test_failed_migration_leaves_previous_version(tmp_path, monkeypatch):
    path = tmp_path / "c.sqlite"
    with Catalog(path):
        pass
    monkeypatch.setattr(catalog_module, "MIGRATIONS", catalog_module.MIGRATIONS + ("ALTER TABLE nope ADD x",))
    monkeypatch.setattr(catalog_module, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    with pytest.raises(CatalogError):
        Catalog(path)
    monkeypatch.undo()
    with Catalog(path) as c:
        assert c.version == SCHEMA_VERSION


def test_newer_schema_is_refused_clearly(tmp_path):
    path = tmp_path / "c.sqlite"
    with Catalog(path) as c:
        c.db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 5}")
    with pytest.raises(CatalogError, match="升级"):
        Catalog(path)


def test_violation_history_keeps_first_seen_and_time_fixed(tmp_path):
    with Catalog(tmp_path / "c.sqlite") as c:
        with c.transaction():
            first = c.sync_violations([(b"a", "naming.date", "error", "{}")], None, at="t1")
        with c.transaction():
            again = c.sync_violations([(b"a", "naming.date", "error", "{}")], None, at="t2")
        assert first[(b"a", "naming.date")] == again[(b"a", "naming.date")] == "t1"
        with c.transaction():
            c.sync_violations([], None, at="t3")
        row = c.db.execute("SELECT first_seen, fixed_at FROM violations").fetchone()
        assert row == ("t1", "t3")
        assert c.open_violations() == {}


def test_objects_shipped_before_partners_were_told_apart_belong_to_none(tmp_path):
    """Schema 3 (12.5): objects known from before are kept, but no partner is said to hold them."""
    import sqlite3

    from dangan.store.catalog.core import MIGRATIONS

    path = tmp_path / "old.sqlite"
    with sqlite3.connect(path) as db:
        for number, step in enumerate(MIGRATIONS[:2], start=1):
            db.executescript(f"{step}; PRAGMA user_version = {number};")
        db.execute("INSERT INTO offsite_objects (hash, size, run_id) VALUES ('ab12', 3, '20260101T000000.000Z')")
        db.execute("INSERT INTO offsite_runs (id, kind, started, result) VALUES ('20260101T000000.000Z',"
                   " 'full', 'x', 'ok')")
    with Catalog(path) as catalog:
        assert catalog.partners.held("") == {"ab12"} and catalog.partners.held("some-partner") == set()
        assert catalog.partners.last_good_run("some-partner") == ("20260101T000000.000Z", None)
        catalog.partners.shipped("some-partner", "20260102T000000.000Z", [("ab12", 3)])
        catalog.partners.found_lost("other", {"ab12": "missing"})
        assert catalog.partners.held("some-partner") == {"ab12"} and catalog.partners.lost("other") == {"ab12": "missing"}

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


def test_a_delta_brings_the_listed_state_to_what_is_shippable(tmp_path):
    """The off-site register: after a full listing, records change, vanish and appear; applying the
    delta it computes (changed, gone) makes the listed state equal what is shippable again."""
    def mirrored(path: bytes, h: str) -> FileRecord:
        record = _record(path, h)
        record.mirror_hash = h
        return record

    with Catalog(tmp_path / "c.sqlite") as c:
        with c.transaction():
            c.put([mirrored(b"a/1", "h1"), mirrored(b"a/2", "h2"), mirrored(b"a/3", "h3")])
            c.offsite.list_all()
        assert c.offsite.listed_totals() == (3, 3) and c.offsite.changed_since_listed() == []
        with c.transaction():
            c.put([mirrored(b"a/2", "h2b"), mirrored(b"a/4", "h4"), _record(b"a/5", "h5")])  # a/5: not mirrored
            c.forget([b"a/3"])
            changed, gone = c.offsite.changed_since_listed(), c.offsite.gone_since_listed()
            assert [s.path for s in changed] == [b"a/2", b"a/4"] and gone == [b"a/3"]
            c.offsite.list_changes(gone, changed)
        assert c.offsite.changed_since_listed() == [] and c.offsite.gone_since_listed() == []
        assert c.offsite.listed_per_department() == {"01办公室": (3, 3)}
        with c.transaction():
            c.offsite.shipped("r1", [("h1", 1), ("h2b", 1)])
        assert c.offsite.held() == {"h1", "h2b"} and c.offsite.holds("h1") and not c.offsite.holds("h4")
        assert [s.hash for s in c.offsite.listed_not_held()] == ["h4"]


def test_the_register_of_runs_names_the_last_good_one(tmp_path):
    from dangan.store.catalog import Totals

    with Catalog(tmp_path / "c.sqlite") as c:
        assert c.offsite.last_good_run() is None and c.offsite.latest_run() is None
        with c.transaction():
            c.offsite.start_run("20260101T000000.000Z", "full", "t0")
            c.offsite.end_run("20260101T000000.000Z", "t1", True, None, Totals(2, 20), Totals(5, 50))
            c.offsite.start_run("20260102T000000.000Z", "incremental", "t2")
            c.offsite.end_run("20260102T000000.000Z", "t3", False, "网络断开", Totals(0, 0), Totals(0, 0))
            c.offsite.set_verification("20260101T000000.000Z", "t4", "ok")
        good, latest = c.offsite.last_good_run(), c.offsite.latest_run()
        assert (good.id, good.files, good.total_bytes, good.verification) == ("20260101T000000.000Z", 2, 50, "ok")
        assert (latest.result, latest.reason) == ("failed", "网络断开")

"""The judge: the filing rules' verdicts on what the keeper registered, kept in the catalog.

A file is judged when it is registered (its own rules, and the duplicate finding of every copy of
its content); a folder's listing (its description, its subfolders' names) once when the queue runs
dry, not once per file (a burst of 5,000 photos into one folder would otherwise list it 5,000 times).
"""

from __future__ import annotations

import json
import os
from typing import Any

from dangan.rules.rulebook import Rulebook, Violation
from dangan.store.catalog import Catalog, now
from dangan.store.tree import Tree

# What a folder listing decides: its own description, and its subfolders' names.
DESCRIPTION_RULE = "folder.no-description"
NAME_RULES = ("structure.department", "structure.category", "naming.encoding", "naming.too-long")


class Judge:
    """Applies the rulebook to registered files and changed folder listings."""

    def __init__(self, rulebook: Rulebook, catalog: Catalog, tree: Tree) -> None:
        self.rulebook = rulebook
        self.catalog = catalog
        self.tree = tree
        self.dirty: set[bytes] = set()  # folders whose listing changed since they were last judged

    def file(self, path: bytes, st: os.stat_result, facts: dict[str, Any], at: str) -> None:
        """Judge a file just registered (inside the caller's catalog transaction)."""
        found = self.rulebook.for_file(path, st, facts)
        record = self.catalog.record(path)
        group = self.catalog.paths_with_hash(record.hash) if record and record.hash and record.size > 0 else []
        duplicates = self.rulebook.duplicates({record.hash: group}, lambda p: True) if len(group) > 1 else []
        self.catalog.sync_violations(_rows(found + [v for v in duplicates if v.path == path]), None, at,
                                     paths=[path])
        # The other copies of the same content: only their duplicate finding can have changed.
        others = [p for p in group if p != path]
        if others:
            self.catalog.sync_violations(_rows([v for v in duplicates if v.path != path]), None, at,
                                         paths=others, rules=["duplicate"])

    def listing_changed(self, *folders: bytes) -> None:
        """These folders' listings are to be judged again (once, by :meth:`judge_dirty`)."""
        self.dirty.update(folders)

    def judge_listing(self, folder: bytes) -> None:
        """Re-judge a folder's listing (its description, its subfolders' names)."""
        with self.catalog.transaction():
            self._folder(folder, now())
        self.dirty.discard(folder)

    def judge_dirty(self) -> None:
        """Judge every folder whose listing changed since the last time, once each."""
        if not self.dirty:
            return
        folders, self.dirty = self.dirty, set()
        at = now()
        with self.catalog.transaction():
            for folder in folders:
                self._folder(folder, at)

    def _folder(self, folder: bytes, at: str) -> None:
        try:
            listing = self.tree.listing(folder)
        except OSError:
            return

        def facts_of(path: bytes) -> dict[str, Any]:
            record = self.catalog.record(path)
            return json.loads(record.facts) if record and record.facts else {}

        found = self.rulebook.for_folder(listing, facts_of)
        # The folder's own listing decides its description; its subfolders' names are decided here
        # too, but the folder's own name belongs to its parent's listing.
        own = [v for v in found if v.path == folder]
        self.catalog.sync_violations(_rows(own), None, at, paths=[folder], rules=[DESCRIPTION_RULE])
        children = [listing.child(name) for name in listing.dirs]
        if children:
            self.catalog.sync_violations(_rows([v for v in found if v.path != folder]), None, at, paths=children,
                                         rules=NAME_RULES)


def _rows(found: list[Violation]) -> list[tuple[bytes, str, str, str]]:
    return [(v.path, v.rule, v.severity, v.detail) for v in found]

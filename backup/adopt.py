"""`dangan init --adopt`: take over an archive tree restored onto a new disk.

A restore brings files back with their mtimes but new inodes, so the catalog would see every file as
changed and the service would copy everything to the mirror again (keeping each identical old copy
as a "version"). Adopting hashes each file once and, where the content is what the catalog already
holds, only updates the catalog's size/mtime/inode: nothing identical is copied again.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass

from dangan.config.schema import Config

from dangan.store.catalog import Catalog
from dangan.store.hashing import hash_file
from dangan.store.layout import CATALOG_FILE, MIRROR_DIR, Layout
from dangan.store.tree import Tree, open_file


@dataclass
class Adopted:
    """What adopting found."""

    files: int = 0
    identical: int = 0  # known content, now re-attached to its new inode: not copied again
    different: int = 0  # content the catalog does not know at that path: the service mirrors it
    catalog_from_mirror: bool = False


def adopt(config: Config, layout: Layout) -> Adopted:
    result = Adopted()
    if not layout.catalog_path.exists():
        copy = layout.mirror_root / MIRROR_DIR / CATALOG_FILE
        if copy.exists():
            layout.state_dir.mkdir(parents=True, exist_ok=True)
            shutil.copy2(copy, layout.catalog_path)
            result.catalog_from_mirror = True
    layout.create(departments=())
    tree = Tree(layout.archive_root, config.rules.ignore_patterns)
    root = bytes(tree.root)
    with Catalog(layout.catalog_path) as catalog:
        for folder in tree.walk():
            known = catalog.in_folder(folder.path)
            updates = []
            for name, st in folder.files:
                path = folder.child(name)
                result.files += 1
                row = known.get(path)
                if row is None or row[4]:
                    result.different += 1
                    continue
                if row[:3] == (st.st_size, st.st_mtime_ns, st.st_ino):
                    result.identical += 1
                    continue
                record = catalog.record(path)
                if record.hash_algorithm and hash_file_at(root, path, record.hash_algorithm) == record.hash:
                    updates.append((path, st))
                    result.identical += 1
                else:
                    result.different += 1
            with catalog.transaction():
                catalog.restat(updates)
        with catalog.transaction():
            catalog.set_meta("adopted", json.dumps(result.__dict__))
    return result


def hash_file_at(root: bytes, path: bytes, algorithm: str) -> str | None:
    try:
        return hash_file(open_file(root, path), algorithm)
    except OSError:
        return None

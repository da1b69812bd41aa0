"""Settling: a file seen to change without a close event (or closed again and again) is complete
only once its size and mtime have stood still for ``mirror.settle_seconds``."""

from __future__ import annotations

import time
from dataclasses import dataclass

from dangan.store.tree import Tree

CLOSES_KEPT = 10_000  # recent closes remembered before the old ones are forgotten


@dataclass
class _Seen:
    size: int
    mtime_ns: int
    since: float  # monotonic time the size/mtime were last seen to change


class Settling:
    """The files waiting to stand still, and when each file was last closed."""

    def __init__(self, tree: Tree, window: float) -> None:
        self._tree = tree
        self._window = window
        self._waiting: dict[bytes, _Seen] = {}
        self._closed_at: dict[bytes, float] = {}  # path -> monotonic time of its last close event

    def __len__(self) -> int:
        return len(self._waiting)

    def restart(self, tree: Tree, window: float) -> None:
        """A new configuration: what waited is dropped (the reconcile of every start finds it again);
        the recent closes are kept, so a file closed again and again still waits for a pause."""
        self._tree, self._window = tree, window
        self._waiting.clear()

    def watch(self, path: bytes) -> None:
        """Watch ``path`` until its size and mtime stop changing. No stat here: a burst brings a
        created and a modified event for every file, and its close usually follows in the same
        pass. :meth:`settled` looks at what is still waiting after the pass."""
        if path not in self._waiting:
            self._waiting[path] = _Seen(-1, -1, time.monotonic())

    def forget(self, path: bytes) -> None:
        self._waiting.pop(path, None)

    def closed(self, path: bytes) -> bool:
        """A close event after writing: True when the file is complete now. A writer that closes
        the file between chunks (an SMB client, a logger) would otherwise get a copy of every
        prefix, each kept as a version: a file closed again within the window waits instead."""
        self.forget(path)
        now_ = time.monotonic()
        if len(self._closed_at) > CLOSES_KEPT:
            self._closed_at = {p: at for p, at in self._closed_at.items() if now_ - at < self._window}
        at = self._closed_at.get(path)
        self._closed_at[path] = now_
        if at is not None and now_ - at < self._window:
            self.watch(path)
            return False
        return True

    def settled(self) -> list[bytes]:
        """The files that have stood still for the window, no longer waiting (gone ones are dropped)."""
        if not self._waiting:
            return []
        now_ = time.monotonic()
        settled = []
        for path, seen in list(self._waiting.items()):
            try:
                st = self._tree.lstat(path)
            except OSError:
                del self._waiting[path]
                continue
            if (st.st_size, st.st_mtime_ns) != (seen.size, seen.mtime_ns):
                self._waiting[path] = _Seen(st.st_size, st.st_mtime_ns, now_)
            elif now_ - seen.since >= self._window:
                del self._waiting[path]
                settled.append(path)
        return settled

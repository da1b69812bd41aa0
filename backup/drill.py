"""`dangan drill`: a backup nobody has restored from is not yet a backup.

A random sample (``drill.share``, at least ``drill.min_files``) is restored from each copy — the
mirror, and the partner when configured — into a scratch folder, verified against its hashes and
timed; the scratch is deleted. The pace gives a projected time for a full restore, which the
weekly report shows.
"""

from __future__ import annotations

import json
import random
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from dangan.config.schema import Config

from dangan.store.catalog import Catalog, DrillRecord, now
from dangan.store.layout import Layout
from dangan.backup.restore import CatalogView, Fetch, Restore, RestoreReport, Target, mirror_fetch


@dataclass
class DrillResult:
    """One copy's drill."""

    source: str
    files: int
    bytes: int
    seconds: float
    ok: bool
    projected_seconds: float | None
    failures: list[str] = field(default_factory=list)


def run_drill(config: Config, layout: Layout, catalog: Catalog,
              offsite: Callable[[Path], Fetch] | None, partner: str = "") -> list[DrillResult]:
    """Drill each copy; ``offsite`` makes the partner's source for a scratch folder (None: no partner),
    ``partner`` names it in the catalog (what it holds)."""
    view = CatalogView(layout)
    try:
        everything = view.items(None, [])
        total_bytes = sum(max(item.size, 0) for item in everything)
        wanted = max(config.drill.min_files, round(len(everything) * config.drill.share))
        sample = random.sample(everything, min(wanted, len(everything)))
        results = [_one("mirror", lambda _: mirror_fetch(view, layout.mirror_root), sample, total_bytes, layout,
                        config)]
        if offsite is not None:
            # The partner is drilled on what it was sent: a record filed since the last off-site
            # run is not there yet, and its absence is no failure of the copy. (Holding nothing at
            # all is: then the whole sample is asked for, and missing.)
            held = catalog.offsite.held(partner=partner)
            shipped = [item for item in everything if item.hash in held] or everything
            offsite_sample = random.sample(shipped, min(wanted, len(shipped)))
            results.append(_one("offsite", offsite, offsite_sample, total_bytes, layout, config))
    finally:
        view.close()
    with catalog.transaction():
        for r in results:
            detail = json.dumps(r.failures[:20], ensure_ascii=False)
            catalog.drills.add(DrillRecord(now(), r.source, r.files, r.bytes, r.seconds, r.ok,
                                           r.projected_seconds, detail))
    return results


def _one(name: str, make: Callable[[Path], Fetch], sample: list, total_bytes: int, layout: Layout,
         config: Config) -> DrillResult:
    scratch = Path(tempfile.mkdtemp(prefix=f".dangan-drill-{name}-", dir=layout.state_dir))
    try:
        report = RestoreReport(name, str(scratch), None)
        fetch = make(scratch / ".dangan-restore" / "objects")
        Restore(Target(scratch, config.hash_algorithm, overwrite=False), report, progress=False).run(sample, [fetch])
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    sample_bytes = sum(max(i.size, 0) for i in sample)
    projected = report.seconds * total_bytes / sample_bytes if sample_bytes else None
    return DrillResult(name, len(sample), report.bytes, round(report.seconds, 3), report.ok,
                       round(projected, 1) if projected is not None else None,
                       [f"{f.path.decode('utf-8', 'backslashreplace')}: {f.reason}" for f in report.failures])


def as_dicts(results: list[DrillResult]) -> list[dict]:
    return [asdict(r) for r in results]

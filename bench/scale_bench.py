#!/usr/bin/env python3
"""dangan at scale (issue 15): time and memory against the archive's size, 100k / 300k / 1M records.

For each size, a tree in the school's layout (15 departments x 6 categories x task folders of 100
files, the check benchmark's folder names) of TINY files: UTF-8 notes of 40-120 bytes, each unique,
so that a million records fit the machine's disk; the walk, the catalog and the rules see a school's
shape, the hashing sees far fewer bytes than a school's photos (time here is per-record cost, not
bytes). Generated once per size under ``--dir`` and reused.

Measured per size, in order, each a child process with the peak RSS of its whole process tree
(sampled from /proc, bench/check_bench.py ``timed``) and of the main process (wait4):

    find        find ARCHIVE -type f -printf '%s %T@ %p\\n'    (the anchor, same run)
    first       dangan check --format json, empty catalog (every file read)
    unchanged   dangan check --format json again, nothing changed
    startup     dangan --version (what any command costs before it starts: status's anchor)
    status      dangan status --format json
    report      dangan report --out DIR
    (up to --mirror-max records, as the first mirror copies every file:)
    mirror      dangan mirror, the first (fills the mirror: not timed for a goal, reported)
    reconcile   dangan mirror again, nothing changed (the service start's reconcile)
and the catalog's bytes per record (file size of catalog.sqlite / records).

    python bench/scale_bench.py --sizes 100000,300000
    python bench/scale_bench.py --sizes 2000          # smoke
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from check_bench import CATEGORIES, DEPARTMENTS, fresh_state, timed  # noqa: E402
from common import git_facts, machine_facts, parser, start, stamp  # noqa: E402

GENERATOR_VERSION = 1
PER_FOLDER = 100


def generate(tree: Path, total: int) -> None:
    """The school-layout tree of ``total`` tiny unique notes (kept when already complete)."""
    done = tree.with_name(tree.name + ".done")
    if done.exists() and done.read_text() == f"{GENERATOR_VERSION} {total}":
        return
    shutil.rmtree(tree, ignore_errors=True)
    rng = random.Random(total)
    for n in range(0, total, PER_FOLDER):
        task = n // PER_FOLDER
        department = DEPARTMENTS[task % len(DEPARTMENTS)]
        category = CATEGORIES[(task // len(DEPARTMENTS)) % len(CATEGORIES)]
        day = f"{2015 + task % 10}{1 + task % 12:02d}{1 + task % 28:02d}"
        folder = tree / department / category / f"{day}活动{task:06d}"
        folder.mkdir(parents=True)
        for i in range(n, min(n + PER_FOLDER, total)):
            text = f"活动记录 {i} " + "".join(rng.choice("记录会议通知学生教师") for _ in range(rng.randint(10, 36)))
            (folder / f"记录{i:07d}.txt").write_text(text, encoding="utf-8")
    done.write_text(f"{GENERATOR_VERSION} {total}")


def measure(dangan: str, work: Path, trees: Path, total: int, sample: float, mirror_max: int) -> dict:
    tree = trees / f"tree-{total}"
    generate(tree, total)
    config = fresh_state(dangan, work, tree)
    out = work / "out.json"
    rows: dict[str, dict] = {}

    def run(kind: str, argv: list[str], ok: tuple[int, ...] = (0, 1)) -> None:
        with open(out, "wb") as f:
            done = timed(kind, 0, argv, f, sample)
        if done.exit_code not in ok:
            raise SystemExit(f"{kind} failed with exit {done.exit_code}: {done.extra.get('stderr', '')}")
        rows[kind] = {"seconds": round(done.seconds, 2), "tree_rss_mib": round(done.tree_rss_kib / 1024, 1),
                      "main_rss_mib": round(done.maxrss_kib / 1024, 1)}
        print(f"{total:>9} {kind:<10} {done.seconds:8.2f} s  tree {done.tree_rss_kib / 1024:7.1f} MiB"
              f"  main {done.maxrss_kib / 1024:7.1f} MiB", flush=True)

    subprocess.run(["find", str(tree), "-type", "f", "-printf", "%s %T@ %p\n"], stdout=subprocess.DEVNULL)  # warm
    run("find", ["find", str(tree), "-type", "f", "-printf", "%s %T@ %p\n"], ok=(0,))
    dangan_args = ["--config", str(config)]
    run("first", [dangan, "check", *dangan_args, "--format", "json"])
    checked = json.loads(out.read_text(encoding="utf-8"))
    run("unchanged", [dangan, "check", *dangan_args, "--format", "json"])
    again = json.loads(out.read_text(encoding="utf-8"))
    assert again["files_checked"] == checked["files_checked"] == total and again["files_read"] == 0, again
    run("startup", [dangan, "--version"], ok=(0,))  # the anchor of status: the interpreter and the imports
    run("status", [dangan, "status", *dangan_args, "--format", "json"])
    run("report", [dangan, "report", *dangan_args, "--out", str(work / "report")])
    if total <= mirror_max:
        run("mirror", [dangan, "mirror", *dangan_args])
        run("reconcile", [dangan, "mirror", *dangan_args])
    catalog = config.parent / "state" / "catalog.sqlite"
    size = catalog.stat().st_size
    find = rows["find"]["seconds"]
    for row in rows.values():
        row["x_find"] = round(row["seconds"] / find, 2) if find else None
    return {"records": total, "violations": len(checked["violations"]), "mirrored": "mirror" in rows,
            "catalog_bytes": size,
            "catalog_bytes_per_record": round(size / total), "runs": rows}


def main() -> None:
    p = parser(__doc__, "/tmp/dangan-scale-bench", "work folder: generated trees are kept there")
    p.add_argument("--sizes", default="100000,300000", help="record counts, comma-separated")
    p.add_argument("--trees", type=Path, help="where the generated trees are kept (default: --dir)")
    p.add_argument("--mirror-max", type=int, default=30_000,
                   help="measure mirror and reconcile only up to this many records: the first mirror copies"
                        " every file (on a shared 2-core machine about 40 files/s)")
    p.add_argument("--sample", type=float, default=0.05, help="seconds between RSS samples")
    args = p.parse_args()
    bench = start(args)
    trees = (args.trees or bench.work).resolve()
    results = [measure(bench.dangan, bench.work, trees, int(n), args.sample, args.mirror_max)
               for n in args.sizes.split(",")]
    print(json.dumps({"date": stamp(), **git_facts(bench.repo), "commit": bench.commit,
                      "machine": machine_facts(), "results": results}, ensure_ascii=False))


if __name__ == "__main__":
    main()

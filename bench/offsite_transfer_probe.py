#!/usr/bin/env python3
"""Why is dangan's transfer slower than the same rclone command run alone? (issue 4 diagnostic)

Run after ``offsite_bench.py --only split`` (or any offsite_bench run whose last step was a full
dangan backup): it reuses that work dir's mirror stage (hard links ``data/<hh>/<hash>``), catalog
and anchor remote definition. It ships all staged objects, interleaved, rotated round by round,
each into a fresh crypt folder, in four ways that differ in one thing at a time:

    sorted        rclone copy STAGE anchor: --files-from LIST(sorted by name) + dangan's flags
    priority      the same with the list in dangan's order (backup/manifest.py by_priority: here
                  newest mtime first, as every record is 永久), i.e. scattered over the 256 folders
    rp-sorted     the sorted list through rclone-python's transfer function, as dangan's transfer
                  child calls it (it adds -v --use-json-log --stats 0.1s and reads rclone's stderr
                  line by line in Python)
    rp-priority   both: what dangan's transfer child does, without the rest of dangan backup
    fresh         (not in the default list) like sorted, but the stage's hard links are removed and made
                  again first (untimed), as a first dangan backup does: every staged inode's ctime is
                  new, so with relatime the first read of each updates its atime
    dangan        (with --dangan) a whole first dangan backup as offsite_bench.py runs it: fresh
                  partner, empty stage, the catalog template put back; the lifetime of its rclone copy
                  process is sampled from /proc every 20 ms, to split its time into before / during /
                  after the transfer

    python bench/offsite_transfer_probe.py [--dir /tmp/dangan-bench-offsite] [--rounds 3] [--dangan] [--only K,K]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import med, pin_sources, watch_rclone  # noqa: E402
from offsite_bench import (ANCHOR, DANGAN_FLAGS, anchor_env, fresh_dir, rclone_binary, summary_line, timed,  # noqa: E402
                           timed_sync)

RP_SNIPPET = """
import logging, sys
from rclone_python import rclone as rp
logging.getLogger("rclone_python").setLevel(logging.CRITICAL)
source, dest, listing, binary = sys.argv[1:5]
flags = sys.argv[5:]
rp._rclone_transfer_operation(source, dest, command=f"'{binary}' copy", command_descr="Shipping",
                              show_progress=False, args=[f"--files-from='{listing}'", *flags])
"""


def dangan_round(work: Path) -> dict:
    """A first full dangan backup as offsite_bench.py's full rounds run it, with its rclone copy's lifetime."""
    stage, state, partner = work / "mirror" / ".dangan" / "stage", work / "state", work / "partner"
    fresh_dir(partner)
    shutil.rmtree(stage, ignore_errors=True)
    shutil.rmtree(state)
    subprocess.run(["cp", "-a", str(work / "state-template"), str(state)], check=True)
    timed_sync()
    seen: dict[int, list[float]] = {}
    stop = threading.Event()
    started = time.perf_counter()

    child = subprocess.Popen([str(rclone_binary().with_name("dangan")), "backup", "--config", str(work / "config.yaml"),
                              "--format", "json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    sampler = threading.Thread(target=watch_rclone, args=(child.pid, started, seen, stop), daemon=True)
    sampler.start()
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    stop.set()
    sampler.join()
    out = child.stdout.read().decode()
    spans = sorted(seen.values())
    first, last = (spans[0][0], spans[-1][1]) if spans else (float("nan"), float("nan"))
    return {"seconds": seconds, "exit_code": os.waitstatus_to_exitcode(status), "stdout": out[-2000:],
            "cpu_seconds": usage.ru_utime + usage.ru_stime, "user_seconds": usage.ru_utime,
            "sys_seconds": usage.ru_stime, "maxrss_mib": usage.ru_maxrss / 1024, "tree_rss_mib": 0.0, "tree_procs": 0,
            "sync_seconds": timed_sync(), "rclone_start": first, "rclone_seconds": last - first,
            "total_minus_end": seconds - last, "rclone_processes": len(spans)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", type=Path, default=Path("/tmp/dangan-bench-offsite"))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--dangan", action="store_true",
                        help="also a whole dangan backup, its rclone's lifetime sampled")
    parser.add_argument("--only", default="sorted,priority,rp-sorted,rp-priority")
    parser.add_argument("--rev", default="HEAD", help="git revision of dangan for --dangan (default: %(default)s)")
    args = parser.parse_args()
    work = args.dir.resolve()
    if args.dangan:
        commit = pin_sources(Path(__file__).resolve().parent.parent, args.rev, work)
        print(f"[probe] dangan {commit[:12]}", flush=True)
    stage = work / "mirror" / ".dangan" / "stage"
    staged = {p.name: str(p.relative_to(stage)) for p in stage.rglob("*") if p.is_file()}
    db = sqlite3.connect(f"file:{work / 'state' / 'catalog.sqlite'}?mode=ro", uri=True)
    rows = db.execute("SELECT path, hash, mtime_ns FROM files WHERE removed_at IS NULL AND hash IS NOT NULL"
                      " AND mirror_hash = hash ORDER BY path").fetchall()
    order, seen = [], set()
    for _, digest, _ in sorted(rows, key=lambda r: -r[2]):  # by_priority with every record 永久, none damaged
        if digest in staged and digest not in seen:
            seen.add(digest)
            order.append(staged[digest])
    lists = {"sorted": work / "probe-sorted.txt", "priority": work / "probe-priority.txt"}
    lists["sorted"].write_text("".join(n + "\n" for n in sorted(staged.values())), encoding="ascii")
    lists["priority"].write_text("".join(n + "\n" for n in order), encoding="ascii")
    print(f"[probe] {len(staged):,} staged objects, {len(order):,} in priority order", flush=True)
    target = work / "probe"
    env = anchor_env(target)
    env["PATH"] = f"{rclone_binary().parent}:{env.get('PATH', '/usr/bin:/bin')}"  # as dangan's transfer env has it
    rclone = str(rclone_binary())
    kinds = args.only.split(",") + (["dangan"] if args.dangan else [])
    runs = []
    for r in range(1, args.rounds + 1):
        for kind in kinds[r - 1:] + kinds[:r - 1]:
            if kind == "dangan":
                run = dangan_round(work)
                run.update(kind=kind, round=r)
                runs.append(run)
                print(f"[probe] {kind:11} round {r}: {summary_line(run)}  exit {run['exit_code']}; rclone copy ran"
                      f" {run['rclone_seconds']:.2f} s, from {run['rclone_start']:.2f} s after the start to"
                      f" {run['total_minus_end']:.2f} s before the end", flush=True)
                continue
            if kind == "fresh":
                keep = work / "probe-stage-keep"
                shutil.rmtree(keep, ignore_errors=True)
                subprocess.run(["cp", "-al", str(stage), str(keep)], check=True)
                shutil.rmtree(stage)
                subprocess.run(["cp", "-al", str(keep), str(stage)], check=True)
                shutil.rmtree(keep)
            listing = lists["sorted" if kind == "fresh" else kind.removeprefix("rp-")]
            if kind.startswith("rp-"):
                argv = [sys.executable, "-c", RP_SNIPPET, str(stage), f"{ANCHOR}:", str(listing), rclone, *DANGAN_FLAGS]
            else:
                argv = [rclone, "copy", str(stage), f"{ANCHOR}:", f"--files-from={listing}", *DANGAN_FLAGS]
            fresh_dir(target)
            timed_sync()
            run = timed(argv, env=env)
            run["sync_seconds"] = timed_sync()
            run.update(kind=kind, round=r)
            runs.append(run)
            print(f"[probe] {kind:11} round {r}: {summary_line(run)}  exit {run['exit_code']}", flush=True)
    print("\n| way | median s (min–max, n) | ÷ sorted (per round) | CPU s (user + sys) |")
    print("|---|---|---|---|")
    base = {x["round"]: x["seconds"] for x in runs if x["kind"] == kinds[0]}
    for kind in kinds:
        rs = [x for x in runs if x["kind"] == kind]
        secs = [x["seconds"] for x in rs]
        per_round = ", ".join(f"{x['seconds'] / base[x['round']]:.2f}" for x in rs)
        print(f"| {kind} | {med(secs):.2f} ({min(secs):.2f}–{max(secs):.2f}, {len(secs)}) |"
              f" {med(secs) / med(list(base.values())):.2f}× ({per_round}) | {med([x['cpu_seconds'] for x in rs]):.1f}"
              f" ({med([x['user_seconds'] for x in rs]):.1f} + {med([x['sys_seconds'] for x in rs]):.1f}) |")
    out = work / f"probe-results-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps(runs, ensure_ascii=False, indent=2, default=str) + "\n")
    print(f"\nraw results: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

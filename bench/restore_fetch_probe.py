#!/usr/bin/env python3
"""Why is the partner download slower inside ``dangan restore`` than ``rclone copy`` alone? (issue 6 diagnostic)

Run after ``restore_bench.py`` (it reuses that work dir's config, key, partner and anchor). Each
variant downloads the whole partner (or anchor) into a fresh folder, interleaved and rotated round
by round; wall time of the rclone process, then a ``sync`` timed on its own. One thing differs at
a time:

    anchor        rclone copy anchor: NEW                                        (the benchmark's anchor)
    files-from    rclone copy danganoffsite: NEW --files-from LIST --retries=3   (what dangan runs)
    no-traverse   the same + --no-traverse
    folder        rclone copy danganoffsite:data NEW/data --retries=3            (no list at all)
    checkers16    files-from + --checkers=16
    dangan        dangan restore --from offsite (the installed working tree); the lifetime of its
                  rclone copy is sampled from /proc every 20 ms: start-up, download, tail

    python bench/restore_fetch_probe.py [--dir /tmp/dangan-bench-restore] [--rounds 2] [--only K,K]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import med, watch_rclone  # noqa: E402
from offsite_bench import ANCHOR, anchor_env, rclone_binary, timed, timed_sync  # noqa: E402

VARIANTS = ("anchor", "files-from", "no-traverse", "folder", "checkers16", "dangan")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", type=Path, default=Path("/tmp/dangan-bench-restore"))
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--only", default="anchor,files-from,no-traverse,folder")
    args = parser.parse_args(argv)
    work = args.dir.resolve()
    from dangan.backup.offsite import Offsite
    from dangan.backup.rclone import CRYPT
    from dangan.config.loader import load

    offsite = Offsite(load(work / "config.yaml"), work / "config.yaml", None)
    env, rclone = offsite.rclone.env(), str(rclone_binary())
    listing = work / "probe-wanted.txt"
    names = subprocess.run([rclone, "lsf", "-R", "--files-only", f"{CRYPT}:data"], env=env, check=True,
                           capture_output=True, text=True).stdout.split()
    listing.write_text("".join(f"data/{n}\n" for n in sorted(names)), encoding="ascii")
    print(f"[probe] {len(names):,} objects on the partner", flush=True)
    common = [f"--files-from={listing}", "--retries=3"]
    commands = {
        "anchor": lambda t: ([rclone, "copy", f"{ANCHOR}:", t], anchor_env(work / "anchor")),
        "files-from": lambda t: ([rclone, "copy", f"{CRYPT}:", t, *common], env),
        "no-traverse": lambda t: ([rclone, "copy", f"{CRYPT}:", t, *common, "--no-traverse"], env),
        "folder": lambda t: ([rclone, "copy", f"{CRYPT}:data", f"{t}/data", "--retries=3"], env),
        "checkers16": lambda t: ([rclone, "copy", f"{CRYPT}:", t, *common, "--checkers=16"], env),
        "dangan": lambda t: ([str(Path(sys.executable).parent / "dangan"), "restore", "--config",
                              str(work / "config.yaml"), "--from", "offsite", "--to", t, "--format", "json"], None),
    }
    kinds = [k for k in args.only.split(",") if k in VARIANTS]
    times: dict[str, list[float]] = {k: [] for k in kinds}
    for r in range(args.rounds):
        order = kinds[r % len(kinds):] + kinds[:r % len(kinds)]
        for kind in order:
            target = work / "out" / f"probe-{kind}"
            shutil.rmtree(target, ignore_errors=True)
            argv_, env_ = commands[kind](str(target))
            seen: dict[int, list[float]] = {}
            stop = threading.Event()
            started = time.perf_counter()
            sampler = threading.Thread(target=watch_rclone, args=(os.getpid(), started, seen, stop))
            sampler.start()
            run = timed(argv_, env=env_)
            stop.set()
            sampler.join()
            if kind == "dangan" and seen:
                begin, end = min(v[0] for v in seen.values()), max(v[1] for v in seen.values())
                print(f"          dangan: rclone copy ran {begin:.2f} .. {end:.2f} s ({end - begin:.2f} s);"
                      f" start-up {begin:.2f} s, after it {run['seconds'] - end:.2f} s", flush=True)
            sync = timed_sync()
            count = sum(len(f) for _, _, f in os.walk(target))
            times[kind].append(run["seconds"])
            print(f"[round {r + 1}] {kind:12} {run['seconds']:6.2f} s (sync {sync:.2f}) cpu {run['cpu_seconds']:.1f}"
                  f" (user {run['user_seconds']:.1f} sys {run['sys_seconds']:.1f}) files {count:,}"
                  f" exit {run['exit_code']}", flush=True)
            shutil.rmtree(target)
            timed_sync()
    listing.unlink()
    base = med(times[kinds[0]])
    for kind in kinds:
        print(f"{kind:12} median {med(times[kind]):6.2f} s  ({', '.join(f'{x:.2f}' for x in times[kind])})"
              f"  {kinds[0]} ÷ this {base / med(times[kind]):.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())

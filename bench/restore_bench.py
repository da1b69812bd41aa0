#!/usr/bin/env python3
"""Benchmark of ``dangan restore`` (bring an archive back, verified), issue 6.

A generated tree of 20,000 files and 1 GB (random content, 200 task folders of 100 files in the
school's layout, varied sizes and past mtimes; cached under ``--dir``) is copied into an archive,
mirrored (``dangan mirror``) and shipped to a local partner folder (``dangan backup``), and copied
once into an anchor crypt remote (``rclone copy TREE anchor:``), all untimed. Then, interleaved
round after round (``--rounds``), each into a fresh target folder:

    cp            cp -a TREE NEW                                              (anchor of "mirror")
    mirror        dangan restore --config C --from mirror --to NEW --format json
    rclone        rclone copy anchor: NEW                                     (anchor of "offsite")
    offsite       dangan restore --config C --from offsite --to NEW --format json

Goals (issue 6): restore from the mirror at least 0.8x the throughput of cp -a; from the partner
at least 0.9x that of rclone copy from an equivalent crypt remote.

The anchor crypt remote is defined by environment variables the way dangan defines its own (see
offsite_bench.py). Every timed command is a child process: wall time from perf_counter around
Popen .. wait4, CPU and the largest single peak RSS from wait4 (every reaped descendant included),
the peak summed RSS of the live process tree sampled from /proc. A ``sync`` follows every timed
command, timed on its own (dangan syncs its restored files; cp and rclone leave dirty pages), so
no run leaves write-back for the next; the table shows both. After each run, untimed, the target
is compared with the tree: every file byte for byte, and its mtime to the nanosecond. The page
cache is warm (tree, mirror, partner and anchor are read once before round 1); nothing is dropped
(that needs root and disturbs the shared machine). An untimed ``cp -a`` of the tree, removed and
synced, precedes round 1: the first gigabyte written after the setup is much cheaper than any
later one, and would favour whichever run comes first (always an anchor).

dangan is run from a pinned export of a git revision (default HEAD; ``--rev``).

    python bench/restore_bench.py                  # 20,000 files / 1 GB, 3 rounds
    python bench/restore_bench.py --quick          # smoke: 1,000 files / 20 MB, 1 round
    python bench/restore_bench.py --profile        # and then cProfile one restore of each kind
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from check_bench import CATEGORIES, DEPARTMENTS, TOPICS, warm_cache  # noqa: E402
from common import PROFILE_SNIPPET, machine_facts, med, parser as bench_parser, set_language_en, stamp, start  # noqa: E402
from offsite_bench import (ANCHOR, anchor_env, count_files, dangan_backup, dangan_mirror,  # noqa: E402
                           io_capture, rclone_binary, timed, timed_sync)

TREE_VERSION = 1
KINDS = ("cp", "mirror", "rclone", "offsite")
LABELS = {"cp": "`cp -a TREE NEW` (anchor)", "mirror": "`dangan restore --from mirror`",
          "rclone": "`rclone copy anchor: NEW` (anchor)", "offsite": "`dangan restore --from offsite`"}


# == the tree ==================================================================================
def make_tree(base: Path, files: int, total_bytes: int, per_folder: int) -> dict:
    """The cached tree ``base/tree``: ``files`` files of random content, ``total_bytes`` in all,
    sizes log-normal (median about 30 KB, 1 KiB .. 4 MiB), mtimes spread over 2019-2024."""
    manifest = base / "manifest.json"
    wanted = {"version": TREE_VERSION, "files": files, "total_bytes": total_bytes, "per_folder": per_folder}
    if manifest.is_file():
        info = json.loads(manifest.read_text())
        if {k: info.get(k) for k in wanted} == wanted:
            print(f"[gen] reusing {base / 'tree'} ({info['files']:,} files, {info['bytes']:,} bytes)", flush=True)
            return info
    if base.exists():
        shutil.rmtree(base)
    tree = base / "tree"
    tree.mkdir(parents=True)
    started = time.perf_counter()
    rng = random.Random("dangan-restore-bench")
    raw = [min(4 << 20, max(1024, int(rng.lognormvariate(10.3, 1.0)))) for _ in range(files)]
    scale = total_bytes / sum(raw)
    sizes = [max(1024, int(s * scale)) for s in raw]
    sizes[-1] += total_bytes - sum(sizes)
    pool = rng.randbytes(16 << 20)
    pairs = [(d, c) for d in DEPARTMENTS for c in CATEGORIES]
    epoch = datetime(2019, 1, 1).timestamp()
    for i, size in enumerate(sizes):
        t = i // per_folder
        if i % per_folder == 0:
            d, c = pairs[t % len(pairs)]
            folder = tree / d / c / f"{2019 + t % 6}年{TOPICS[t % len(TOPICS)]}{t:04d}"
            folder.mkdir(parents=True)
        head = b"%016d" % i  # every content distinct (no dedup on the partner)
        body = bytearray()
        while len(body) < size - len(head):
            off = rng.randrange(0, len(pool) - 65536)
            body += pool[off:off + min(65536, size - len(head) - len(body))]
        path = folder / f"工作记录{i % per_folder:03d}.bin"
        path.write_bytes(head + bytes(body))
        mtime = int((epoch + rng.uniform(0, 6 * 365 * 86400)) * 1e9)
        os.utime(path, ns=(mtime, mtime))
    info = {**wanted, "bytes": sum(sizes), "min": min(sizes), "max": max(sizes),
            "median": sorted(sizes)[len(sizes) // 2], "folders": (files + per_folder - 1) // per_folder,
            "generated_at": stamp(), "generation_seconds": round(time.perf_counter() - started, 1)}
    manifest.write_text(json.dumps(info, indent=2) + "\n")
    print(f"[gen] {files:,} files, {info['bytes']:,} bytes in {info['generation_seconds']} s", flush=True)
    return info


def compare(tree: Path, target: Path) -> dict:
    """Every file of ``tree`` in ``target``, byte for byte and with the same mtime (ns); files in
    ``target`` that ``tree`` lacks (dangan's own .dangan-restore folder aside)."""
    missing = mismatched = mtime_off = checked = 0
    for folder, dirs, names in os.walk(tree):
        rel = os.path.relpath(folder, tree)
        for name in names:
            a, b = os.path.join(folder, name), os.path.join(target, rel, name)
            checked += 1
            try:
                sb = os.lstat(b)
            except FileNotFoundError:
                missing += 1
                continue
            sa = os.lstat(a)
            if sa.st_mtime_ns != sb.st_mtime_ns:
                mtime_off += 1
            with open(a, "rb") as fa, open(b, "rb") as fb:
                if sa.st_size != sb.st_size or fa.read() != fb.read():
                    mismatched += 1
    extra = 0
    for folder, dirs, names in os.walk(target):
        if folder == str(target) and ".dangan-restore" in dirs:
            dirs.remove(".dangan-restore")
        rel = os.path.relpath(folder, target)
        extra += sum(not os.path.lexists(os.path.join(tree, rel, n)) for n in names)
    return {"checked": checked, "missing": missing, "mismatched": mismatched, "mtime_off": mtime_off, "extra": extra}


# == main ======================================================================================
def main(argv: list[str] | None = None) -> int:
    parser = bench_parser(__doc__, "/tmp/dangan-bench-restore",
                          "work dir: cached tree, archive, mirror, state, partner, anchor, targets")
    parser.add_argument("--files", type=int, default=20_000)
    parser.add_argument("--bytes", type=int, default=1_000_000_000,
                        help="total size of the tree (default: %(default)s)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", default="mirror,offsite", help="comma list of mirror,offsite")
    parser.add_argument("--quick", action="store_true", help="smoke run: 1,000 files, 20 MB, 1 round")
    parser.add_argument("--no-compare", action="store_true", help="skip the untimed byte/mtime comparison")
    parser.add_argument("--profile", action="store_true", help="after the rounds, cProfile one restore of each kind")
    args = parser.parse_args(argv)
    if args.quick:
        args.files, args.bytes, args.rounds = 1000, 20_000_000, 1
    only = set(args.only.split(","))

    dangan, work, repo, commit = start(args)
    facts = machine_facts()
    facts.update(commit=commit, argv=sys.argv,
                 rclone=subprocess.run([str(rclone_binary()), "version"], capture_output=True,
                                       text=True).stdout.splitlines()[0],
                 cp=subprocess.run(["cp", "--version"], capture_output=True, text=True).stdout.splitlines()[0])
    print(f"[run] {facts['date']} nproc={facts['nproc']} {facts['cpu']} kernel={facts['kernel']}"
          f" python={facts['python']} dangan={commit[:12]} {facts['rclone']}", flush=True)
    results: dict = {"facts": facts, "setup": {}}
    setup = results["setup"]

    # -- setup (untimed): archive, mirror, partner, anchor ---------------------------------------
    info = make_tree(work / f"tree-{args.files}-{args.bytes}", args.files, args.bytes, 100)
    tree = work / f"tree-{args.files}-{args.bytes}" / "tree"
    setup["tree"] = info
    archive, mirror, state = work / "archive", work / "mirror", work / "state"
    config, partner, anchor_dir, out = work / "config.yaml", work / "partner", work / "anchor", work / "out"
    for path in (archive, mirror, state, partner, anchor_dir, out, config, work / "offsite.key"):
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
    out.mkdir()
    subprocess.run(["cp", "-a", str(tree), str(archive)], check=True)
    subprocess.run([dangan, "init", "--config", str(config), "--archive-root", str(archive), "--mirror-root",
                    str(mirror), "--state-dir", str(state), "--offsite-remote", str(partner)],
                   check=True, stdout=subprocess.DEVNULL)
    set_language_en(config)
    m = dangan_mirror(dangan, config)
    setup["mirror"] = {k: m[k] for k in ("seconds", "cpu_seconds", "files", "arrived")}
    print(f"[setup] dangan mirror: {m['seconds']:.1f} s, {m['files']:,} files, {m['arrived']:,} new", flush=True)
    if m["files"] != args.files:
        raise SystemExit(f"dangan mirror saw {m['files']} files, expected {args.files}")
    if "offsite" in only:
        b = dangan_backup(dangan, config)
        setup["backup"] = {"seconds": b["seconds"], "cpu_seconds": b["cpu_seconds"], "result": b["result"]}
        print(f"[setup] dangan backup: {b['seconds']:.1f} s, shipped {b['result']['files']:,} files,"
              f" {b['result']['bytes']:,} bytes", flush=True)
    env = anchor_env(anchor_dir)
    rclone = str(rclone_binary())
    if "offsite" in only:
        a = timed([rclone, "copy", str(tree), f"{ANCHOR}:"], env=env)
        if a["exit_code"] != 0:
            raise SystemExit(f"rclone copy to the anchor failed: {a['stderr']}")
        setup["anchor_upload_seconds"] = a["seconds"]
        setup["partner"], setup["anchor"] = count_files(partner), count_files(anchor_dir)
        print(f"[setup] anchor filled in {a['seconds']:.1f} s; partner holds {setup['partner'][0]:,} files /"
              f" {setup['partner'][1]:,} bytes, anchor {setup['anchor'][0]:,} / {setup['anchor'][1]:,}", flush=True)
    timed_sync()
    setup["warm_seconds"] = sum(warm_cache(p) for p in (tree, mirror, partner, anchor_dir) if p.exists())
    print(f"[setup] caches warmed in {setup['warm_seconds']:.1f} s", flush=True)
    # The first 1 GB written after the setup is cheap (3-7 s where later runs take 13-30 s, almost
    # all sys time: fresh page-cache pages cost on this VM), and round 1 always starts with an
    # anchor. One untimed copy, removed and synced as after every run, puts round 1 in the state
    # of the others.
    scratch = out / "warm-up"
    started = time.perf_counter()
    subprocess.run(["cp", "-a", str(tree), str(scratch)], check=True)
    shutil.rmtree(scratch)
    timed_sync()
    setup["warm_up_copy_seconds"] = round(time.perf_counter() - started, 2)
    print(f"[setup] untimed warm-up copy, removed and synced: {setup['warm_up_copy_seconds']:.1f} s", flush=True)

    commands = {
        "cp": lambda target: (["cp", "-a", str(tree), str(target)], None),
        "mirror": lambda target: ([dangan, "restore", "--config", str(config), "--from", "mirror", "--to", str(target),
                                   "--format", "json"], None),
        "rclone": lambda target: ([rclone, "copy", f"{ANCHOR}:", str(target)], env),
        "offsite": lambda target: ([dangan, "restore", "--config", str(config), "--from", "offsite", "--to",
                                    str(target), "--format", "json"], None),
    }
    results["commands"] = {k: " ".join(v(Path("NEW"))[0]) for k, v in commands.items()}
    pairs = [p for p in (("cp", "mirror"), ("rclone", "offsite")) if p[1] in only]

    # -- the rounds ---------------------------------------------------------------------------
    runs: list[dict] = []
    for r in range(1, args.rounds + 1):
        for pair in pairs:
            for kind in (pair if r % 2 else pair[::-1]):
                target = out / f"{kind}-{r}"
                argv, child_env = commands[kind](target)
                run = timed(argv, env=child_env)
                run["sync_seconds"] = timed_sync()
                run.update(kind=kind, round=r)
                if run["exit_code"] != 0:
                    print(f"[round] WARNING: {kind} round {r} exited {run['exit_code']}: {run['stdout'][-1500:]}"
                          f" {run['stderr'][-1500:]}", flush=True)
                if kind in ("mirror", "offsite"):
                    try:
                        run["report"] = json.loads(run["stdout"])
                    except ValueError:
                        run["report"] = {"unparsed": run["stdout"][-2000:]}
                    rep = run["report"]
                    extra = (f"dangan: restored {rep.get('restored')} of {rep.get('requested')}, ok {rep.get('ok')},"
                             f" {len(rep.get('failures', []))} failures, own time {rep.get('seconds')} s")
                else:
                    extra = ""
                if not args.no_compare:
                    run["compare"] = compare(tree, target)
                    extra += f"  compare: {run['compare']}"
                if (target / ".dangan-restore").exists():
                    run["leftover"] = sorted(p.name for p in (target / ".dangan-restore").iterdir())
                    extra += f"  .dangan-restore: {run['leftover'][:6]}"
                shutil.rmtree(target)
                timed_sync()
                runs.append(run)
                print(f"[round {r}] {kind:7} {run['seconds']:7.2f} s (sync {run['sync_seconds']:.2f})  cpu"
                      f" {run['cpu_seconds']:.1f} s (user {run['user_seconds']:.1f}, sys {run['sys_seconds']:.1f})"
                      f"  max rss {run['maxrss_mib']:.0f} MiB  tree rss {run['tree_rss_mib']:.0f} MiB"
                      f" ({run['tree_procs']})  {extra}", flush=True)
    results["runs"] = runs
    results["loadavg_at_end"] = open("/proc/loadavg").read().strip()
    report(results, pairs)

    if args.profile:
        import pstats

        profiles = []
        for kind in [p[1] for p in pairs]:
            target = out / f"profile-{kind}"
            prof = work / f"profile-{kind}.prof"
            run = timed([sys.executable, "-c", PROFILE_SNIPPET, str(config), str(prof), "restore", "--from", kind,
                         "--to", str(target), "--format", "json"], cwd="/tmp")
            text = io_capture(lambda: pstats.Stats(str(prof)).sort_stats("cumulative").print_stats(30))
            profiles.append(f"== cProfile of dangan restore --from {kind}: {run['seconds']:.2f} s wall under the"
                            f" profiler, exit {run['exit_code']}\n{text}")
            shutil.rmtree(target, ignore_errors=True)
            timed_sync()
        results["profiles"] = profiles
        for text in profiles:
            print("\n" + text)

    path = work / f"results-{datetime.now():%Y%m%d-%H%M%S}.json"
    path.write_text(json.dumps(results, ensure_ascii=False, indent=2, default=str) + "\n")
    print(f"\nraw results: {path}")
    return 0


def report(results: dict, pairs: list[tuple[str, str]]) -> None:
    facts, info = results["facts"], results["setup"]["tree"]
    files, size = info["files"], info["bytes"]
    print(f"\ndangan {facts['commit'][:12]}; {facts['date']};"
          f" nproc {facts['nproc']} ({facts['cpu']}); {facts['rclone']}")
    print(f"\n| restore of {files:,} files / {size / 1e9:.2f} GB | median s (min–max, n) | MB/s · files/s |"
          f" ÷ anchor time (per round) | throughput ÷ anchor | + sync: s, throughput ÷ anchor |"
          f" CPU s (user + sys) | peak RSS MiB: largest / tree |")
    print("|---|---|---|---|---|---|---|---|")
    summary = {}
    for anchor, kind in pairs:
        for k in (anchor, kind):
            rs = [r for r in results["runs"] if r["kind"] == k]
            secs = [r["seconds"] for r in rs]
            with_sync = [r["seconds"] + r["sync_seconds"] for r in rs]
            summary[k] = {"median": med(secs), "min": min(secs), "max": max(secs), "n": len(secs),
                          "with_sync": med(with_sync), "per_round": secs}
            a = summary[anchor]
            ratio = med(secs) / a["median"]
            per_round = [x / y for x, y in zip(secs, a["per_round"])]
            print(f"| {LABELS[k]} | **{med(secs):.2f}** ({min(secs):.2f}–{max(secs):.2f}, {len(secs)}) |"
                  f" {size / 1e6 / med(secs):.0f} · {files / med(secs):,.0f} |"
                  f" {ratio:.2f}× ({', '.join(f'{x:.2f}' for x in per_round)}) | **{1 / ratio:.2f}×** |"
                  f" {med(with_sync):.2f}, {a['with_sync'] / med(with_sync):.2f}× |"
                  f" {med([r['cpu_seconds'] for r in rs]):.1f} ({med([r['user_seconds'] for r in rs]):.1f} +"
                  f" {med([r['sys_seconds'] for r in rs]):.1f}) | {max(r['maxrss_mib'] for r in rs):.0f} /"
                  f" {max(r['tree_rss_mib'] for r in rs):.0f} |")
            summary[k]["throughput_ratio"] = 1 / ratio
    results["summary"] = summary


if __name__ == "__main__":
    sys.exit(main())

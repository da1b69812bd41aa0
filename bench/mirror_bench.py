#!/usr/bin/env python3
"""Benchmark of ``dangan run`` (the real-time mirror) and ``dangan mirror`` (a reconcile), issue 3.

Three measurements, each a ratio against an anchor measured in the same run, interleaved:

    latency   30 files of 200 KiB (random bytes), one at a time with a 0.3-0.5 s pause: time from
              the close() CALL to the file being complete and byte-identical on the target.
              dangan run  vs  lsyncd (default.rsync, delay = 0).  --series series each, ABBA order.
    burst     5,000 files of 100 KiB written as fast as possible into 50 task folders of 100: time
              from the first write until all are complete on the target.
              dangan run  vs  lsyncd delay = 0.  --rounds rounds each, alternating order.
    scan      an unchanged 200,000-file tree (0-2 KiB files, 100 per folder, generated once and
              cached with its populated catalog and mirror): dangan mirror (a full reconcile)  vs
              find A -type f -printf '%s %T@\\n' > /dev/null.  --scan-rounds rounds.

dangan's service config: mirror settle_seconds 0.5, reconcile_minutes 1440, and no off-site remote
(a fresh service would otherwise start a catch-up off-site run at once). Each daemon runs on its
own fresh source/target pair, started for one series or round and stopped
after it, so an idle daemon never competes with the one being measured. The target is watched
with inotify (IN_MOVED_TO | IN_CLOSE_WRITE | IN_ATTRIB on the target folder) in the writer's own
process; on each event for the file the target is read back and compared with what was written.
Latencies are timed from the close() call, not its return (see anchor-baselines.md, finding 8).

dangan is run from a pinned export of a git revision (default HEAD; --rev), exactly as
check_bench.py --rev does, because colleagues edit the working tree during runs.

    python bench/mirror_bench.py                   # everything (first run: generates and populates the scan tree)
    python bench/mirror_bench.py --quick           # smoke: small sizes, one series/round each
    python bench/mirror_bench.py --only scan       # one benchmark
"""

from __future__ import annotations

import ctypes
import json
import os
import random
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from check_bench import CATEGORIES, DEPARTMENTS, TOPICS, TreeSampler  # noqa: E402
from common import machine_facts, med, parser as bench_parser, set_language_en, stamp, start  # noqa: E402

TASK_PARENT = ("01办公室", "A标准建设")
DANGAN_MIRROR_SETTINGS = {  # the config's mirror: section for the benchmark service
    "settle_seconds": 0.5,
    "reconcile_minutes": 1440,  # no periodic reconcile during a series
}
LSYNCD_CONF = """settings {{
    logfile = "{run}/lsyncd.log",
    statusFile = "{run}/lsyncd.status",
    statusInterval = 5,
    nodaemon = true,
}}
sync {{
    default.rsync,
    source = "{src}",
    target = "{dst}",
    delay = 0,
}}
"""

# == inotify (ctypes) ========================================================================
IN_ATTRIB, IN_CLOSE_WRITE, IN_MOVED_TO, IN_Q_OVERFLOW = 0x4, 0x8, 0x80, 0x4000
_libc = ctypes.CDLL(None, use_errno=True)
_EVENT = struct.Struct("iIII")


class Inotify:
    def __init__(self) -> None:
        self.fd = _libc.inotify_init1(os.O_CLOEXEC | os.O_NONBLOCK)
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1")
        self.poller = select.poll()
        self.poller.register(self.fd, select.POLLIN)

    def watch(self, path: Path, mask: int = IN_MOVED_TO | IN_CLOSE_WRITE | IN_ATTRIB) -> int:
        wd = _libc.inotify_add_watch(self.fd, os.fsencode(path), mask)
        if wd < 0:
            raise OSError(ctypes.get_errno(), f"inotify_add_watch {path}")
        return wd

    def read(self, timeout_ms: float) -> list[tuple[int, bytes]] | None:
        """Events (mask, name) after waiting up to timeout_ms; None on timeout."""
        if not self.poller.poll(timeout_ms):
            return None
        try:
            buf = os.read(self.fd, 1 << 16)
        except BlockingIOError:
            return []
        out, i = [], 0
        while i < len(buf):
            _, mask, _, length = _EVENT.unpack_from(buf, i)
            name = buf[i + 16:i + 16 + length].rstrip(b"\0")
            out.append((mask, name))
            i += 16 + length
        return out

    def drain(self) -> None:
        while self.read(0):
            pass

    def close(self) -> None:
        os.close(self.fd)


# == the two daemons =========================================================================
def _proc_cpu(pid: int) -> float:
    """utime + stime + cutime + cstime of a live process (children it reaped included), seconds."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        return sum(int(x) for x in fields[11:15]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError):
        return float("nan")


def _vm_hwm_kib(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _thread_cpu(pid: int) -> dict[str, float]:
    """CPU seconds (utime + stime) per thread of a live process: "main" (dangan's worker) and the
    others by name/tid (Python 3.11 does not give its threads OS names; lsyncd has one thread)."""
    out: dict[str, float] = {}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/stat", "rb") as f:
                raw = f.read()
            name = "main" if int(tid) == pid else raw[raw.index(b"(") + 1:raw.rindex(b")")].decode() + "/" + tid
            fields = raw.rsplit(b")", 1)[1].split()
            out[name] = out.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError):
            continue
    return out


PROFILE_SNIPPET = """
import cProfile, importlib, os, sys
module, _, name = os.environ.get("DANGAN_MAIN", "dangan.cli.main:main").partition(":")
main = getattr(importlib.import_module(module), name)
profile = cProfile.Profile()
profile.enable()
try:
    code = main(["run", "--config", sys.argv[1]])
finally:
    profile.disable()
    profile.dump_stats(sys.argv[2])
sys.exit(code)
"""


class Daemon:
    """One mirror daemon on a fresh source/target pair under ``run``. Subclasses: start/stop."""

    name = "?"

    def __init__(self, run: Path) -> None:
        self.run = run
        if run.exists():
            shutil.rmtree(run)
        run.mkdir(parents=True)
        self.proc: subprocess.Popen | None = None
        self.started_at = 0.0
        self.ready_seconds = 0.0
        self.usage = None
        self.exit_code = None
        self.hwm_kib = 0

    source: Path
    target: Path

    def task(self, name: str) -> tuple[Path, Path]:
        """A task folder (source, target) below 01办公室/A标准建设."""
        rel = Path(*TASK_PARENT, name)
        return self.source / rel, self.target / rel

    def cpu(self) -> float:
        return _proc_cpu(self.proc.pid)

    def stop(self) -> None:
        self.hwm_kib = _vm_hwm_kib(self.proc.pid)
        self.threads = _thread_cpu(self.proc.pid)
        self.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 60
        while True:
            pid, status, usage = os.wait4(self.proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                self.proc.kill()
                pid, status, usage = os.wait4(self.proc.pid, 0)
                break
            time.sleep(0.02)
        self.proc.returncode = self.exit_code = os.waitstatus_to_exitcode(status)
        self.usage = usage
        self.cleanup()

    def cleanup(self) -> None:
        pass

    def log_tail(self) -> str:
        return ""


class DanganService(Daemon):
    name = "dangan"

    profile_dir: Path | None = None  # set: run the service under cProfile (its main thread: the worker)

    def __init__(self, run: Path, dangan: str) -> None:
        super().__init__(run)
        self.dangan = dangan
        self.source, self.target, self.state = run / "archive", run / "mirror", run / "state"
        self.config = run / "config.yaml"
        subprocess.run([dangan, "init", "--config", str(self.config), "--archive-root", str(self.source),
                        "--mirror-root", str(self.target), "--state-dir", str(self.state)],
                       check=True, stdout=subprocess.DEVNULL)
        set_mirror_settings(self.config, DANGAN_MIRROR_SETTINGS)
        no_offsite(self.config)
        self.sock: socket.socket | None = None
        self.messages: list[str] = []

    def start(self) -> None:
        address = str(self.run / "notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
        self.sock.bind(address)
        env = dict(os.environ, NOTIFY_SOCKET=address)
        self.started_at = time.perf_counter()
        self.stderr = open(self.run / "dangan.stderr", "wb")
        argv = [self.dangan, "run", "--config", str(self.config)]
        if self.profile_dir is not None:
            self.profile_dir.mkdir(parents=True, exist_ok=True)
            self.profile_path = self.profile_dir / f"{self.run.parent.name}-{self.run.name}.prof"
            argv = [sys.executable, "-c", PROFILE_SNIPPET, str(self.config), str(self.profile_path)]
        self.proc = subprocess.Popen(argv, env=env, stdout=self.stderr, stderr=self.stderr)
        self.sock.settimeout(120)
        while True:
            try:
                message = self.sock.recv(4096).decode("utf-8", "replace")
            except socket.timeout:
                raise SystemExit(f"dangan run sent no READY=1 within 120 s; stderr: {self.log_tail()}")
            self.messages.append(message)
            if "READY=1" in message.split("\n"):
                break
        self.ready_seconds = time.perf_counter() - self.started_at
        self.sock.settimeout(None)
        # dangan sends STATUS= every second: drain it, or the datagram queue fills and sendto blocks.
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        try:
            while True:
                self.messages.append(self.sock.recv(4096).decode("utf-8", "replace"))
                del self.messages[:-20]
        except OSError:
            pass

    def cleanup(self) -> None:
        self.stderr.close()
        if self.sock:
            self.sock.close()

    def log_tail(self) -> str:
        try:
            return (self.run / "dangan.stderr").read_text("utf-8", "replace")[-3000:]
        except OSError:
            return ""


class Lsyncd(Daemon):
    name = "lsyncd"

    def __init__(self, run: Path) -> None:
        super().__init__(run)
        self.source, self.target = run / "src", run / "dst"
        self.source.mkdir()
        self.target.mkdir()
        self.conf = run / "lsyncd.conf.lua"
        self.conf.write_text(LSYNCD_CONF.format(run=run, src=self.source, dst=self.target))

    def start(self) -> None:
        self.started_at = time.perf_counter()
        self.out = open(self.run / "lsyncd.stdout", "wb")
        self.proc = subprocess.Popen(["lsyncd", str(self.conf)], stdout=self.out, stderr=self.out)

    def cleanup(self) -> None:
        self.out.close()

    def log_tail(self) -> str:
        try:
            return (self.run / "lsyncd.log").read_text("utf-8", "replace")[-3000:]
        except OSError:
            return ""


def set_mirror_settings(config: Path, settings: dict) -> None:
    """Edit keys of the config's mirror: section in place (the file keeps its comments)."""
    text = config.read_text(encoding="utf-8")
    for key, value in settings.items():
        text, n = re.subn(rf"(?m)^(  {key}:)\s.*$", rf"\g<1> {value}", text, count=1)
        assert n == 1, f"config has no mirror key {key}"
    config.write_text(text, encoding="utf-8")


def no_offsite(config: Path) -> None:
    """No off-site remote: since 298540d a fresh service starts a catch-up off-site run (rclone
    children) right away, which would run during the series. The benchmark measures the mirror."""
    text = config.read_text(encoding="utf-8")
    text, n = re.subn(r'(?m)^(\s*remote:)\s.*$', r'\g<1> ""', text, count=1)
    assert n == 1, "config has no offsite remote key"
    config.write_text(text, encoding="utf-8")


def make_daemon(kind: str, run: Path, dangan: str) -> Daemon:
    return DanganService(run, dangan) if kind == "dangan" else Lsyncd(run)


def wait_present(files: dict[Path, int], timeout: float) -> float:
    """Wait until every path has its expected size; returns the seconds waited."""
    started = time.perf_counter()
    pending = dict(files)
    while pending:
        for path, size in list(pending.items()):
            try:
                if path.stat().st_size == size:
                    del pending[path]
            except FileNotFoundError:
                pass
        if pending:
            if time.perf_counter() - started > timeout:
                raise TimeoutError(f"{len(pending)} files never arrived, e.g. {next(iter(pending))}")
            time.sleep(0.01)
    return time.perf_counter() - started


# == 1. latency ===============================================================================
@dataclass
class Series:
    kind: str
    number: int
    latencies_ms: list[float] = field(default_factory=list)
    close_us: list[float] = field(default_factory=list)
    by_poll: int = 0  # arrivals seen by the timeout re-check instead of an event (should be 0)
    missing: int = 0
    retries: int = 0  # events for the file where the target was not yet identical (partial copies)
    cpu_seconds: float = 0.0  # daemon (+ reaped children) during the series
    hwm_mib: float = 0.0
    ready_seconds: float = 0.0
    exit_code: int | None = None
    log_problems: list[str] = field(default_factory=list)
    threads: dict = field(default_factory=dict)  # CPU s per thread name over the daemon's life


def latency_series(kind: str, number: int, work: Path, dangan: str, files: int, size: int, rng: random.Random,
                   timeout: float) -> Series:
    series = Series(kind, number)
    daemon = make_daemon(kind, work / "latency" / f"{kind}-{number}", dangan)
    src, dst = daemon.task("latency")
    src.mkdir(parents=True)
    daemon.start()
    try:
        warm = src / "warmup.bin"
        warm.write_bytes(os.urandom(size))
        wait_present({dst / "warmup.bin": size}, 120)  # dangan: ready + folder exists; lsyncd: startup sync done
        series.ready_seconds = time.perf_counter() - daemon.started_at
        ino = Inotify()
        ino.watch(dst)
        time.sleep(0.5)
        cpu0 = daemon.cpu()
        for i in range(files):
            name = f"lat{i:03d}.bin".encode()
            data = os.urandom(size)
            target = os.fsencode(dst) + b"/" + name
            ino.drain()
            fd = os.open(os.fsencode(src) + b"/" + name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
            os.write(fd, data)
            t0 = time.perf_counter()
            os.close(fd)
            t_ret = time.perf_counter()
            series.close_us.append((t_ret - t0) * 1e6)
            deadline = t0 + timeout
            arrived = None
            while arrived is None:
                left_ms = (deadline - time.perf_counter()) * 1000
                if left_ms <= 0:
                    break
                events = ino.read(min(left_ms, 200))
                t_ev = time.perf_counter()
                if events is not None and not any(n == name for _, n in events):
                    if not any(m & IN_Q_OVERFLOW for m, _ in events):
                        continue
                if _identical(target, data):
                    arrived = t_ev
                    series.by_poll += events is None
                elif events:
                    series.retries += 1
            if arrived is None:
                series.missing += 1
            else:
                series.latencies_ms.append((arrived - t0) * 1000)
            time.sleep(rng.uniform(0.3, 0.5))
        series.cpu_seconds = daemon.cpu() - cpu0
        ino.close()
    finally:
        daemon.stop()
    series.hwm_mib = daemon.hwm_kib / 1024
    series.exit_code = daemon.exit_code
    series.threads = daemon.threads
    series.log_problems = _log_problems(daemon)
    return series


def _identical(target: bytes, data: bytes) -> bool:
    try:
        with open(target, "rb") as f:
            return f.read(len(data) + 1) == data
    except FileNotFoundError:
        return False


def _log_problems(daemon: Daemon) -> list[str]:
    problems = []
    if daemon.exit_code not in (0, None) and not (daemon.name == "lsyncd" and daemon.exit_code in (-15, 143)):
        problems.append(f"{daemon.name} exited with {daemon.exit_code}")
    text = daemon.log_tail() if daemon.name == "lsyncd" else _read(daemon.run / "dangan.stderr")
    for line in text.splitlines():
        if re.search(r"ERROR|CRITICAL|Traceback|WARNING|Error:", line):
            problems.append(line.strip()[:300])
    return problems[:20]


def _read(path: Path) -> str:
    try:
        return path.read_text("utf-8", "replace")
    except OSError:
        return ""


# == 2. burst =================================================================================
@dataclass
class Burst:
    kind: str
    round: int
    seconds: float = 0.0  # first write -> all complete at the target
    writer_seconds: float = 0.0
    lag_seconds: float = 0.0  # last close -> all complete
    missing: int = 0
    mismatched: int = 0
    cpu_seconds: float = 0.0
    hwm_mib: float = 0.0
    tree_rss_mib: float = 0.0
    tree_procs: int = 0
    exit_code: int | None = None
    log_problems: list[str] = field(default_factory=list)
    threads: dict = field(default_factory=dict)  # CPU s per thread name over the daemon's life


def burst_round(kind: str, rnd: int, work: Path, dangan: str, files: int, size: int, per_folder: int,
                pool: bytes, timeout: float) -> Burst:
    result = Burst(kind, rnd)
    daemon = make_daemon(kind, work / "burst" / f"{kind}-{rnd}", dangan)
    folders = (files + per_folder - 1) // per_folder
    pairs = [daemon.task(f"burst{f:02d}") for f in range(folders)]
    seeds = {}
    for f, (src, dst) in enumerate(pairs):  # folders exist (and are watched) before the burst
        src.mkdir(parents=True)
        (src / "seed.txt").write_bytes(f"seed {kind} {rnd} {f}\n".encode())
        seeds[dst / "seed.txt"] = (src / "seed.txt").stat().st_size
    daemon.start()
    try:
        wait_present(seeds, 120)
        time.sleep(0.5)
        sampler = TreeSampler(daemon.proc.pid, 0.2)
        sampler.start()
        cpu0 = daemon.cpu()
        plan = []
        for i in range(files):
            src, dst = pairs[i // per_folder]
            name = f"b{i:05d}.bin"
            plan.append((os.fsencode(src / name), os.fsencode(dst / name), i))
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
        body = size - 16
        t_first = time.perf_counter()
        for src, _, i in plan:
            fd = os.open(src, flags, 0o644)
            off = (i * 7919) % (len(pool) - body)
            os.write(fd, b"%016d" % i + pool[off:off + body])
            os.close(fd)
        t_last = time.perf_counter()
        cursor, t_done = 0, None
        while t_done is None:
            while cursor < len(plan):
                try:
                    if os.stat(plan[cursor][1]).st_size == size:
                        cursor += 1
                        continue
                except FileNotFoundError:
                    pass
                break
            now_ = time.perf_counter()
            if cursor == len(plan):
                bad = [k for k, (_, dst, _) in enumerate(plan) if not _size_is(dst, size)]
                if not bad:
                    t_done = now_
                    break
                cursor = bad[0]
            if now_ - t_first > timeout:
                break
            time.sleep(0.01)
        result.cpu_seconds = daemon.cpu() - cpu0
        sampler.stopped.set()
        sampler.join()
        result.tree_rss_mib, result.tree_procs = sampler.rss / 1024, sampler.procs
    finally:
        daemon.stop()
    result.writer_seconds = t_last - t_first
    if t_done is None:
        result.missing = sum(not _size_is(dst, size) for _, dst, _ in plan)
        result.seconds = float("nan")
    else:
        result.seconds = t_done - t_first
        result.lag_seconds = t_done - t_last
    for src, dst, _ in plan:  # byte-exact check after the fact (untimed)
        try:
            with open(src, "rb") as a, open(dst, "rb") as b:
                if a.read() != b.read():
                    result.mismatched += 1
        except FileNotFoundError:
            pass
    result.hwm_mib = daemon.hwm_kib / 1024
    result.exit_code = daemon.exit_code
    result.threads = daemon.threads
    result.log_problems = _log_problems(daemon)
    shutil.rmtree(daemon.run, ignore_errors=True)  # 500 MB per round
    # Untimed: write the deletion out. On ext4 without a journal (this VM's disk) an inode whose
    # inode-table block is still dirty counts as recently deleted for 5 minutes, and allocating a
    # new inode skips over every such one (recently_deleted() in fs/ext4/ialloc.c): after a
    # round's 10,000 deletions every file created in the next round (the writer's, dangan's
    # temps, rsync's temps) cost 0.4-1 ms instead of 0.04 ms, until a sync.
    os.sync()
    return result


def warm_up(work: Path, files: int, size: int, per_folder: int, pool: bytes) -> None:
    """Untimed, before round 1: what a round leaves behind (a burst written twice, then removed).
    Without it, round 1 ran on a rested disk: its writer took 0.3-2 s against 4-5.5 s in every
    later round, and that round always went to dangan (it starts the odd rounds), its ratio
    0.50-0.70 against about 1 for the rest."""
    started = time.perf_counter()
    base = work / "burst" / "warm-up"
    shutil.rmtree(base, ignore_errors=True)
    body = size - 16
    for copy in ("a", "b"):
        for i in range(files):
            folder = base / copy / f"t{i // per_folder:03d}"
            if i % per_folder == 0:
                folder.mkdir(parents=True)
            off = (i * 7919) % (len(pool) - body)
            (folder / f"w{i:05d}.bin").write_bytes(b"%016d" % i + pool[off:off + body])
    shutil.rmtree(base)
    os.sync()
    print(f"[burst] untimed warm-up (a burst written twice, removed, synced): {time.perf_counter() - started:.1f} s",
          flush=True)


def _size_is(path: bytes, size: int) -> bool:
    try:
        return os.stat(path).st_size == size
    except FileNotFoundError:
        return False


# == 3. scan ==================================================================================
SCAN_VERSION = 1


def scan_tree(work: Path, dangan: str, files: int, per_folder: int, commit: str) -> tuple[Path, dict]:
    """The cached 200k-file archive, with config, catalog and mirror populated by one dangan mirror."""
    base = work / f"scan-{files}-{per_folder}"
    manifest = base / "manifest.json"
    config = base / "config.yaml"
    info = json.loads(manifest.read_text()) if manifest.is_file() else {}
    wanted = {"version": SCAN_VERSION, "files": files, "per_folder": per_folder}
    if {k: info.get(k) for k in wanted} != wanted:
        if base.exists():
            shutil.rmtree(base)
        base.mkdir(parents=True)
        subprocess.run([dangan, "init", "--config", str(config), "--archive-root", str(base / "archive"),
                        "--mirror-root", str(base / "mirror"), "--state-dir", str(base / "state")],
                       check=True, stdout=subprocess.DEVNULL)
        set_mirror_settings(config, DANGAN_MIRROR_SETTINGS)
        set_language_en(config)
        print(f"[scan] generating {files:,} files under {base / 'archive'}", flush=True)
        started = time.perf_counter()
        pairs = [(d, c) for d in DEPARTMENTS for c in CATEGORIES]
        rng = random.Random("dangan-mirror-bench-scan")
        total_bytes = 0
        folders = (files + per_folder - 1) // per_folder
        for t in range(folders):
            d, c = pairs[t % len(pairs)]
            folder = base / "archive" / d / c / f"{2019 + t % 6}年{TOPICS[t % len(TOPICS)]}{t:04d}"
            folder.mkdir(parents=True)
            for j in range(min(per_folder, files - t * per_folder)):
                data = rng.randbytes(rng.randrange(0, 2049))
                (folder / f"工作记录{j:03d}.txt").write_bytes(data)
                total_bytes += len(data)
        info = {**wanted, "folders": folders, "bytes": total_bytes, "generated_at": stamp(),
                "generation_seconds": round(time.perf_counter() - started, 1)}
        manifest.write_text(json.dumps(info, indent=2) + "\n")
        print(f"[scan] generated in {info['generation_seconds']} s", flush=True)
    if not info.get("populated"):
        print("[scan] first dangan mirror (populates catalog and mirror; copies everything once)", flush=True)
        run = timed_wait4([dangan, "mirror", "--config", str(config)], stdout_null=False, sample=1.0)
        print(f"[scan] populated in {run['seconds']:.0f} s: {run['stdout'].strip()}", flush=True)
        if run["exit_code"] != 0:
            raise SystemExit(f"dangan mirror failed ({run['exit_code']}): {run['stderr'][-2000:]}")
        info.update(populated=True, populate_seconds=round(run["seconds"], 1), populate_commit=commit,
                    populate_cpu_seconds=round(run["cpu_seconds"], 1), populate_hwm_mib=run["hwm_mib"],
                    populate_stdout=run["stdout"].strip())
        manifest.write_text(json.dumps(info, indent=2) + "\n")
    return config, info


class _HwmSampler(threading.Thread):
    """The child's VmHWM, read every ``interval`` s (wait4's ru_maxrss counts the forking parent too)."""

    def __init__(self, pid: int, interval: float) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval, self.hwm = pid, interval, 0
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            self.hwm = max(self.hwm, _vm_hwm_kib(self.pid))
            self.stopped.wait(self.interval)


def timed_wait4(argv: list[str], stdout_null: bool, sample: float) -> dict:
    """A child timed with perf_counter around Popen .. os.wait4, with its rusage and sampled VmHWM."""
    import tempfile

    out = subprocess.DEVNULL if stdout_null else tempfile.TemporaryFile()
    err = tempfile.TemporaryFile()
    started = time.perf_counter()
    child = subprocess.Popen(argv, stdout=out, stderr=err)
    sampler = _HwmSampler(child.pid, sample)
    sampler.start()
    _, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    sampler.stopped.set()
    sampler.join()
    child.returncode = os.waitstatus_to_exitcode(status)
    texts = []
    for f in (out, err):
        if f is subprocess.DEVNULL:
            texts.append("")
        else:
            f.seek(0)
            texts.append(f.read().decode("utf-8", "replace"))
            f.close()
    return {"seconds": seconds, "exit_code": child.returncode, "stdout": texts[0], "stderr": texts[1],
            "cpu_seconds": usage.ru_utime + usage.ru_stime, "user_seconds": usage.ru_utime,
            "sys_seconds": usage.ru_stime, "maxrss_mib": usage.ru_maxrss / 1024, "hwm_mib": sampler.hwm / 1024}


MIRROR_DONE = re.compile(r"reconciled: (\d+) files, (\d+) new or changed, (\d+) removed, (\d+) moved,"
                         r" (\d+) removals applied on the mirror, ([\d.]+) s")


def mirror_run(dangan: str, config: Path) -> dict:
    run = timed_wait4([dangan, "mirror", "--config", str(config)], stdout_null=False, sample=0.05)
    m = MIRROR_DONE.search(run["stdout"])
    if run["exit_code"] != 0 or not m:
        raise SystemExit(f"dangan mirror failed (exit {run['exit_code']}): {run['stdout'][-1000:]}"
                         f" {run['stderr'][-2000:]}")
    run.update(zip(("files", "arrived", "gone", "moved", "applied"), map(int, m.groups()[:5])))
    run["reported_seconds"] = float(m.group(6))
    return run


# == reporting ================================================================================
def pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, int(-(-q * len(ordered) // 100)) - 1))]


# == 0. calibration ===========================================================================
def calibrate(work: Path, n: int = 20) -> dict:
    """The anchor's idle wake-up tax (anchor-baselines.md section 0, W3 vs W6): a small job
    (20k-addition loop + os.stat + shutil.copyfile of 100 KiB) right away vs after sleep(0.5)."""
    src, dst = work / "calib-src.bin", work / "calib-dst.bin"
    src.write_bytes(os.urandom(100 * 1024))

    def job() -> float:
        t = time.perf_counter()
        s = 0
        for i in range(20000):
            s += i
        os.stat(src)
        shutil.copyfile(src, dst)
        return (time.perf_counter() - t) * 1000

    back, idle = [], []
    for _ in range(n):
        time.sleep(0.0)
        back.append(job())
        time.sleep(0.5)
        idle.append(job())
    return {"back_to_back_ms": med(back), "after_sleep_0_5_ms": med(idle), "tax": med(idle) / med(back),
            "n": n}


# == main =====================================================================================
def main(argv: list[str] | None = None) -> int:
    parser = bench_parser(__doc__, "/tmp/dangan-bench-mirror",
                          "work dir: cached scan tree, run dirs, raw results")
    parser.add_argument("--only", default="latency,burst,scan", help="comma list of latency,burst,scan")
    parser.add_argument("--dangan", default=None, help="the dangan command (default: next to this Python)")
    parser.add_argument("--quick", action="store_true", help="smoke run: small sizes, one series/round")
    parser.add_argument("--latency-files", type=int, default=30)
    parser.add_argument("--latency-size", type=int, default=200 * 1024)
    parser.add_argument("--series", type=int, default=2, help="latency series per daemon (default: %(default)s)")
    parser.add_argument("--burst-files", type=int, default=5000)
    parser.add_argument("--burst-size", type=int, default=100 * 1024)
    parser.add_argument("--burst-per-folder", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3, help="burst rounds per daemon (default: %(default)s)")
    parser.add_argument("--scan-files", type=int, default=200_000)
    parser.add_argument("--scan-per-folder", type=int, default=100)
    parser.add_argument("--scan-rounds", type=int, default=5)
    parser.add_argument("--profile", type=Path, default=None,
                        help="run every dangan service under cProfile, writing DIR/<bench>-<run>.prof and printing"
                             " the top entries (slows the service: figures are then not comparable)")
    args = parser.parse_args(argv)
    if args.quick:
        args.latency_files, args.series, args.burst_files, args.rounds = 5, 1, 300, 1
        args.scan_files, args.scan_rounds = 2000, 1
    only = set(args.only.split(","))
    if args.profile:
        DanganService.profile_dir = args.profile.resolve()

    dangan, work, repo, commit = start(args, args.dangan)
    facts = machine_facts()
    facts.update(commit=commit, argv=sys.argv, settings=DANGAN_MIRROR_SETTINGS)
    print(f"[run] {facts['date']} nproc={facts['nproc']} {facts['cpu']} kernel={facts['kernel']}"
          f" python={facts['python']} dangan={commit[:12]} {facts['lsyncd']} / {facts['rsync']}", flush=True)
    results: dict = {"facts": facts}
    results["calibration"] = calibrate(work)
    c = results["calibration"]
    print(f"[run] idle wake-up tax: small job {c['back_to_back_ms']:.2f} ms back-to-back,"
          f" {c['after_sleep_0_5_ms']:.2f} ms"
          f" after sleep(0.5): {c['tax']:.1f}x (anchor machine: 13.4x)", flush=True)
    rng = random.Random(20261121)

    if "latency" in only:
        order = []
        for s in range(1, args.series + 1):
            order += [("dangan", s), ("lsyncd", s)] if s % 2 else [("lsyncd", s), ("dangan", s)]
        series = []
        for kind, s in order:
            one = latency_series(kind, s, work, dangan, args.latency_files, args.latency_size, rng, timeout=30)
            series.append(one)
            print(f"[latency] {kind:6} series {s}: p50 {med(one.latencies_ms):6.1f} ms  p95"
                  f" {pct(one.latencies_ms, 95):6.1f} ms  max {max(one.latencies_ms, default=float('nan')):6.1f}"
                  f"  missing {one.missing}  by-poll {one.by_poll}  partial-seen {one.retries}"
                  f"  cpu {one.cpu_seconds:.2f} s  hwm {one.hwm_mib:.1f} MiB  exit {one.exit_code}"
                  f"  ready {one.ready_seconds:.2f} s", flush=True)
            for p in one.log_problems:
                print(f"[latency]   log: {p}", flush=True)
        results["latency"] = [s.__dict__ for s in series]

    if "burst" in only:
        pool = os.urandom(8 << 20)
        warm_up(work, args.burst_files, args.burst_size, args.burst_per_folder, pool)
        bursts = []
        for r in range(1, args.rounds + 1):
            for kind in (("dangan", "lsyncd") if r % 2 else ("lsyncd", "dangan")):
                b = burst_round(kind, r, work, dangan, args.burst_files, args.burst_size, args.burst_per_folder,
                                pool, timeout=600)
                bursts.append(b)
                print(f"[burst] {kind:6} round {r}: {b.seconds:6.2f} s  writer {b.writer_seconds:.2f} s  lag"
                      f" {b.lag_seconds:.2f} s  missing {b.missing}  mismatched {b.mismatched}  cpu"
                      f" {b.cpu_seconds:.1f} s  hwm {b.hwm_mib:.1f} MiB  tree rss {b.tree_rss_mib:.1f} MiB"
                      f" ({b.tree_procs})  exit {b.exit_code}", flush=True)
                print("[burst]   CPU by thread over the daemon's life: "
                      + ", ".join(f"{k} {v:.1f} s" for k, v in sorted(b.threads.items(), key=lambda kv: -kv[1])),
                      flush=True)
                for p in b.log_problems:
                    print(f"[burst]   log: {p}", flush=True)
        results["burst"] = [b.__dict__ for b in bursts]

    if "scan" in only:
        config, info = scan_tree(work, dangan, args.scan_files, args.scan_per_folder, commit)
        archive = config.parent / "archive"
        results["scan_tree"] = info
        check = mirror_run(dangan, config)  # untimed: warms the caches, and must find nothing to do
        print(f"[scan] check run: {check['seconds']:.2f} s, files {check['files']}, arrived {check['arrived']},"
              f" gone {check['gone']}, moved {check['moved']}", flush=True)
        if check["arrived"] or check["gone"] or check["moved"]:
            check = mirror_run(dangan, config)
            print(f"[scan] second check run: arrived {check['arrived']}, gone {check['gone']}", flush=True)
        runs = []
        find_cmd = ["find", str(archive), "-type", "f", "-printf", "%s %T@\n"]
        for r in range(1, args.scan_rounds + 1):
            f = timed_wait4(find_cmd, stdout_null=True, sample=0.05)
            f.update(kind="find", round=r)
            m = mirror_run(dangan, config)
            m.update(kind="mirror", round=r)
            runs += [f, m]
            print(f"[scan] round {r}: find {f['seconds']:.3f} s (cpu {f['cpu_seconds']:.2f})  dangan mirror"
                  f" {m['seconds']:.2f} s (cpu {m['cpu_seconds']:.2f}, user {m['user_seconds']:.2f}, sys"
                  f" {m['sys_seconds']:.2f}; reported {m['reported_seconds']:.2f} s; hwm {m['hwm_mib']:.1f} MiB,"
                  f" wait4 maxrss {m['maxrss_mib']:.1f} MiB)  x{m['seconds'] / f['seconds']:.1f}  files"
                  f" {m['files']} arrived {m['arrived']} gone {m['gone']}", flush=True)
        state = config.parent / "state"
        results["scan"] = runs
        results["catalog_mib"] = sum(p.stat().st_size for p in state.glob("catalog.sqlite*")) / 2**20
        results["bench_hwm_mib"] = _vm_hwm_kib(os.getpid()) / 1024

    results["loadavg_at_end"] = open("/proc/loadavg").read().strip()
    if args.profile:
        import pstats

        for prof in sorted(DanganService.profile_dir.glob("*.prof")):
            print(f"\n== cProfile of the service's worker thread: {prof}")
            pstats.Stats(str(prof)).sort_stats("cumulative").print_stats(30)
    print()
    report(results)
    out = work / f"results-{datetime.now():%Y%m%d-%H%M%S}.json"
    out.write_text(json.dumps(results, ensure_ascii=False, indent=2, default=str) + "\n")
    print(f"\nraw results: {out}")
    return 0


def report(results: dict) -> None:
    facts = results["facts"]
    print(f"dangan {facts['commit'][:12]}; {facts['date']}; nproc {facts['nproc']} ({facts['cpu']});"
          f" {facts['lsyncd']}; {facts['rsync']}")
    if "latency" in results:
        series = results["latency"]
        print("\n| latency, close() call -> identical at target | dangan run | lsyncd delay=0 | dangan ÷ lsyncd |")
        print("|---|---|---|---|")
        rows = {}
        for kind in ("dangan", "lsyncd"):
            ss = [s for s in series if s["kind"] == kind]
            lat = [x for s in ss for x in s["latencies_ms"]]
            rows[kind] = {
                "p50": med(lat), "p95": pct(lat, 95), "min": min(lat, default=float("nan")),
                "max": max(lat, default=float("nan")), "n": len(lat),
                "series_p50": [med(s["latencies_ms"]) for s in ss],
                "series_p95": [pct(s["latencies_ms"], 95) for s in ss],
                "missing": sum(s["missing"] for s in ss), "by_poll": sum(s["by_poll"] for s in ss),
                "partial": sum(s["retries"] for s in ss),
                "cpu_per_file_ms": med([1000 * s["cpu_seconds"] / max(1, len(s["latencies_ms"])) for s in ss]),
                "hwm": max(s["hwm_mib"] for s in ss) if ss else float("nan"),
                "close_us": med([x for s in ss for x in s["close_us"]]),
            }
        d, ls = rows["dangan"], rows["lsyncd"]

        def line(label: str, a: str, b: str, ratio: str = "") -> None:
            print(f"| {label} | {a} | {b} | {ratio} |")

        line("p50 over all files, ms", f"**{d['p50']:.1f}**", f"{ls['p50']:.1f}", f"{d['p50'] / ls['p50']:.2f}×")
        line("p95 (nearest rank), ms", f"**{d['p95']:.1f}**", f"{ls['p95']:.1f}", f"{d['p95'] / ls['p95']:.2f}×")
        line("min – max, ms", f"{d['min']:.1f} – {d['max']:.1f}", f"{ls['min']:.1f} – {ls['max']:.1f}")
        line("p50 per series, ms", ", ".join(f"{x:.1f}" for x in d["series_p50"]),
             ", ".join(f"{x:.1f}" for x in ls["series_p50"]))
        line("p95 per series, ms", ", ".join(f"{x:.1f}" for x in d["series_p95"]),
             ", ".join(f"{x:.1f}" for x in ls["series_p95"]))
        line("files timed / missing", f"{d['n']} / {d['missing']}", f"{ls['n']} / {ls['missing']}")
        line("events where the target was not yet identical", str(d["partial"]), str(ls["partial"]))
        line("CPU per file (daemon + children), ms, median of series", f"{d['cpu_per_file_ms']:.1f}",
             f"{ls['cpu_per_file_ms']:.1f}", f"{d['cpu_per_file_ms'] / ls['cpu_per_file_ms']:.2f}×")
        line("peak RSS of the daemon (VmHWM), MiB", f"{d['hwm']:.1f}", f"{ls['hwm']:.1f}")
        line("writer's close() duration, µs (median)", f"{d['close_us']:.0f}", f"{ls['close_us']:.0f}")
        results["latency_summary"] = rows
    if "burst" in results:
        bursts = results["burst"]
        print("\n| burst of 5,000 × 100 KiB | dangan run | lsyncd delay=0 | dangan ÷ lsyncd |")
        print("|---|---|---|---|")
        rows = {}
        for kind in ("dangan", "lsyncd"):
            bs = [b for b in bursts if b["kind"] == kind]
            secs = [b["seconds"] for b in bs]
            rows[kind] = {"median": med(secs), "min": min(secs), "max": max(secs), "n": len(secs), "all": secs,
                          "writer": med([b["writer_seconds"] for b in bs]), "lag": med([b["lag_seconds"] for b in bs]),
                          "cpu": med([b["cpu_seconds"] for b in bs]), "hwm": max(b["hwm_mib"] for b in bs),
                          "tree": max(b["tree_rss_mib"] for b in bs),
                          "missing": sum(b["missing"] for b in bs), "mismatched": sum(b["mismatched"] for b in bs)}
        d, ls = rows["dangan"], rows["lsyncd"]
        per_round = [b["seconds"] for b in bursts if b["kind"] == "dangan"]
        per_round_l = [b["seconds"] for b in bursts if b["kind"] == "lsyncd"]
        ratios = ", ".join(f"{a / b:.2f}" for a, b in zip(per_round, per_round_l))
        print(f"| first write → all identical at target, s: median (min–max, n) | **{d['median']:.2f}**"
              f" ({d['min']:.2f}–{d['max']:.2f}, {d['n']}) | {ls['median']:.2f} ({ls['min']:.2f}–{ls['max']:.2f},"
              f" {ls['n']}) | {d['median'] / ls['median']:.2f}× (per round: {ratios}) |")
        print(f"| writer time, s | {d['writer']:.2f} | {ls['writer']:.2f} | |")
        print(f"| lag after the last close, s | {d['lag']:.2f} | {ls['lag']:.2f} | {d['lag'] / ls['lag']:.2f}× |")
        print(f"| CPU during the burst (daemon + children), s | {d['cpu']:.1f} | {ls['cpu']:.1f} |"
              f" {d['cpu'] / ls['cpu']:.2f}× |")
        print(f"| peak RSS: daemon VmHWM / process tree (sampled), MiB | {d['hwm']:.1f} / {d['tree']:.1f} |"
              f" {ls['hwm']:.1f} / {ls['tree']:.1f} | |")
        print(f"| files missing / not byte-identical | {d['missing']} / {d['mismatched']} |"
              f" {ls['missing']} / {ls['mismatched']} | |")
        results["burst_summary"] = rows
    if "scan" in results:
        runs = results["scan"]
        f = [r for r in runs if r["kind"] == "find"]
        m = [r for r in runs if r["kind"] == "mirror"]
        fs, ms = [r["seconds"] for r in f], [r["seconds"] for r in m]
        ratios = [a["seconds"] / b["seconds"] for a, b in zip(m, f)]
        info = results["scan_tree"]
        print(f"\n| reconcile of an unchanged {info['files']:,}-file tree ({info['folders']:,} task folders)"
              f" | median s (min–max, n) | ÷ find | CPU s (user + sys) | peak RSS MiB (VmHWM sampled / wait4) |")
        print("|---|---|---|---|---|")
        print(f"| `find -printf '%s %T@\\n'` (anchor) | {med(fs):.3f} ({min(fs):.3f}–{max(fs):.3f}, {len(fs)}) | 1.0× |"
              f" {med([r['cpu_seconds'] for r in f]):.2f} | – |")
        print(f"| `dangan mirror` | **{med(ms):.2f}** ({min(ms):.2f}–{max(ms):.2f}, {len(ms)}) |"
              f" **{med(ms) / med(fs):.1f}×** (per round: {', '.join(f'{x:.1f}' for x in ratios)}) |"
              f" {med([r['cpu_seconds'] for r in m]):.2f} ({med([r['user_seconds'] for r in m]):.2f} +"
              f" {med([r['sys_seconds'] for r in m]):.2f}) | **{max(r['hwm_mib'] for r in m):.1f}** /"
              f" {max(r['maxrss_mib'] for r in m):.1f} |")
        print(f"\ndangan's own reconcile time (reported): median {med([r['reported_seconds'] for r in m]):.2f} s;"
              f" catalog {results['catalog_mib']:.1f} MiB; bench process VmHWM {results['bench_hwm_mib']:.1f} MiB;"
              f" every run found {sorted({(r['files'], r['arrived'], r['gone'], r['moved']) for r in m})}"
              " (files, arrived, gone, moved)")
        results["scan_summary"] = {"find_median": med(fs), "mirror_median": med(ms), "ratio": med(ms) / med(fs),
                                   "ratios": ratios, "hwm_max": max(r["hwm_mib"] for r in m)}


if __name__ == "__main__":
    sys.exit(main())

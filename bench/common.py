"""What every benchmark shares: the command line (work folder, the revision of dangan to measure),
running a pinned revision instead of the working tree, facts about the machine and the sources, and
small timing helpers. Imported by the bench scripts, which put this folder on sys.path."""

from __future__ import annotations

import argparse
import hashlib
import importlib
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import threading
import time
import tomllib
from datetime import datetime, timezone
from pathlib import Path
from typing import NamedTuple

REPO = Path(__file__).resolve().parent.parent
# The packages of dangan, as pyproject.toml maps them (dangan.<name> = <name>/). A revision from before
# the layout of issue 16 has only some of them (daemon, config, backup): pin_sources exports those.
PACKAGES = ("config", "store", "rules", "daemon", "backup", "cli")
DEFAULT_MAIN = "dangan.cli.main:main"

# Profiles one dangan command in-process: argv = CONFIG PROFILE_OUT COMMAND [ARGS…]. The command's
# entry point comes from DANGAN_MAIN (set by pin_sources for the revision measured).
PROFILE_SNIPPET = """
import cProfile, importlib, io, os, sys, contextlib
module, _, name = os.environ.get("DANGAN_MAIN", "%s").partition(":")
main = getattr(importlib.import_module(module), name)
profile = cProfile.Profile()
out = io.StringIO()
with contextlib.redirect_stdout(out):
    profile.enable()
    code = main([sys.argv[3], "--config", sys.argv[1], *sys.argv[4:]])
    profile.disable()
profile.dump_stats(sys.argv[2])
print(out.getvalue())
sys.exit(code)
""" % DEFAULT_MAIN


# -- the command line ------------------------------------------------------------------------
def parser(doc: str | None, work_dir: str, work_help: str, rev_default: str | None = "HEAD",
           working_tree: bool = True) -> argparse.ArgumentParser:
    """The options every benchmark has: ``--dir`` (its work folder), ``--rev`` (the revision measured)
    and, where the script can also measure the installed tree, ``--working-tree``."""
    p = argparse.ArgumentParser(description=(doc or "").split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dir", type=Path, default=Path(work_dir), help=f"{work_help} (default: %(default)s)")
    if rev_default is None:
        p.add_argument("--rev", default=None,
                       help="measure this git revision of dangan (exported under --dir) instead of the"
                            " working tree, which others may be editing during the run")
    else:
        p.add_argument("--rev", default=rev_default,
                       help="git revision of dangan to measure, exported (default: %(default)s)")
    if working_tree:
        p.add_argument("--working-tree", action="store_true",
                       help="measure the installed working tree instead")
    return p


class Bench(NamedTuple):
    """Where a benchmark runs and what it measures."""

    dangan: str  # the dangan command to run (the pinned revision's, or the installed one)
    work: Path
    repo: Path
    commit: str  # the commit measured, or "working-tree"


def start(args: argparse.Namespace, dangan: str | None = None) -> Bench:
    """Make the work folder and pin the revision measured (unless ``--working-tree``)."""
    work: Path = args.dir.resolve()
    work.mkdir(parents=True, exist_ok=True)
    installed = dangan or str(Path(sys.executable).parent / "dangan")
    if getattr(args, "working_tree", False) or args.rev is None:
        return Bench(installed, work, REPO, "working-tree")
    commit = pin_sources(REPO, args.rev, work)
    return Bench(dangan or str(launcher(work, commit)), work, REPO, commit)


def launcher(work: Path, commit: str) -> Path:
    """The ``dangan`` command of a revision pinned by pin_sources (its own entry point)."""
    return work / f"src-{commit[:12]}" / "bin" / "dangan"


# -- the sources measured --------------------------------------------------------------------
def q(path: Path | str) -> str:
    return shlex.quote(str(path))


def _entry_point(pyproject: str) -> str:
    """The revision's own ``dangan`` console script (it moved from dangan.daemon.cli to dangan.cli.main)."""
    try:
        return tomllib.loads(pyproject)["project"]["scripts"]["dangan"]
    except (tomllib.TOMLDecodeError, KeyError):
        return DEFAULT_MAIN


def pin_sources(repo: Path, rev: str, work: Path) -> str:
    """Run the dangan of git revision ``rev`` instead of the working tree (which colleagues edit).

    Exports the revision's packages (those of PACKAGES it has) under ``work`` and puts them first on
    PYTHONPATH, for this process and every child: the editable install's finder comes after the path
    finder, so the exported ``dangan.<package>`` win. Writes ``bin/dangan`` there, which runs the
    revision's own entry point, and sets DANGAN_MAIN to it. Returns the full commit id.
    """
    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                              check=True).stdout
    commit = git("rev-parse", "--verify", rev + "^{commit}").strip()
    present = set(git("ls-tree", "--name-only", commit).split())
    packages = [name for name in PACKAGES if name in present]
    entry = _entry_point(git("show", f"{commit}:pyproject.toml") if "pyproject.toml" in present else "")
    base = work / f"src-{commit[:12]}"
    pkg = base / "pkg"
    command = launcher(work, commit)
    if not (pkg / "dangan").is_dir() or not command.exists():
        if base.exists():
            shutil.rmtree(base)
        (base / "src").mkdir(parents=True)
        subprocess.run(f"git -C {q(repo)} archive {commit} {' '.join(packages)}"
                       f" | tar -x -C {q(base / 'src')}", shell=True, check=True)
        (pkg / "dangan").mkdir(parents=True)
        for name in packages:
            (pkg / "dangan" / name).symlink_to(base / "src" / name)
        module, _, function = entry.partition(":")
        command.parent.mkdir()
        # the guard: forkserver/spawn workers import the main script again as __mp_main__
        command.write_text(f"#!{sys.executable}\nimport sys\nfrom {module} import {function}\n"
                           f"if __name__ == '__main__':\n    sys.exit({function}())\n", encoding="utf-8")
        command.chmod(0o755)
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(pkg), os.environ.get("PYTHONPATH")]))
    os.environ["DANGAN_MAIN"] = entry
    sys.path.insert(0, str(pkg))
    import dangan.config

    assert any(str(pkg) in p for p in dangan.config.__path__), dangan.config.__path__
    return commit


def source_digest() -> str:
    """A digest of the dangan sources under test (every package, as imported: the pinned revision's
    when pinned): others edit the working tree while we measure."""
    h = hashlib.sha256()
    for name in PACKAGES:
        try:
            package = importlib.import_module(f"dangan.{name}")
        except ImportError:
            continue  # an old revision without this package
        for folder in package.__path__:
            for path in sorted(Path(folder).rglob("*")):
                if path.suffix in (".py", ".yaml") and path.is_file():
                    h.update(f"{name}/{path.relative_to(folder)}".encode() + b"\0" + path.read_bytes())
    return h.hexdigest()[:16]


def git_facts(repo: Path) -> dict:
    """The commit of the working tree and its uncommitted changes to dangan's packages."""
    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                                  check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return ""

    return {"commit": git("rev-parse", "--short", "HEAD"),
            "dirty": git("status", "--short", "--", *PACKAGES).splitlines()}


# -- the machine -----------------------------------------------------------------------------
def stamp() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def machine_facts() -> dict:
    def sh(cmd: str) -> str:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout.strip()

    return {"date": stamp(), "nproc": os.cpu_count(), "kernel": platform.release(),
            "python": platform.python_version(),
            "cpu": sh("lscpu | sed -n 's/^Model name: *//p'"),
            "mem": sh("free -h | awk '/^Mem/ {print $2}'"),
            "fs": sh("df -hT /tmp | tail -1"),
            "lsyncd": sh("lsyncd --version 2>&1 | head -1"),
            "rsync": sh("rsync --version | head -1"),
            "find": sh("find --version | head -1"),
            "sqlite": sh(f"{sys.executable} -c 'import sqlite3; print(sqlite3.sqlite_version)'"),
            "watchdog": sh(f"{sys.executable} -c"
                           " 'import importlib.metadata as m; print(m.version(\"watchdog\"))'"),
            "loadavg": sh("cat /proc/loadavg"),
            "inotify": sh("cat /proc/sys/fs/inotify/max_user_watches /proc/sys/fs/inotify/max_queued_events"
                          " | paste -sd' '")}


def set_language_en(config: Path) -> None:
    """Benchmarks parse dangan's output: run it in English."""
    text = config.read_text(encoding="utf-8")
    text, n = re.subn(r"(?m)^language:\s.*$", "language: en", text, count=1)
    assert n == 1
    config.write_text(text, encoding="utf-8")


# -- timing ----------------------------------------------------------------------------------
def med(values: list[float]) -> float:
    """The median, ignoring NaN (a run that did not finish)."""
    values = [v for v in values if v == v]  # NaN != NaN
    return statistics.median(values) if values else float("nan")


def descendants(root: int) -> list[int]:
    """``root`` and every process below it, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(b")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += children.get(pid, [])
    return found


def watch_rclone(root: int, started: float, seen: dict[int, list[float]], stop: threading.Event) -> None:
    """First and last time each ``rclone copy`` below ``root`` was seen (every 20 ms)."""
    while not stop.is_set():
        now = time.perf_counter() - started
        for pid in descendants(root):
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    cmd = f.read().split(b"\0")
            except OSError:
                continue
            if cmd and cmd[0].endswith(b"/rclone") and len(cmd) > 1 and cmd[1] == b"copy":
                seen.setdefault(pid, [now, now])[1] = now
        stop.wait(0.02)
